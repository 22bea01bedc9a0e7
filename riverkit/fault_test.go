package riverkit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/riverkit"
)

// The tests in this file run a receiver on riverkit behind a real HTTP
// server, with senders that retry a delivery until it is answered 2xx, as
// Stripe and GitHub do, while PostgreSQL is killed, restarted or shared.

// startDurableServer starts a server whose commits survive a crash of
// PostgreSQL (Kill): fsync stays off for speed, but synchronous_commit is
// on, since without it the last commits before a crash are lost, and a
// receiver answers 200 once its COMMIT returned.
func startDurableServer(t *testing.T) *pgtest.Server {
	t.Helper()
	srv := pgtest.Start(t, pgtest.WithFsync(false), pgtest.WithSetting("synchronous_commit", "on"))
	require.NoError(t, riverkit.Migrate(t.Context(), srv.Pool()))
	return srv
}

// faultQueueOptions are the options of the queues in this file: the test
// options, workers enough to keep up with the senders, attempts enough to outlast an outage, and a job stranded in
// "running" by the crash (its fetch committed, the reply lost) rescued
// after seconds rather than minutes.
func faultQueueOptions(t *testing.T, opts ...riverkit.Option) []riverkit.Option {
	return testOptions(t, append([]riverkit.Option{
		riverkit.WithWorkers(32), // River fetches at most this many jobs at once
		riverkit.WithMaxAttempts(25),
		riverkit.WithAttemptTimeout(5 * time.Second),
		riverkit.WithRescueAfter(6 * time.Second),
	}, opts...))
}

// httpReceiver runs r behind an httptest server, closed when the test ends.
func httpReceiver(t *testing.T, r *hookguard.Receiver) string {
	t.Helper()
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts.URL
}

// tally counts a sender's answers.
type tally struct {
	accepted, duplicate, unavailable atomic.Int64 // 200, 200 duplicate, 503
	noRetryAfter                     atomic.Int64 // 503s without Retry-After
	transport                        atomic.Int64 // requests that got no answer

	mu    sync.Mutex
	other map[int]int // any other status
}

func (c *tally) unexpected() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.other
}

// sender delivers webhooks over HTTP like Stripe or GitHub: it retries a
// delivery, after a short pause, until it is answered 2xx. (Real senders
// wait longer, up to Retry-After; the pause keeps the test short.)
type sender struct {
	client *http.Client
	pause  time.Duration
	tally  tally
}

func newSender(t *testing.T) *sender {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	t.Cleanup(tr.CloseIdleConnections)
	return &sender{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, pause: 10 * time.Millisecond}
}

// answer is what one request got.
type answer struct {
	status     int
	duplicate  bool
	retryAfter string
	sent       time.Time // when the request was sent
}

// post sends one delivery of id to url.
func (s *sender) post(ctx context.Context, url, id string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(`{"id":"`+id+`"}`))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("X-Id", id)
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		s.tally.transport.Add(1)
		return answer{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	a := answer{status: resp.StatusCode, duplicate: resp.Header.Get(hookguard.DuplicateHeader) == "true", retryAfter: resp.Header.Get("Retry-After"), sent: sent}
	switch {
	case a.status == http.StatusOK && a.duplicate:
		s.tally.duplicate.Add(1)
	case a.status == http.StatusOK:
		s.tally.accepted.Add(1)
	case a.status == http.StatusServiceUnavailable:
		s.tally.unavailable.Add(1)
		if a.retryAfter == "" {
			s.tally.noRetryAfter.Add(1)
		}
	default:
		s.tally.mu.Lock()
		if s.tally.other == nil {
			s.tally.other = map[int]int{}
		}
		s.tally.other[a.status]++
		s.tally.mu.Unlock()
	}
	return a, nil
}

// deliver posts id to url until it is answered 2xx, and returns that
// answer. It gives up when ctx ends, and on a status other than 2xx and
// 503 (a sender may stop retrying on a 4xx; the tally records it).
func (s *sender) deliver(ctx context.Context, url, id string) (answer, error) {
	for {
		a, err := s.post(ctx, url, id)
		switch {
		case err == nil && a.status/100 == 2:
			return a, nil
		case err == nil && a.status != http.StatusServiceUnavailable:
			return a, fmt.Errorf("%s answered %d", id, a.status)
		}
		select {
		case <-ctx.Done():
			return a, ctx.Err()
		case <-time.After(s.pause):
		}
	}
}

// pollUntil polls cond until it holds, and fails the test with what's
// message after timeout.
func pollUntil(t *testing.T, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, fmt.Sprintf("not within %v: %s", timeout, what()))
		}
		time.Sleep(20 * time.Millisecond) // polling the database and workers
	}
}

