package riverkit_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/queuetest"
	"github.com/hookguard/hookguard/riverkit"
)

// dlQueue starts a queue whose dead letters are sent on the returned
// channel.
func dlQueue(t *testing.T, pool *pgxpool.Pool, h hookguard.Handler, opts ...riverkit.Option) (*riverkit.Queue, chan hookguard.Event) {
	t.Helper()
	dead := make(chan hookguard.Event, 16)
	q := newTestQueue(t, pool, h, append([]riverkit.Option{riverkit.WithMaxAttempts(1),
		riverkit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e })}, opts...)...)
	return q, dead
}

// dlAll enqueues the events one at a time as the receiver does
// (EnqueueOnce with the event's keys) and waits for each to be
// dead-lettered, so that they are given up in order.
func dlAll(t *testing.T, q *riverkit.Queue, dead <-chan hookguard.Event, evs []testkit.DeadEvent) {
	t.Helper()
	for _, d := range evs {
		e := hookguard.Event{
			Provider: d.Provider, ID: d.ID, Type: d.Type, ReceivedAt: time.Now(),
			Body:       []byte(`{"id":"` + d.ID + `"}`),
			Header:     http.Header{"Content-Type": {"application/json"}},
			DedupeKeys: []string{dlKey(t, d)},
		}
		st, err := q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		got := waitFor(t, dead, "dead letter of "+d.ID)
		require.Equal(t, d.ID, got.ID)
	}
}

// dlKey is d's dedupe key, unique to the test: the tests share the
// dedupe table.
func dlKey(t *testing.T, d testkit.DeadEvent) string {
	return d.Provider + "::id:" + d.ID + "@" + queueName(t)
}

func dlIDs(ds []hookguard.DeadLetter) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Event.ID)
	}
	return out
}

// TestDeadLetterConformance runs the dead-letter kit: listing, filters
// (down to the nanosecond, and text jsonb cannot hold), DeadLetter,
// replay (once, not after the sender's redelivery, a new dead letter when
// it fails again), drop, unknown references, and replay after Shutdown.
// What only riverkit does is tested below.
func TestDeadLetterConformance(t *testing.T) {
	pool := startDB(t)
	queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
		return newTestQueue(t, pool, c.Handler,
			riverkit.WithMaxAttempts(c.MaxAttempts),
			riverkit.WithDeadLetter(c.OnDeadLetter))
	}, queuetest.WithGrace(700*time.Millisecond)) // several River fetch polls of the test queue
}

// TestDeadLetterPostgres tests what only riverkit's dead letters do, on
// one database.
func TestDeadLetterPostgres(t *testing.T) {
	pool := startDB(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *pgxpool.Pool)
	}{
		{"other queue", otherQueue},
		{"non-text type", nonTextType},
		{"replay jobs", replayJobs},
		{"unreleased", unreleased},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, pool) })
	}
}

// otherQueue: a queue of another name, on the same database, sees none
// of a queue's dead letters, and can neither show, replay nor drop them;
// job IDs that exist in no queue are refused too.
func otherQueue(t *testing.T, pool *pgxpool.Pool) {
	q, dead := dlQueue(t, pool, testkit.NewFailing())
	dlAll(t, q, dead, testkit.DeadEvents[:2])
	ctx := t.Context()
	all, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2)

	other, err := riverkit.NewQueue(ctx, pool, testkit.NewFailing(), riverkit.WithQueue("other"), riverkit.WithLogger(quiet), riverkit.WithMaintenance(0, 1))
	require.NoError(t, err)
	stopAtEnd(t, other)
	ds, err := other.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	assert.Empty(t, ds)
	for _, ref := range []string{all[0].Ref, all[1].Ref, "999999", "0"} {
		_, err = other.DeadLetter(ctx, ref)
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "DeadLetter(%q)", ref)
		_, err = other.ReplayDeadLetter(ctx, ref)
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "ReplayDeadLetter(%q)", ref)
		assert.ErrorIs(t, other.DropDeadLetter(ctx, ref), hookguard.ErrNoDeadLetter, "DropDeadLetter(%q)", ref)
	}
	left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	assert.Equal(t, all, left, "the other queue touched none of them")
}

// nonTextType: a type that jsonb cannot hold as text (it is stored as
// bytes) is kept, and found by the type filter, exactly.
func nonTextType(t *testing.T, pool *pgxpool.Pool) {
	q, dead := dlQueue(t, pool, testkit.NewFailing())
	typ := "bad\x00type\xff"
	require.NoError(t, q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "evt_x", Type: typ, ReceivedAt: time.Now()}))
	waitFor(t, dead, "the dead letter")
	ds, err := q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{Type: typ})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, typ, ds[0].Event.Type)
	ds, err = q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{Type: "bad"})
	require.NoError(t, err)
	assert.Empty(t, ds)
}

