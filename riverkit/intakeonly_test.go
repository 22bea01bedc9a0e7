package riverkit_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/riverkit"
)

// newIntakeQueue starts an intake-only queue (WithWorkers(0), no
// handler) on the test's River queue.
func newIntakeQueue(t *testing.T, pool *pgxpool.Pool, opts ...riverkit.Option) *riverkit.Queue {
	t.Helper()
	q, err := riverkit.NewQueue(t.Context(), pool, nil, testOptions(t, append([]riverkit.Option{riverkit.WithWorkers(0)}, opts...))...)
	require.NoError(t, err)
	stopAtEnd(t, q)
	return q
}

// TestIntakeOnlyQueue: a receiver on an intake-only queue answers 200 and
// inserts the jobs, which stay available (its River client is never
// started and works nothing) until a queue with workers starts on the
// same River queue; that queue handles each once, and the intake queue's
// receiver answers redeliveries as duplicates. Shutdown returns at once,
// and goleak (TestMain) checks that the intake queue left no goroutine.
func TestIntakeOnlyQueue(t *testing.T) {
	pool := startDB(t)
	intake := newIntakeQueue(t, pool, riverkit.WithMaintenance(100*time.Millisecond, 10))
	r := newReceiver(t, intake)
	ids := []string{"evt_a", "evt_b", "evt_c"}
	for _, id := range ids {
		w := post(t.Context(), r, id)
		require.Equal(t, http.StatusOK, w.Code, id)
		require.False(t, isDuplicate(w), id)
	}
	// WithMaintenance on an intake-only queue schedules nothing: the
	// client is not started, so no maintenance job appears either.
	time.Sleep(300 * time.Millisecond) // several maintenance periods and fetch polls
	assert.Equal(t, map[string]int{"available": len(ids)}, jobStates(t, pool, queueName(t)), "nothing works an intake-only queue's jobs")
	var maint int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE queue = $1 AND kind <> $2`, queueName(t), riverkit.EventKind).Scan(&maint))
	assert.Zero(t, maint, "maintenance jobs of an intake-only queue")

	handled := make(chan string, 8)
	newTestQueue(t, pool, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		handled <- e.ID
		return nil
	}))
	got := map[string]int{}
	for range ids {
		got[waitFor(t, handled, "an event taken in by the intake queue")]++
	}
	assert.Equal(t, map[string]int{"evt_a": 1, "evt_b": 1, "evt_c": 1}, got)
	for _, id := range ids {
		w := post(t.Context(), r, id)
		assert.True(t, isDuplicate(w), "redelivery of %s: %d", id, w.Code)
	}
	select {
	case id := <-handled:
		t.Fatalf("%s handled twice", id)
	case <-time.After(200 * time.Millisecond): // several fetch polls
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, intake.Shutdown(ctx))
	require.NoError(t, intake.Shutdown(ctx), "a second Shutdown")
	err := intake.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "late", Body: []byte("{}")})
	assert.ErrorIs(t, err, hookguard.ErrShuttingDown)
}

// TestIntakeOnlyOptions: a nil handler is refused with workers and
// allowed without (NewQueue and NewTxQueue); a negative worker count is
// refused; WithRiverConfig may not give an intake-only client a queue
// to work.
func TestIntakeOnlyOptions(t *testing.T) {
	unused := &pgxpool.Pool{} // never used: the constructor fails first
	for _, tc := range []struct {
		name string
		opts []riverkit.Option
		want error
		text string
	}{
		{"nil handler with workers", []riverkit.Option{riverkit.WithWorkers(1)}, hookguard.ErrNilHandler, "WithWorkers(0)"},
		{"nil handler by default", nil, hookguard.ErrNilHandler, "NewQueue needs a Handler"},
		{"negative workers", []riverkit.Option{riverkit.WithWorkers(-1)}, riverkit.ErrInvalidOption, "WithWorkers(-1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := riverkit.NewQueue(t.Context(), unused, nil, tc.opts...)
			assert.Nil(t, q)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.text)
			q, err = riverkit.NewTxQueue(t.Context(), unused, nil, tc.opts...)
			assert.Nil(t, q)
			require.ErrorIs(t, err, tc.want)
		})
	}

	pool := startDB(t)
	q, err := riverkit.NewQueue(t.Context(), pool, nil, riverkit.WithWorkers(0),
		riverkit.WithRiverConfig(func(c *river.Config) { c.Queues = map[string]river.QueueConfig{"other": {MaxWorkers: 1}} }))
	assert.Nil(t, q)
	require.ErrorIs(t, err, riverkit.ErrInvalidOption)

	tq, err := riverkit.NewTxQueue(t.Context(), pool, nil, testOptions(t, []riverkit.Option{riverkit.WithWorkers(0)})...)
	require.NoError(t, err)
	stopAtEnd(t, tq)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, tq.Shutdown(ctx))
}

// TestIntakeOnlyDeadLetters: the dead-letter methods, and Maintain, work
// on an intake-only queue: it lists and shows what a queue with workers
// dead-lettered, replays it (once: the second replay is a duplicate) to
// the workers, which handle it after the fix, and drops it.
func TestIntakeOnlyDeadLetters(t *testing.T) {
	pool := startDB(t)
	h := testkit.NewFailing()
	workers, dead := dlQueue(t, pool, h)
	dlAll(t, workers, dead, testkit.DeadEvents[:2])
	intake := newIntakeQueue(t, pool)
	ctx := t.Context()

	all, err := intake.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"evt_0", "evt_1"}, dlIDs(all))
	sel, err := intake.DeadLetters(ctx, hookguard.DeadLetterFilter{ErrContains: "bad payload"})
	require.NoError(t, err)
	require.Equal(t, []string{"evt_1"}, dlIDs(sel))
	d, err := intake.DeadLetter(ctx, all[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, "db timeout", d.Err)
	assert.Equal(t, `{"id":"evt_0"}`, string(d.Event.Body))

	_, err = intake.Maintain(ctx)
	require.NoError(t, err, "Maintain on an intake-only queue")

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
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
	select {
	case id := <-h.Calls:
		t.Fatalf("%s handled again", id)
	case <-time.After(200 * time.Millisecond): // several fetch polls
	}
	assert.Equal(t, []string{"evt_0"}, h.HandledIDs())
}