// waitSenders waits until the senders of wg are done, and fails the test
// with what's message after timeout (the test's context then stops them).
func waitSenders(t *testing.T, wg *sync.WaitGroup, timeout time.Duration, what func() string) {
	t.Helper()
	done := make(chan struct{})
	go func() { // ends when the senders do, which the failure's cancel ensures
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		require.FailNow(t, fmt.Sprintf("senders not done within %v: %s", timeout, what()))
	}
}

// eventJobStates counts the queue's event jobs by state.
func eventJobStates(t *testing.T, pool *pgxpool.Pool, queue string) map[string]int {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT state::text, count(*) FROM river_job WHERE kind = $1 AND queue = $2 GROUP BY 1", riverkit.EventKind, queue)
	require.NoError(t, err)
	m, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kv struct {
		k string
		v int
	}, err error) {
		err = r.Scan(&kv.k, &kv.v)
		return kv, err
	})
	require.NoError(t, err)
	out := map[string]int{}
	for _, kv := range m {
		out[kv.k] = kv.v
	}
	return out
}

// waitJobsFinal waits until every event job of the queue is completed or
// discarded, so that no handler runs any more, and returns the states.
func waitJobsFinal(t *testing.T, pool *pgxpool.Pool, queue string, timeout time.Duration) map[string]int {
	t.Helper()
	var states map[string]int
	pollUntil(t, timeout, func() bool {
		states = eventJobStates(t, pool, queue)
		total := 0
		for _, n := range states {
			total += n
		}
		return total == states["completed"]+states["discarded"]
	}, func() string { return fmt.Sprintf("event jobs not finished: %v", states) })
	return states
}

// effectsHandler records a TxHandler's effect, the event ID, in the job's
// transaction. The table has no unique constraint: a second effect of one
// event would show.
func effectsHandler(t *testing.T, pool *pgxpool.Pool) (riverkit.TxHandler, *atomic.Int64) {
	t.Helper()
	_, err := pool.Exec(t.Context(), "CREATE TABLE effects (event_id text NOT NULL)")
	require.NoError(t, err)
	var calls atomic.Int64
	return riverkit.TxHandlerFunc(func(ctx context.Context, tx pgx.Tx, e hookguard.Event) error {
		calls.Add(1)
		_, err := tx.Exec(ctx, "INSERT INTO effects (event_id) VALUES ($1)", e.ID)
		return err
	}), &calls
}

// effectCounts returns how many effects each event has.
func effectCounts(t *testing.T, pool *pgxpool.Pool) map[string]int {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT event_id, count(*) FROM effects GROUP BY 1")
	require.NoError(t, err)
	out := map[string]int{}
	var id string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil })
	require.NoError(t, err)
	return out
}

