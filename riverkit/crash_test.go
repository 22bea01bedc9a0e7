package riverkit_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/riverkit"
)

// The crash tests run workers in child processes (this test binary, made
// to run TestCrashChild) and kill them with SIGKILL: no deferred call, no
// River shutdown, no ROLLBACK sent. These variables tell the child what
// to be.
const (
	crashRoleEnv  = "HOOKGUARD_CRASH_ROLE"  // crashTx, crashPlain or crashBlock
	crashURLEnv   = "HOOKGUARD_CRASH_URL"   // the database
	crashQueueEnv = "HOOKGUARD_CRASH_QUEUE" // the River queue
)

// The roles of a child process.
const (
	// crashTx works the queue with NewTxQueue: it records the attempt
	// (autocommit, outside the job's transaction), then writes the event
	// to effects in the job's transaction and sleeps 0-20ms in it.
	crashTx = "tx"
	// crashPlain works the queue with NewQueue: it writes the event to
	// effects with autocommit, then sleeps 0-20ms before returning, after
	// which River completes the job in a transaction of its own.
	crashPlain = "plain"
	// crashBlock works the queue with NewQueue: it records that it
	// started, prints crashStarted, and blocks until its context ends.
	crashBlock = "block"
)

// Lines a child prints on its standard output.
const (
	crashReady   = "CRASH-CHILD-READY"   // the queue runs
	crashWorking = "CRASH-CHILD-WORKING" // crashTx's or crashPlain's first handler call began
	crashStarted = "CRASH-CHILD-STARTED" // crashBlock's handler recorded it started
)

// The queue configuration of the kill loop: River's rescuer hands a job
// a killed child left running to another worker once it has been running
// for crashRescueAfter; the handlers take at most about 20ms, well within
// crashAttemptTimeout.
const (
	crashAttemptTimeout = 500 * time.Millisecond
	crashRescueAfter    = time.Second
	// crashMaxAttempts is high enough that no event is dead-lettered
	// because kills cut off its attempts: this test is about duplicates.
	crashMaxAttempts = 50
)

const crashSchema = `
CREATE TABLE effects (seq bigserial, event_id text NOT NULL); -- no unique constraint: duplicates must be visible
CREATE TABLE attempts (seq bigserial, event_id text NOT NULL);
CREATE TABLE started (event_id text NOT NULL, attempt int NOT NULL);`

// TestCrashChild is the worker process of the crash tests; it runs only
// in a child process started by crashChild.
func TestCrashChild(t *testing.T) {
	role := os.Getenv(crashRoleEnv)
	if role == "" {
		t.Skip("the worker process of the crash tests; they run it")
	}
	pc, err := pgxpool.ParseConfig(os.Getenv(crashURLEnv))
	require.NoError(t, err)
	// A TxHandler holds the job's connection while it writes the attempt
	// on another: two per worker, and River's own.
	pc.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	require.NoError(t, err)
	defer pool.Close()

	opts := []riverkit.Option{
		riverkit.WithQueue(os.Getenv(crashQueueEnv)),
		riverkit.WithWorkers(8),
		riverkit.WithBackoff(0, 0),
		riverkit.WithMaxAttempts(crashMaxAttempts),
		riverkit.WithAttemptTimeout(crashAttemptTimeout),
		riverkit.WithRescueAfter(crashRescueAfter),
		riverkit.WithLogger(quiet),
		riverkit.WithMaintenance(0, 1),
		riverkit.WithRiverConfig(fast),
	}
	var working sync.Once
	var q *riverkit.Queue
	switch role {
	case crashTx:
		q, err = riverkit.NewTxQueue(t.Context(), pool, riverkit.TxHandlerFunc(func(ctx context.Context, tx pgx.Tx, e hookguard.Event) error {
			working.Do(func() { fmt.Println(crashWorking) })
			if _, err := pool.Exec(ctx, "INSERT INTO attempts (event_id) VALUES ($1)", e.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO effects (event_id) VALUES ($1)", e.ID); err != nil {
				return err
			}
			return sleepCtx(ctx, time.Duration(rand.IntN(21))*time.Millisecond)
		}), opts...)
	case crashPlain:
		q, err = riverkit.NewQueue(t.Context(), pool, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			working.Do(func() { fmt.Println(crashWorking) })
			if _, err := pool.Exec(ctx, "INSERT INTO effects (event_id) VALUES ($1)", e.ID); err != nil {
				return err
			}
			return sleepCtx(ctx, time.Duration(rand.IntN(21))*time.Millisecond)
		}), opts...)
	case crashBlock:
		// The child is killed while its handler blocks; its own timeouts
		// are long, so that only the kill ends the attempt.
		opts = append(opts, riverkit.WithWorkers(1), riverkit.WithAttemptTimeout(time.Minute), riverkit.WithRescueAfter(2*time.Minute))
		q, err = riverkit.NewQueue(t.Context(), pool, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			if _, err := pool.Exec(ctx, "INSERT INTO started (event_id, attempt) VALUES ($1, $2)", e.ID, e.Attempt); err != nil {
				return err
			}
			fmt.Println(crashStarted)
			<-ctx.Done()
			return ctx.Err()
		}), opts...)
	default:
		t.Fatalf("unknown role %q", role)
	}
	require.NoError(t, err)

	// The parent ends a child it does not kill by closing its standard
	// input (or by dying itself).
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	fmt.Println(crashReady)
	<-eof
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, q.Shutdown(ctx))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// crashChild is a worker process running TestCrashChild.
type crashChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string   // the marker lines it printed
	done  chan struct{} // closed when its output ended (it exited)

	mu  sync.Mutex
	out []string // its last lines of output, for failure messages

	reap    sync.Once
	waitErr error // cmd.Wait's, once reaped
}