// replayJobs: each replay that enqueues the event inserts one job, a
// Seen replay none; a job that is not a dead letter (the replay's own)
// can be neither replayed nor dropped.
func replayJobs(t *testing.T, pool *pgxpool.Pool) {
	f := testkit.NewFailing()
	q, dead := dlQueue(t, pool, f)
	ctx := t.Context()
	dlAll(t, q, dead, testkit.DeadEvents[:1])
	require.NoError(t, q.Enqueue(ctx, hookguard.Event{Provider: "test", ID: "nokeys", Body: []byte("b"), ReceivedAt: time.Now()}))
	waitFor(t, dead, "dead letter without keys")
	ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	f.Fix()
	for _, d := range ds {
		st, err := q.ReplayDeadLetter(ctx, d.Ref)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		assert.Equal(t, d.Event.ID, waitFor(t, f.Calls, "the replayed event"))
		st, err = q.ReplayDeadLetter(ctx, d.Ref)
		require.NoError(t, err)
		require.Equal(t, dedupe.Seen, st)
	}
	var jobs int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1 AND queue = $2", riverkit.EventKind, queueName(t)).Scan(&jobs))
	assert.Equal(t, 4, jobs, "two dead letters and one job per replay that enqueued")

	var id int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT id FROM river_job WHERE queue = $1 AND args->>'id' = 'evt_0' AND state <> 'discarded'", queueName(t)).Scan(&id))
	ref := fmt.Sprint(id)
	assert.ErrorIs(t, q.DropDeadLetter(ctx, ref), hookguard.ErrNoDeadLetter, "a job that is not a dead letter is not dropped")
	_, err = q.ReplayDeadLetter(ctx, ref)
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "a job that is not a dead letter is not replayed")
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE id = $1", id).Scan(&jobs))
	assert.Equal(t, 1, jobs, "the job is still there")
}

// unreleased: a job River discarded itself (its rescuer, after the
// process died) has not released its dedupe records until the
// maintenance run does: ReplayDeadLetter refuses it and says to run
// Queue.Maintain, and replays it after; DropDeadLetter releases its
// records itself.
func unreleased(t *testing.T, pool *pgxpool.Pool) {
	q, dead := dlQueue(t, pool, testkit.NewFailing())
	ctx := t.Context()
	dlAll(t, q, dead, testkit.DeadEvents[:2])
	ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	// What a job River's rescuer discarded looks like before the
	// maintenance run.
	unrelease := func(ref string) {
		t.Helper()
		_, err := pool.Exec(ctx, "UPDATE river_job SET metadata = metadata - 'hookguard_released' WHERE id = $1::bigint", ref)
		require.NoError(t, err)
	}

	// Replay: refused until Maintain released the records.
	unrelease(ds[0].Ref)
	_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
	require.ErrorContains(t, err, "run Queue.Maintain")
	m, err := q.Maintain(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, m.Released)
	waitFor(t, dead, "the maintenance run's dead-letter hook")
	st, err := q.ReplayDeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Reserved, st)

	// Drop: releases the records itself.
	unrelease(ds[1].Ref)
	key := []byte(dlKey(t, testkit.DeadEvents[1]))
	_, err = q.Store().Reserve(ctx, string(key), "x", time.Hour) // stands in for the record EnqueueOnce wrote
	require.NoError(t, err)
	require.NoError(t, q.DropDeadLetter(ctx, ds[1].Ref))
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE key = $1::bytea", key).Scan(&n))
	assert.Zero(t, n, "dropping an unreleased dead letter releases its keys")
	_, err = q.DeadLetter(ctx, ds[1].Ref)
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
}

func TestDeadLetterRetention(t *testing.T) {
	pool := startDB(t)
	t.Run("count", func(t *testing.T) {
		q, dead := dlQueue(t, pool, testkit.NewFailing(), riverkit.WithDeadLetterRetention(3, time.Hour), riverkit.WithMaintenance(0, 100))
		ctx := t.Context()
		dlAll(t, q, dead, testkit.DeadEvents)
		m, err := q.Maintain(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), m.Dropped)
		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2", "evt_3", "evt_4"}, dlIDs(left), "the newest 3 are kept")
		m, err = q.Maintain(ctx)
		require.NoError(t, err)
		assert.Zero(t, m.Dropped)
	})
	t.Run("bounded per run", func(t *testing.T) {
		q, dead := dlQueue(t, pool, testkit.NewFailing(), riverkit.WithDeadLetterRetention(1, time.Hour), riverkit.WithMaintenance(0, 2))
		ctx := t.Context()
		dlAll(t, q, dead, testkit.DeadEvents)
		m, err := q.Maintain(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), m.Dropped, "at most the limit per run")
		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2", "evt_3", "evt_4"}, dlIDs(left), "oldest first")
		m, err = q.Maintain(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), m.Dropped)
		left, err = q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_4"}, dlIDs(left))
	})
	t.Run("age", func(t *testing.T) {
		const age = 1500 * time.Millisecond
		q, dead := dlQueue(t, pool, testkit.NewFailing(), riverkit.WithDeadLetterRetention(100, age), riverkit.WithMaintenance(0, 100))
		ctx := t.Context()
		dlAll(t, q, dead, testkit.DeadEvents[:2])
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		time.Sleep(time.Until(ds[1].At.Add(age + 10*time.Millisecond))) // the two are older than age
		dlAll(t, q, dead, testkit.DeadEvents[2:3])
		m, err := q.Maintain(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), m.Dropped)
		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2"}, dlIDs(left))
	})
}

func TestDeadLetterRetentionOption(t *testing.T) {
	pool := &pgxpool.Pool{} // never used: the option is refused first
	for _, tc := range []struct {
		count int
		age   time.Duration
	}{{0, time.Hour}, {-1, time.Hour}, {10, 0}, {10, -time.Second}} {
		t.Run(fmt.Sprintf("%d,%v", tc.count, tc.age), func(t *testing.T) {
			_, err := riverkit.NewQueue(t.Context(), pool, testkit.NewFailing(), riverkit.WithDeadLetterRetention(tc.count, tc.age))
			require.ErrorIs(t, err, riverkit.ErrInvalidOption)
			assert.Contains(t, err.Error(), fmt.Sprintf("WithDeadLetterRetention(%d, %v)", tc.count, tc.age))
		})
	}
	err := riverkit.Migrate(t.Context(), pool, riverkit.WithDeadLetterRetention(10, time.Hour))
	assert.ErrorIs(t, err, riverkit.ErrInvalidOption, "a queue option is refused by Migrate")
}