// TestPostgresKilledDuringDeliveries: 10,000 distinct deliveries from 32
// concurrent senders; once a third are acknowledged PostgreSQL is killed
// (SIGKILL to the postmaster) and restarted a second later while the
// senders go on. Every delivery answered 200 is handled; no answer is
// other than 200 or 503, and every 503 carries Retry-After. With a plain
// Handler an event may be handled twice (counted and logged); with a
// TxHandler every event's effect is in the database exactly once.
func TestPostgresKilledDuringDeliveries(t *testing.T) {
	n := scaled(10000, 2000)
	const senders = 32
	for _, tc := range []struct {
		name string
		tx   bool
	}{
		{"handler", false},
		{"tx handler", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			t.Cleanup(func() { t.Logf("subtest took %v", time.Since(began)) })
			srv := startDurableServer(t)
			pool, qname := srv.Pool(), queueName(t)
			cnt := testkit.NewCounter()
			var q *riverkit.Queue
			var calls *atomic.Int64
			var err error
			if tc.tx {
				var h riverkit.TxHandler
				h, calls = effectsHandler(t, pool)
				q, err = riverkit.NewTxQueue(t.Context(), pool, h, faultQueueOptions(t)...)
			} else {
				q, err = riverkit.NewQueue(t.Context(), pool, cnt, faultQueueOptions(t)...)
			}
			require.NoError(t, err)
			stopAtEnd(t, q)
			url := httpReceiver(t, newReceiver(t, q, hookguard.WithLogger(quiet)))
			s := newSender(t)

			ids := make(chan string, n)
			for i := range n {
				ids <- fmt.Sprintf("evt_%05d", i)
			}
			close(ids)
			var (
				acked     sync.Map // id → true, answered 2xx
				nAcked    atomic.Int64
				third     = make(chan struct{})
				restarted atomic.Int64 // unix nanos of the restart, 0 before
				firstOK   atomic.Int64 // unix nanos of the first 200 after it
				wg        sync.WaitGroup
				failures  = make(chan error, senders)
			)
			ctx := t.Context()
			start := time.Now()
			for range senders {
				wg.Go(func() {
					for id := range ids {
						a, err := s.deliver(ctx, url, id)
						if err != nil {
							failures <- err
							return
						}
						if r := restarted.Load(); r != 0 && a.sent.UnixNano() >= r {
							firstOK.CompareAndSwap(0, time.Now().UnixNano())
						}
						acked.Store(id, true)
						if nAcked.Add(1) == int64(n/3) {
							close(third)
						}
					}
				})
			}
			t.Cleanup(wg.Wait) // runs first, after t.Context() is cancelled

			select {
			case <-third:
			case err := <-failures:
				require.NoError(t, err)
			case <-time.After(60 * time.Second):
				require.FailNow(t, fmt.Sprintf("only %d of %d deliveries acknowledged within 60s", nAcked.Load(), n/3))
			}
			killed := time.Now()
			ackedAtKill := nAcked.Load()
			srv.Kill()
			killTook := time.Since(killed)
			time.Sleep(time.Second) // the outage's length, not a synchronisation
			unavailableBefore := s.tally.unavailable.Load()
			restarting := time.Now()
			srv.Restart()
			restarted.Store(time.Now().UnixNano())
			outage, restartTook := time.Since(killed), time.Since(restarting)

			waitSenders(t, &wg, 3*time.Minute, func() string { return fmt.Sprintf("%d of %d deliveries acknowledged", nAcked.Load(), n) })
			close(failures)
			for err := range failures {
				assert.NoError(t, err)
			}
			delivered := time.Since(start)
			require.EqualValues(t, n, nAcked.Load(), "every delivery must be acknowledged in the end")
			assert.Empty(t, s.tally.unexpected(), "answers other than 200 and 503")
			assert.Zero(t, s.tally.noRetryAfter.Load(), "503 answers without Retry-After")
			assert.Zero(t, s.tally.transport.Load(), "requests without an answer")
			assert.Positive(t, unavailableBefore, "the senders got no 503 while PostgreSQL was down")

			var handled func() int
			if tc.tx {
				handled = func() int { return len(effectCounts(t, pool)) }
			} else {
				handled = cnt.Distinct
			}
			// Under -race the TxHandler's jobs (a transaction each, on the
			// pool's 4 connections) finish about 20s after the deliveries.
			pollUntil(t, 2*time.Minute, func() bool { return handled() == n },
				func() string { return fmt.Sprintf("%d of %d acknowledged events handled", handled(), n) })
			allHandled := time.Since(start)
			states := waitJobsFinal(t, pool, qname, 60*time.Second)
			allFinal := time.Since(start)
			assert.Equal(t, map[string]int{"completed": n}, states, "one job per event, each completed")

			counts := cnt.Snapshot()
			if tc.tx {
				counts = effectCounts(t, pool)
			}
			twice := 0
			acked.Range(func(k, _ any) bool {
				c := counts[k.(string)]
				assert.Positive(t, c, "%s was answered 200 but never handled", k)
				if c > 1 {
					twice++
				}
				return true
			})
			if tc.tx {
				assert.Zero(t, twice, "events whose effect is in the database more than once")
			}
			recovery := time.Duration(0)
			if f := firstOK.Load(); f != 0 {
				recovery = time.Duration(f - restarted.Load())
			}
			t.Logf("%d deliveries from %d senders in %v, all handled after %v, all jobs completed after %v (%s): %d acknowledged when killed; outage %v (Kill %v, 1s down, Restart %v); first 200 %v after the restart; %d answers 503 (all with Retry-After), %d duplicates; %d events handled twice",
				n, senders, delivered.Round(time.Millisecond), allHandled.Round(time.Millisecond), allFinal.Round(time.Millisecond), raceNote(), ackedAtKill,
				outage.Round(time.Millisecond), killTook.Round(time.Millisecond), restartTook.Round(time.Millisecond), recovery.Round(time.Millisecond),
				s.tally.unavailable.Load(), s.tally.duplicate.Load(), twice)
			if tc.tx {
				t.Logf("TxHandler calls: %d for %d events (calls whose transaction failed were retried)", calls.Load(), n)
			}
		})
	}
}

