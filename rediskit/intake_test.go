package rediskit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
)

// gate holds every command and pipeline while it is closed, and counts
// the round trips that pass it.
type gate struct {
	mu     sync.Mutex
	closed chan struct{} // nil: open
	held   atomic.Int64  // round trips waiting at the gate
	trips  atomic.Int64  // round trips let through
	cmds   atomic.Int64  // commands let through, in pipelines too
}

func (g *gate) close() { g.mu.Lock(); g.closed = make(chan struct{}); g.mu.Unlock() }
func (g *gate) open() {
	g.mu.Lock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
	g.mu.Unlock()
}

func (g *gate) wait(ctx context.Context, n int) error {
	g.mu.Lock()
	c := g.closed
	g.mu.Unlock()
	if c != nil {
		g.held.Add(1)
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.trips.Add(1)
	g.cmds.Add(int64(n))
	return nil
}

func (g *gate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := g.wait(ctx, 1); err != nil {
			return err
		}
		return next(ctx, cmd)
	}
}
func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := g.wait(ctx, len(cmds)); err != nil {
			return err
		}
		return next(ctx, cmds)
	}
}

// TestIntakeSharesRoundTrips: deliveries that arrive while the intake's
// round trips are in flight share the next ones, each still answered
// with its own script's result: 40 deliveries, the first round trips held
// at the gate while the others arrive, take at most 6 round trips, and
// every event is stored once, its key recorded.
func TestIntakeSharesRoundTrips(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	g := &gate{}
	rdb.AddHook(g)
	q := newTestQueue(t, rdb, nil, rediskit.WithWorkers(0), rediskit.WithTrim(0, 0))
	t.Cleanup(g.open) // before the queue's Shutdown, which waits for the intake
	ctx := t.Context()
	enqueue := func(id string) (dedupe.Status, error) {
		e := hookguard.Event{Provider: "test", ID: id, Type: "test.event", Body: []byte(`{}`), DedupeKeys: []string{"test::id:" + id}}
		return q.EnqueueOnce(ctx, e, e.DedupeKeys, time.Hour)
	}
	st, err := enqueue("warm-up") // loads the script
	require.NoError(t, err)
	require.Equal(t, dedupe.Reserved, st)

	const n = 40
	g.close()
	trips := g.trips.Load()
	var wg sync.WaitGroup
	statuses := make([]dedupe.Status, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { statuses[i], errs[i] = enqueue(fmt.Sprintf("evt_%02d", i)) })
	}
	require.Eventually(t, func() bool { return g.held.Load() >= 1 }, 5*time.Second, time.Millisecond, "the intake reaches Redis")
	time.Sleep(50 * time.Millisecond) // the other deliveries line up
	g.open()
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "evt_%02d", i)
		assert.Equal(t, dedupe.Reserved, statuses[i], "evt_%02d", i)
	}
	used := g.trips.Load() - trips
	t.Logf("%d deliveries in %d round trips", n, used)
	assert.LessOrEqual(t, used, int64(6), "deliveries waiting for the intake must share round trips")
	xlen, err := rdb.XLen(ctx, q.Stream()).Result()
	require.NoError(t, err)
	assert.EqualValues(t, n+1, xlen, "every event stored once")
	for i := range n {
		st, err := enqueue(fmt.Sprintf("evt_%02d", i))
		require.NoError(t, err)
		assert.Equal(t, dedupe.Seen, st, "evt_%02d again", i)
	}
}

// TestShutdownDoesNotWaitForAStuckIntake: a delivery whose caller gave
// up while its script was held on the way to Redis must not hold
// Shutdown past its context: Shutdown returns the context's error, and
// the intake ends once Redis answers.
func TestShutdownDoesNotWaitForAStuckIntake(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	g := &gate{}
	rdb.AddHook(g)
	q, err := rediskit.NewQueue(t.Context(), rdb, nil, rediskit.WithWorkers(0), rediskit.WithName(testName(t)), rediskit.WithLogger(quiet))
	require.NoError(t, err)
	enqueue := func(ctx context.Context, id string) error {
		e := hookguard.Event{Provider: "test", ID: id, Type: "test.event", Body: []byte(`{}`), DedupeKeys: []string{"test::id:" + id}}
		_, err := q.EnqueueOnce(ctx, e, e.DedupeKeys, time.Hour)
		return err
	}
	require.NoError(t, enqueue(t.Context(), "warm-up")) // registers the shard count and loads the script
	g.close()
	defer g.open()
	// A caller without a deadline gives up (its request was cancelled):
	// the pipeline, which is not cancelled with it, waits at the gate, as
	// a slow Redis would keep it, up to its own bound of a minute.
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	require.ErrorIs(t, enqueue(ctx, "evt_1"), context.Canceled)
	require.Equal(t, int64(1), g.held.Load(), "the pipeline is held at the gate")

	sctx, scancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer scancel()
	start := time.Now()
	require.ErrorIs(t, q.Shutdown(sctx), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "Shutdown must end about a second after its context")
	g.open()
	done, dcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer dcancel()
	assert.NoError(t, q.Shutdown(done), "the intake ends once Redis answers")
}