func startCrashChild(t *testing.T, role, url, queue string) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), crashRoleEnv+"="+role, crashURLEnv+"="+url, crashQueueEnv+"="+queue)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	c := &crashChild{cmd: cmd, stdin: stdin, lines: make(chan string, 8), done: make(chan struct{})}
	go func() { // ends when the child exits and its output is closed
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			if c.out = append(c.out, line); len(c.out) > 40 {
				c.out = c.out[1:]
			}
			c.mu.Unlock()
			if line == crashReady || line == crashWorking || line == crashStarted {
				select {
				case c.lines <- line:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(c.kill) // a child the test did not end (it failed) dies with it
	return c
}

// output is the child's last lines of output.
func (c *crashChild) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.out, "\n")
}

// await waits for the child to print line, passing over the other
// marker lines.
func (c *crashChild) await(t *testing.T, line string, timeout time.Duration) {
	t.Helper()
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case got := <-c.lines:
			if got == line {
				return
			}
		case <-c.done:
			require.FailNow(t, "the child exited before printing "+line, "its output:\n%s", c.output())
		case <-tm.C:
			require.FailNow(t, fmt.Sprintf("the child printed no %s within %v", line, timeout), "its output:\n%s", c.output())
		}
	}
}

// kill sends SIGKILL to the child, if it still runs, and reaps it.
func (c *crashChild) kill() {
	c.reap.Do(func() {
		_ = c.cmd.Process.Kill()
		<-c.done // the output closes when the process is gone
		c.waitErr = c.cmd.Wait()
	})
}

// stop closes the child's standard input, which makes it shut its queue
// down and exit, and checks that it exited cleanly.
func (c *crashChild) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.stdin.Close())
	tm := time.NewTimer(30 * time.Second)
	defer tm.Stop()
	select {
	case <-c.done:
	case <-tm.C:
		require.FailNow(t, "the child did not exit within 30s of its input closing", "its output:\n%s", c.output())
	}
	c.reap.Do(func() { c.waitErr = c.cmd.Wait() })
	require.NoError(t, c.waitErr, "the child failed; its output:\n%s", c.output())
}

// startCrashDB starts a server for a crash test and creates River's
// tables, the dedupe table and the tables the children's handlers write.
func startCrashDB(t *testing.T) *pgtest.Server {
	t.Helper()
	// Room for a child's pool, the connections of killed children that
	// the server has not reaped yet, and the test's own.
	srv := pgtest.Start(t, pgtest.WithFsync(false), pgtest.WithSetting("max_connections", "200"))
	require.NoError(t, riverkit.Migrate(t.Context(), srv.Pool()))
	_, err := srv.Pool().Exec(t.Context(), crashSchema)
	require.NoError(t, err)
	return srv
}

// insertEvents inserts the jobs of evt_0 ... evt_<n-1> into queue, as
// Queue.Enqueue does, with an insert-only River client: no worker runs in
// this process.
func insertEvents(t *testing.T, pool *pgxpool.Pool, queue string, n int) {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: quiet})
	require.NoError(t, err)
	params := make([]river.InsertManyParams, n)
	for i := range params {
		e := hookguard.Event{Provider: "test", ID: fmt.Sprintf("evt_%d", i), Type: "test.event", ReceivedAt: time.Now(), Body: []byte(`{}`)}
		params[i] = river.InsertManyParams{Args: riverkit.EventJobArgs(e), InsertOpts: &river.InsertOpts{Queue: queue, MaxAttempts: crashMaxAttempts}}
	}
	_, err = client.InsertMany(t.Context(), params)
	require.NoError(t, err)
}