// TestPostgresUnreachable: while PostgreSQL is down every delivery is
// answered 503 with Retry-After, never 200, and nothing is recorded;
// after the restart the same receiver answers 200 again within a bounded
// time, the events it accepts are handled, and the senders' retries of
// the events refused during the outage are accepted and handled once.
func TestPostgresUnreachable(t *testing.T) {
	srv := startDurableServer(t)
	pool, qname := srv.Pool(), queueName(t)
	cnt := testkit.NewCounter()
	q, err := riverkit.NewQueue(t.Context(), pool, cnt, faultQueueOptions(t)...)
	require.NoError(t, err)
	stopAtEnd(t, q)
	url := httpReceiver(t, newReceiver(t, q, hookguard.WithLogger(quiet)))
	s := newSender(t)
	ctx := t.Context()

	a, err := s.post(ctx, url, "before")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, a.status, "a delivery before the outage")
	require.False(t, a.duplicate, "a delivery before the outage")
	cnt.WaitDistinct(t, 1, 30*time.Second)
	var keysBefore int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable).Scan(&keysBefore))

	srv.Kill()
	const refused = 20
	for i := range refused {
		id := fmt.Sprintf("down_%d", i)
		a, err := s.post(ctx, url, id)
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, a.status, "%s while PostgreSQL is down", id)
		assert.NotEmpty(t, a.retryAfter, "%s: a 503 without Retry-After", id)
	}

	srv.Restart()
	restarted := time.Now()
	// The same receiver, not rebuilt: its pool reconnects by itself.
	var first answer
	pollUntil(t, 15*time.Second, func() bool {
		first, err = s.post(ctx, url, "after")
		require.NoError(t, err)
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, first.status)
		return first.status == http.StatusOK
	}, func() string { return "the receiver still answers 503 after the restart" })
	recovery := time.Since(restarted)
	assert.False(t, first.duplicate, "the first delivery after the restart must be accepted, not a duplicate")

	var jobs, keysAfter int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1 AND args->>'id' LIKE 'down_%'", riverkit.EventKind).Scan(&jobs))
	assert.Zero(t, jobs, "jobs inserted for deliveries answered 503")
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable).Scan(&keysAfter))
	assert.Equal(t, keysBefore+1, keysAfter, "dedupe records: those before the outage and the first accepted after it, none for refused deliveries")

	// The senders retry what was refused.
	for i := range refused {
		id := fmt.Sprintf("down_%d", i)
		a, err := s.deliver(ctx, url, id)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, a.status, "%s: the retry after recovery", id)
		assert.False(t, a.duplicate, "%s: the retry after recovery must be accepted, not a duplicate", id)
	}
	cnt.WaitDistinct(t, refused+2, 30*time.Second)
	waitJobsFinal(t, pool, qname, 30*time.Second)
	for id, k := range cnt.Snapshot() {
		assert.Equal(t, 1, k, "%s handled %d times", id, k)
	}
	assert.Zero(t, s.tally.transport.Load(), "requests without an answer")
	assert.Empty(t, s.tally.unexpected(), "answers other than 200 and 503")
	t.Logf("%d deliveries refused with 503 while down; the receiver answered 200 %v after the restart (%d 503s in between)",
		refused, recovery.Round(time.Millisecond), s.tally.unavailable.Load()-refused)
}

