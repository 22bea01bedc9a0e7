package rediskit_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// newIntakeQueue starts an intake-only queue (WithWorkers(0), no
// handler) with the test's name.
func newIntakeQueue(t *testing.T, srv *redistest.Server, opts ...rediskit.QueueOption) *rediskit.Queue {
	t.Helper()
	base := []rediskit.QueueOption{rediskit.WithName(testName(t)), rediskit.WithWorkers(0), rediskit.WithLogger(quiet)}
	q, err := rediskit.NewQueue(t.Context(), srv.Client(), nil, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	return q
}

// TestIntakeOnlyQueue: a receiver on an intake-only queue answers 200 and
// stores the events, which nobody handles until a queue with workers
// starts on the same name; that queue handles each once, and the intake
// queue's receiver answers redeliveries as duplicates. The intake queue
// creates no consumer group and never reads from one, its trim loop runs
// until Shutdown (it trims what the workers handled), and Shutdown stops
// it at once.
func TestIntakeOnlyQueue(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	intake := newIntakeQueue(t, srv, rediskit.WithTrim(20*time.Millisecond, 0))
	r := newReceiver(t, intake)
	ids := []string{"evt_a", "evt_b", "evt_c"}
	for _, id := range ids {
		w := post(r, id)
		require.Equal(t, http.StatusOK, w.Code, id)
		require.False(t, isDuplicate(w.Code, w.Header()), id)
	}
	n, err := rdb.XLen(t.Context(), intake.Stream()).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(len(ids)), n, "the events wait in the stream")
	groups, err := rdb.XInfoGroups(t.Context(), intake.Stream()).Result()
	require.NoError(t, err)
	assert.Empty(t, groups, "an intake-only queue creates no consumer group")

	handled := make(chan string, 8)
	newTestQueue(t, rdb, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		handled <- e.ID
		return nil
	}))
	got := map[string]int{}
	for range ids {
		got[waitFor(t, handled, "an event taken in by the intake queue")]++
	}
	assert.Equal(t, map[string]int{"evt_a": 1, "evt_b": 1, "evt_c": 1}, got)
	for _, id := range ids {
		w := post(r, id)
		assert.True(t, isDuplicate(w.Code, w.Header()), "redelivery of %s: %d", id, w.Code)
	}
	consumers, err := rdb.XInfoConsumers(t.Context(), intake.Stream(), rediskit.DefaultGroup).Result()
	require.NoError(t, err)
	for _, c := range consumers {
		assert.NotEqual(t, intake.Consumer(), c.Name, "the intake-only queue read from the group")
	}

	// The intake queue's trim loop trims the entries the workers
	// acknowledged (the workers' own trim runs once a minute), up to the
	// group's last delivered entry, which trimming keeps.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := rdb.XLen(t.Context(), intake.Stream()).Result()
		require.NoError(t, err)
		if n == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the intake queue's trim loop left %d handled entries", n)
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case id := <-handled:
		t.Fatalf("%s handled twice", id)
	default:
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, intake.Shutdown(ctx))
	require.NoError(t, intake.Shutdown(ctx), "a second Shutdown")
	err = intake.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "late", Body: []byte("{}")})
	assert.ErrorIs(t, err, hookguard.ErrShuttingDown)
}

// TestIntakeOnlyOptions: a nil handler is refused with workers and
// allowed without; a negative worker count is refused; an intake-only
// queue fails at start when Redis cannot be reached.
func TestIntakeOnlyOptions(t *testing.T) {
	rdb, calls := unusedClient(t)
	q, err := rediskit.NewQueue(t.Context(), rdb, nil, rediskit.WithWorkers(1))
	assert.Nil(t, q)
	require.ErrorIs(t, err, hookguard.ErrNilHandler)
	assert.Contains(t, err.Error(), "WithWorkers(0)", "the error says how to make an intake-only queue")
	q, err = rediskit.NewQueue(t.Context(), rdb, nil, rediskit.WithWorkers(-1))
	assert.Nil(t, q)
	require.ErrorIs(t, err, rediskit.ErrInvalidOption)
	assert.Contains(t, err.Error(), "WithWorkers(-1)")
	assert.Zero(t, calls.n.Load(), "Redis calls before the argument errors")

	// Nothing listens on the unused client's address.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	q, err = rediskit.NewQueue(ctx, rdb, nil, rediskit.WithWorkers(0), rediskit.WithLogger(quiet))
	assert.Nil(t, q)
	require.Error(t, err, "an intake-only queue on an unreachable Redis")

	srv := redistest.Start(t)
	q = newIntakeQueue(t, srv)
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, q.Shutdown(ctx))
}

// TestIntakeOnlyDeadLetters: the dead-letter methods work on an
// intake-only queue: it lists and shows what a queue with workers
// dead-lettered, replays it (once: the second replay is a duplicate) to
// the workers, which handle it after the fix, and drops it.
func TestIntakeOnlyDeadLetters(t *testing.T) {
	srv := redistest.Start(t)
	dead := make(chan hookguard.Event, 8)
	h := testkit.NewFailing()
	workers := newTestQueue(t, srv.Client(), h, rediskit.WithMaxAttempts(1),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	deadLetterAll(t, workers, dead, testkit.DeadEvents[:2])
	intake := newIntakeQueue(t, srv)
	ctx := t.Context()

	all, err := intake.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"evt_0", "evt_1"}, refs(all))
	sel, err := intake.DeadLetters(ctx, hookguard.DeadLetterFilter{ErrContains: "bad payload"})
	require.NoError(t, err)
	require.Equal(t, []string{"evt_1"}, refs(sel))
	d, err := intake.DeadLetter(ctx, all[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, "db timeout", d.Err)
	assert.Equal(t, `{"id":"evt_0"}`, string(d.Event.Body))

	h.Fix()
	st, err := intake.ReplayDeadLetter(ctx, all[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Reserved, st)
	assert.Equal(t, "evt_0", waitFor(t, h.Calls, "the replayed event"))
	st, err = intake.ReplayDeadLetter(ctx, all[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Seen, st, "a second replay")
	d, err = intake.DeadLetter(ctx, all[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, 1, d.Replays)

	require.NoError(t, intake.DropDeadLetter(ctx, all[1].Ref))
	_, err = intake.DeadLetter(ctx, all[1].Ref)
	assert.True(t, errors.Is(err, hookguard.ErrNoDeadLetter), "after the drop: %v", err)
	select {
	case id := <-h.Calls:
		t.Fatalf("%s handled again", id)
	case <-time.After(200 * time.Millisecond): // a second replay enqueued nothing
	}
	assert.Equal(t, []string{"evt_0"}, h.HandledIDs())
}