// jobStates counts the queue's event jobs by state.
func jobStates(t *testing.T, pool *pgxpool.Pool, queue string) map[string]int {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT state::text, count(*)::int FROM river_job WHERE kind = $1 AND queue = $2 GROUP BY state", riverkit.EventKind, queue)
	require.NoError(t, err)
	states, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
		s string
		n int
	}, error) {
		var v struct {
			s string
			n int
		}
		err := r.Scan(&v.s, &v.n)
		return v, err
	})
	require.NoError(t, err)
	m := map[string]int{}
	for _, v := range states {
		m[v.s] = v.n
	}
	return m
}

// awaitState polls the database (the workers are other processes) until
// cond holds, for at most timeout.
func awaitState(t *testing.T, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, fmt.Sprintf("timed out after %v waiting for %s", timeout, what()))
		}
		<-tick.C
	}
}

// crashRun is what one kill loop did.
type crashRun struct {
	kills           int           // SIGKILLs sent
	killPhase, tail time.Duration // the kill loop; the last child's run to the end
	doneBeforeLast  int           // jobs completed when the last child started
}

// killLoop works the n events of queue with child workers of role: it
// starts one, lets it work a random 100-700ms after its first handler
// call began, and kills it with SIGKILL; again, while events wait that
// no worker took (for at most killBudget); then it lets a last child run
// until every job is completed, and stops it.
func killLoop(t *testing.T, srv *pgtest.Server, role, queue string, n int) crashRun {
	t.Helper()
	const killBudget = 20 * time.Second
	pool := srv.Pool()
	var r crashRun
	start := time.Now()
	for time.Since(start) < killBudget && jobStates(t, pool, queue)["available"] > 0 {
		c := startCrashChild(t, role, srv.URL(), queue)
		c.await(t, crashWorking, 30*time.Second)
		time.Sleep(time.Duration(100+rand.IntN(601)) * time.Millisecond) // the random moment of the kill
		c.kill()
		r.kills++
	}
	r.killPhase = time.Since(start)

	// The jobs the kills left running are retried once River's rescuer,
	// on the leader, finds them running for longer than RescueAfter; it
	// runs as a client becomes leader, then every 30s. Letting
	// RescueAfter pass first means the last child's first rescuer run
	// takes them all. (A killed leader keeps leadership until its TTL,
	// 15s, runs out; the last child then wins the next election, within
	// River's 5-6s elect interval.)
	time.Sleep(crashRescueAfter)
	r.doneBeforeLast = jobStates(t, pool, queue)["completed"]
	tailStart := time.Now()
	last := startCrashChild(t, role, srv.URL(), queue)
	last.await(t, crashReady, 30*time.Second)
	var states map[string]int
	awaitState(t, 75*time.Second, func() bool {
		states = jobStates(t, pool, queue)
		return states["completed"] == n
	}, func() string { return fmt.Sprintf("all %d jobs completed; job states: %v", n, states) })
	last.stop(t)
	r.tail = time.Since(tailStart)
	return r
}

// TestExactlyOnceUnderSIGKILL kills the worker process with SIGKILL at
// random moments while it handles 1,000 events, then checks that the
// table its handler writes in the job's transaction (NewTxQueue) holds
// each event exactly once. The control run does the same to a plain
// NewQueue whose handler writes with autocommit: an event whose write
// committed but whose job was not completed yet when the kill came is
// handled again (at least once, not exactly once).
func TestExactlyOnceUnderSIGKILL(t *testing.T) {
	// The two runs use servers of their own; most of their time is spent
	// waiting for River's leadership and rescuer, so they run together.
	t.Run("tx", func(t *testing.T) {
		t.Parallel()
		const n = 1000
		srv := startCrashDB(t)
		pool := srv.Pool()
		queue := queueName(t)
		insertEvents(t, pool, queue, n)
		r := killLoop(t, srv, crashTx, queue, n)

		var effects, distinct, attempts, rescued int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT event_id) FROM effects").Scan(&effects, &distinct))
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM attempts").Scan(&attempts))
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE kind = $1 AND metadata ? 'river:rescue_count'", riverkit.EventKind).Scan(&rescued))
		assert.Equal(t, n, effects, "effects rows: each event must be written exactly once")
		assert.Equal(t, n, distinct, "distinct events in effects")
		assert.Equal(t, map[string]int{"completed": n}, jobStates(t, pool, queue))
		cutOff := attempts - n // attempts whose transaction never committed
		t.Logf("tx: %d events, %d kills in %v (%d jobs completed), last worker ran %v; %d attempts, %d cut off by a kill mid-handler, %d jobs rescued",
			n, r.kills, r.killPhase.Round(time.Millisecond), r.doneBeforeLast, r.tail.Round(time.Millisecond), attempts, cutOff, rescued)
		assert.Positive(t, cutOff, "no kill landed while a handler ran: the test proved nothing")
	})

	t.Run("control", func(t *testing.T) {
		t.Parallel()
		const n = 300
		srv := startCrashDB(t)
		pool := srv.Pool()
		queue := queueName(t)
		insertEvents(t, pool, queue, n)
		r := killLoop(t, srv, crashPlain, queue, n)

		var effects, distinct, twice int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT event_id) FROM effects").Scan(&effects, &distinct))
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM (SELECT event_id FROM effects GROUP BY event_id HAVING count(*) > 1) d").Scan(&twice))
		assert.Equal(t, n, distinct, "every event must be handled at least once")
		assert.Equal(t, map[string]int{"completed": n}, jobStates(t, pool, queue))
		// Not asserted: whether a kill lands between a handler's write
		// and River's completion of its job is up to chance.
		t.Logf("control (NewQueue, autocommit write): %d events, %d kills in %v (%d jobs completed), last worker ran %v; %d effects rows: %d events handled more than once, %d extra handlings",
			n, r.kills, r.killPhase.Round(time.Millisecond), r.doneBeforeLast, r.tail.Round(time.Millisecond), effects, twice, effects-distinct)
	})
}