// TestTwoReceiversSharePostgres: two receivers, each with its own pool
// and queue (its own River client, as two processes would have), on one
// database. 1,000 events, each sent 100 times concurrently, the copies
// spread over both receivers: each event is accepted by exactly one copy
// and handled exactly once; every other copy is answered 200 duplicate.
func TestTwoReceiversSharePostgres(t *testing.T) {
	events, copies := scaled(1000, 200), 100
	const senders = 32
	srv := startDurableServer(t)
	cnts := [2]*testkit.Counter{testkit.NewCounter(), testkit.NewCounter()}
	var urls [2]string
	for i := range urls {
		pool := srv.Pool()
		if i == 1 {
			var err error
			pool, err = pgxpool.New(t.Context(), srv.URL())
			require.NoError(t, err)
			t.Cleanup(pool.Close)
		}
		q, err := riverkit.NewQueue(t.Context(), pool, cnts[i], faultQueueOptions(t)...)
		require.NoError(t, err)
		stopAtEnd(t, q)
		urls[i] = httpReceiver(t, newReceiver(t, q, hookguard.WithLogger(quiet)))
	}
	s := newSender(t)

	type delivery struct{ event, copy int }
	work := make(chan delivery, events*copies)
	for e := range events {
		for c := range copies {
			work <- delivery{e, c}
		}
	}
	close(work)
	accepted := make([]atomic.Int32, events)
	duplicates := make([]atomic.Int32, events)
	failures := make(chan error, senders)
	ctx := t.Context()
	cpu0 := cpuTimes(srv.PID())
	start := time.Now()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs first, after t.Context() is cancelled
	for range senders {
		wg.Go(func() {
			for d := range work {
				a, err := s.deliver(ctx, urls[d.copy%2], fmt.Sprintf("evt_%04d", d.event))
				if err != nil {
					failures <- err
					return
				}
				if a.duplicate {
					duplicates[d.event].Add(1)
				} else {
					accepted[d.event].Add(1)
				}
			}
		})
	}
	waitSenders(t, &wg, 8*time.Minute, func() string { return fmt.Sprintf("%d of %d copies still to send", len(work), events*copies) })
	elapsed := time.Since(start)
	cpu1 := cpuTimes(srv.PID())
	close(failures)
	for err := range failures {
		require.NoError(t, err)
	}
	assert.Empty(t, s.tally.unexpected(), "answers other than 200 and 503")
	assert.Zero(t, s.tally.noRetryAfter.Load(), "503 answers without Retry-After")
	assert.Zero(t, s.tally.transport.Load(), "requests without an answer")

	pollUntil(t, 60*time.Second, func() bool { return cnts[0].Distinct()+cnts[1].Distinct() >= events },
		func() string {
			return fmt.Sprintf("%d + %d of %d events handled", cnts[0].Distinct(), cnts[1].Distinct(), events)
		})
	waitJobsFinal(t, srv.Pool(), queueName(t), 60*time.Second)
	handled := cnts[0].Snapshot()
	for id, n := range cnts[1].Snapshot() {
		handled[id] += n
	}
	for e := range events {
		id := fmt.Sprintf("evt_%04d", e)
		assert.EqualValues(t, 1, accepted[e].Load(), "%s: copies answered 200 accepted", id)
		assert.EqualValues(t, copies-1, duplicates[e].Load(), "%s: copies answered 200 duplicate", id)
		assert.Equal(t, 1, handled[id], "%s: times handled", id)
	}
	t.Logf("%d requests (%d events x %d copies, %d senders, 2 receivers) in %v (%s), %.0f requests/s; %d answered 503 and retried",
		events*copies, events, copies, senders, elapsed.Round(time.Millisecond), raceNote(), float64(events*copies)/elapsed.Seconds(), s.tally.unavailable.Load())
	t.Logf("events handled by the first River client: %d, by the second: %d", cnts[0].Total(), cnts[1].Total())
	if cpu0.ok && cpu1.ok {
		t.Logf("CPU over the deliveries: test process (senders, HTTP, receivers, River) %v, PostgreSQL %v, of %v wall on %d CPUs",
			(cpu1.self - cpu0.self).Round(time.Millisecond), (cpu1.pg - cpu0.pg).Round(time.Millisecond), elapsed.Round(time.Millisecond), runtime.NumCPU())
	}
}

// cpu is CPU time used so far by this process and by the PostgreSQL
// server (the postmaster and its live children), from /proc.
type cpu struct {
	self, pg time.Duration
	ok       bool
}

func cpuTimes(pgPID int) cpu {
	self, ok := procCPU(os.Getpid())
	if !ok {
		return cpu{}
	}
	pg, _ := procCPU(pgPID)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := procParent(pid); ok && ppid == pgPID {
			c, _ := procCPU(pid)
			pg += c
		}
	}
	return cpu{self: self, pg: pg, ok: true}
}

// procFields returns the fields of /proc/PID/stat after the command name:
// [0] is field 3 (state).
func procFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

func procParent(pid int) (int, bool) {
	f := procFields(pid)
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// procCPU is utime+stime (fields 14 and 15), in clock ticks of 1/100 s
// (USER_HZ, 100 on Linux).
func procCPU(pid int) (time.Duration, bool) {
	f := procFields(pid)
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * 10 * time.Millisecond, true
}

// raceNote says whether the test binary was built with the race detector.
// scaled returns full, the size the issue asks for and the README
// reports, or small under -short and under the race detector: CI runs
// every test with -race, which slows this loopback traffic three to five
// times (the full sizes took 105 s and up to 3.5 minutes there), and
// checks the same properties at the small size. Run without -race for the
// full size: go test -run 'Postgres' ./riverkit.
func scaled(full, small int) int {
	if testing.Short() || raceEnabled {
		return small
	}
	return full
}

func raceNote() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "-race" && st.Value == "true" {
				return "with -race"
			}
		}
	}
	return "without -race"
}