// TestWorkerKilledMidHandlerIsRescued: a worker process killed while its
// handler runs leaves the job running; River's rescuer makes it
// retryable and a worker in another process handles it, once, as
// attempt 2.
//
// The time to recovery is bounded by: the dead child was River's leader
// (the only client when it started), and its leadership lasts until its
// TTL runs out (15s after it was elected or last renewed) unless it
// resigns, which a killed process cannot; the surviving client bids
// every 5-6s, so it leads within about 21s of the child's election. As
// leader it runs the rescuer at once (after a random 0-1s start stagger)
// and then every 30s: the job is rescued at the first run after it has
// been running for RescueAfter (2s here; long past by then). The rescued
// job is retryable; River's scheduler, also on the leader, every 5s,
// makes it available, and the worker fetches it. So about 15-27s here;
// in general up to the leader's TTL plus an election interval, plus
// RescueAfter, plus the rescuer's 30s period when the leader was alive
// and ran its rescuer just before the job passed RescueAfter.
func TestWorkerKilledMidHandlerIsRescued(t *testing.T) {
	srv := startCrashDB(t)
	pool := srv.Pool()
	queue := queueName(t)
	insertEvents(t, pool, queue, 1)

	c := startCrashChild(t, crashBlock, srv.URL(), queue)
	c.await(t, crashReady, 30*time.Second)
	c.await(t, crashStarted, 30*time.Second)
	var started int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM started WHERE event_id = 'evt_0' AND attempt = 1").Scan(&started))
	require.Equal(t, 1, started, "the child's handler recorded no start")
	c.kill()
	killed := time.Now()

	var state string
	var attempt int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT state::text, attempt FROM river_job WHERE kind = $1", riverkit.EventKind).Scan(&state, &attempt))
	require.Equal(t, "running", state, "the killed worker's job must be left running")
	require.Equal(t, 1, attempt)

	handled := make(chan hookguard.Event, 4)
	q := newTestQueue(t, pool, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		handled <- e
		return nil
	}), riverkit.WithRescueAfter(2*time.Second), riverkit.WithAttemptTimeout(time.Second))

	var e hookguard.Event
	tm := time.NewTimer(60 * time.Second)
	defer tm.Stop()
	select {
	case e = <-handled:
	case <-tm.C:
		require.FailNow(t, "the second worker did not handle the event within 60s of the kill", "job states: %v", jobStates(t, pool, queue))
	}
	recovery := time.Since(killed)
	t.Logf("time to recovery (kill to the second worker's handler call): %v", recovery.Round(time.Millisecond))
	assert.Equal(t, "evt_0", e.ID)
	assert.Equal(t, 2, e.Attempt, "the killed attempt counts: the second worker's is attempt 2")

	var states map[string]int
	awaitState(t, 10*time.Second, func() bool {
		states = jobStates(t, pool, queue)
		return states["completed"] == 1
	}, func() string { return fmt.Sprintf("the job completed; job states: %v", states) })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, q.Shutdown(ctx))
	assert.Empty(t, handled, "the event was handled more than once")
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM started").Scan(&started))
	assert.Equal(t, 1, started, "only the killed child's handler started")
}
