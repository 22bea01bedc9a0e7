package riverkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/riverkit"
)

// dlEvent is one event of the dead-letter tests and the error its
// handler fails with.
type dlEvent struct {
	provider, typ, id, err string
}

var dlEvents = []dlEvent{
	{"stripe", "invoice.paid", "evt_0", "db timeout"},
	{"github", "push", "evt_1", "bad payload"},
	{"stripe", "invoice.paid", "evt_2", "bad payload"},
	{"github", "issues", "evt_3", "db timeout"},
	{"stripe", "charge.failed", "evt_4", "db timeout"},
}

// dlHandler fails every event with its dlEvent's error until fixed, then
// records the events it handled.
type dlHandler struct {
	mu      sync.Mutex
	fixed   bool
	handled []hookguard.Event
	calls   chan string
}

func newDLHandler() *dlHandler { return &dlHandler{calls: make(chan string, 64)} }

func (f *dlHandler) HandleEvent(_ context.Context, e hookguard.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fixed {
		for _, d := range dlEvents {
			if d.id == e.ID {
				return errors.New(d.err)
			}
		}
		return errBug
	}
	f.handled = append(f.handled, e)
	f.calls <- e.ID
	return nil
}

func (f *dlHandler) fix() { f.mu.Lock(); f.fixed = true; f.mu.Unlock() }

func (f *dlHandler) handledIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, e := range f.handled {
		ids = append(ids, e.ID)
	}
	return ids
}

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
func dlAll(t *testing.T, q *riverkit.Queue, dead <-chan hookguard.Event, evs []dlEvent) {
	t.Helper()
	for _, d := range evs {
		e := hookguard.Event{
			Provider: d.provider, ID: d.id, Type: d.typ, ReceivedAt: time.Now(),
			Body:       []byte(`{"id":"` + d.id + `"}`),
			Header:     http.Header{"Content-Type": {"application/json"}},
			DedupeKeys: []string{dlKey(t, d)},
		}
		st, err := q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		got := waitFor(t, dead, "dead letter of "+d.id)
		require.Equal(t, d.id, got.ID)
	}
}

// dlKey is d's dedupe key, unique to the test: the tests share the
// dedupe table.
func dlKey(t *testing.T, d dlEvent) string { return d.provider + "::id:" + d.id + "@" + queueName(t) }

func dlIDs(ds []hookguard.DeadLetter) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Event.ID)
	}
	return out
}

func TestDeadLetterList(t *testing.T) {
	pool := startDB(t)
	q, dead := dlQueue(t, pool, newDLHandler(), riverkit.WithMaxAttempts(2))
	start := time.Now()
	dlAll(t, q, dead, dlEvents)
	ctx := t.Context()

	all, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"evt_0", "evt_1", "evt_2", "evt_3", "evt_4"}, dlIDs(all), "all, oldest first")
	for i, d := range all {
		want := dlEvents[i]
		assert.Equal(t, want.provider, d.Event.Provider)
		assert.Equal(t, want.typ, d.Event.Type)
		assert.Equal(t, `{"id":"`+want.id+`"}`, string(d.Event.Body))
		assert.Equal(t, "application/json", d.Event.Header.Get("Content-Type"))
		assert.Equal(t, []string{dlKey(t, want)}, d.Event.DedupeKeys)
		assert.Equal(t, want.err, d.Err)
		assert.Equal(t, 2, d.Attempts)
		assert.Equal(t, 2, d.Event.Attempt)
		assert.Zero(t, d.Replays)
		assert.WithinRange(t, d.At, start.Add(-time.Millisecond), time.Now())
		if i > 0 {
			require.True(t, d.At.After(all[i-1].At), "dead letters given up in order have increasing At")
		}
		one, err := q.DeadLetter(ctx, d.Ref)
		require.NoError(t, err)
		assert.Equal(t, d, one, "DeadLetter(ref) is the listed dead letter")
	}

	for _, tc := range []struct {
		name string
		f    hookguard.DeadLetterFilter
		want []string
	}{
		{"provider", hookguard.DeadLetterFilter{Provider: "stripe"}, []string{"evt_0", "evt_2", "evt_4"}},
		{"type", hookguard.DeadLetterFilter{Type: "invoice.paid"}, []string{"evt_0", "evt_2"}},
		{"provider and type", hookguard.DeadLetterFilter{Provider: "github", Type: "push"}, []string{"evt_1"}},
		{"error text", hookguard.DeadLetterFilter{ErrContains: "timeout"}, []string{"evt_0", "evt_3", "evt_4"}},
		{"since", hookguard.DeadLetterFilter{Since: all[2].At}, []string{"evt_2", "evt_3", "evt_4"}},
		{"since, a nanosecond later", hookguard.DeadLetterFilter{Since: all[2].At.Add(time.Nanosecond)}, []string{"evt_3", "evt_4"}},
		{"until", hookguard.DeadLetterFilter{Until: all[2].At}, []string{"evt_0", "evt_1"}},
		{"until, a nanosecond later", hookguard.DeadLetterFilter{Until: all[2].At.Add(time.Nanosecond)}, []string{"evt_0", "evt_1", "evt_2"}},
		{"window", hookguard.DeadLetterFilter{Since: all[1].At, Until: all[4].At}, []string{"evt_1", "evt_2", "evt_3"}},
		{"limit", hookguard.DeadLetterFilter{Limit: 2}, []string{"evt_0", "evt_1"}},
		{"limit of a filter", hookguard.DeadLetterFilter{Provider: "stripe", Limit: 2}, []string{"evt_0", "evt_2"}},
		{"none", hookguard.DeadLetterFilter{Provider: "shopify"}, []string{}},
		{"text jsonb cannot hold", hookguard.DeadLetterFilter{ErrContains: "a\x00b"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := q.DeadLetters(ctx, tc.f)
			require.NoError(t, err)
			assert.Equal(t, tc.want, dlIDs(got))
		})
	}

	_, err = q.DeadLetters(ctx, hookguard.DeadLetterFilter{Limit: -1})
	assert.ErrorIs(t, err, hookguard.ErrInvalidFilter)
	for _, ref := range []string{"999999", "0", "not-an-id", ""} {
		_, err = q.DeadLetter(ctx, ref)
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "ref %q", ref)
	}

	// A queue of another name sees none of them.
	other, err := riverkit.NewQueue(ctx, pool, newDLHandler(), riverkit.WithQueue("other"), riverkit.WithLogger(quiet), riverkit.WithMaintenance(0, 1))
	require.NoError(t, err)
	stopAtEnd(t, other)
	ds, err := other.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	assert.Empty(t, ds)
	_, err = other.DeadLetter(ctx, all[0].Ref)
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)

	// A type that jsonb cannot hold as text (it is stored as bytes) is
	// found by the type filter too.
	t.Run("non-plain type", func(t *testing.T) {
		q, dead := dlQueue(t, pool, newDLHandler())
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
	})
}

// TestDeadLetterReplay: a replay after the fix is handled once, with
// the event's ID and body, and counted; replaying again enqueues
// nothing, for an event with dedupe keys and for one without; a dead
// letter whose event the sender redelivered (and the receiver took in)
// meanwhile is not replayed; a replay that fails again is a new dead
// letter. Drop removes a dead letter (once).
func TestDeadLetterReplay(t *testing.T) {
	pool := startDB(t)
	const grace = 700 * time.Millisecond // several River fetch polls of the test queue

	t.Run("with and without keys", func(t *testing.T) {
		f := newDLHandler()
		q, dead := dlQueue(t, pool, f)
		ctx := t.Context()
		dlAll(t, q, dead, dlEvents[:1])
		require.NoError(t, q.Enqueue(ctx, hookguard.Event{Provider: "test", ID: "nokeys", Body: []byte("b"), ReceivedAt: time.Now()}))
		waitFor(t, dead, "dead letter without keys")
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 2)
		f.fix()
		for i, d := range ds {
			st, err := q.ReplayDeadLetter(ctx, d.Ref)
			require.NoError(t, err)
			require.Equal(t, dedupe.Reserved, st, "first replay of %s", d.Event.ID)
			assert.Equal(t, d.Event.ID, waitFor(t, f.calls, "the replayed event"))
			f.mu.Lock()
			h := f.handled[i]
			f.mu.Unlock()
			assert.Equal(t, d.Event.Body, h.Body, "the replay keeps the body")
			assert.Equal(t, 1, h.Attempt)
			got, err := q.DeadLetter(ctx, d.Ref)
			require.NoError(t, err)
			assert.Equal(t, 1, got.Replays)

			st, err = q.ReplayDeadLetter(ctx, d.Ref)
			require.NoError(t, err)
			assert.Equal(t, dedupe.Seen, st, "second replay of %s", d.Event.ID)
		}
		select {
		case id := <-f.calls:
			t.Fatalf("%s handled again after a second replay", id)
		case <-time.After(grace):
		}
		assert.Equal(t, []string{"evt_0", "nokeys"}, f.handledIDs())
		for _, d := range ds {
			got, err := q.DeadLetter(ctx, d.Ref)
			require.NoError(t, err)
			assert.Equal(t, 1, got.Replays, "a Seen replay is not counted")
		}
		var jobs int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1 AND queue = $2", riverkit.EventKind, queueName(t)).Scan(&jobs))
		assert.Equal(t, 4, jobs, "two dead letters and one job per replay")
		_, err = q.ReplayDeadLetter(ctx, "999999")
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
	})

	t.Run("redelivered by the sender", func(t *testing.T) {
		f := newDLHandler()
		q, dead := dlQueue(t, pool, f)
		r := newReceiver(t, q)
		ctx := t.Context()
		require.Equal(t, http.StatusOK, post(ctx, r, "evt_r").Code)
		waitFor(t, dead, "the dead letter")
		f.fix()
		w := post(ctx, r, "evt_r")
		require.Equal(t, http.StatusOK, w.Code)
		require.False(t, isDuplicate(w), "the redelivery after the dead letter is taken in")
		assert.Equal(t, "evt_r", waitFor(t, f.calls, "the redelivery"))
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		st, err := q.ReplayDeadLetter(ctx, ds[0].Ref)
		require.NoError(t, err)
		assert.Equal(t, dedupe.Seen, st, "a dead letter the sender redelivered is not replayed")
		select {
		case id := <-f.calls:
			t.Fatalf("%s handled twice", id)
		case <-time.After(grace):
		}
		got, err := q.DeadLetter(ctx, ds[0].Ref)
		require.NoError(t, err)
		assert.Zero(t, got.Replays)
	})

	t.Run("fails again", func(t *testing.T) {
		q, dead := dlQueue(t, pool, newDLHandler())
		ctx := t.Context()
		dlAll(t, q, dead, dlEvents[:1])
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		st, err := q.ReplayDeadLetter(ctx, ds[0].Ref)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		e := waitFor(t, dead, "the replay's dead letter")
		assert.Equal(t, "evt_0", e.ID)
		ds, err = q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 2, "a replay that fails again is a new dead letter")
		assert.Equal(t, 1, ds[0].Replays)
		assert.Zero(t, ds[1].Replays)
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE key = $1::bytea", []byte(dlKey(t, dlEvents[0]))).Scan(&n))
		assert.Zero(t, n, "the new dead letter releases the event's keys again")
		st, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
		require.NoError(t, err)
		assert.Equal(t, dedupe.Seen, st, "the first dead letter stays replayed")
	})

	t.Run("unreleased", func(t *testing.T) {
		q, dead := dlQueue(t, pool, newDLHandler())
		ctx := t.Context()
		dlAll(t, q, dead, dlEvents[:1])
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		// What a job River's rescuer discarded looks like before the
		// maintenance run.
		_, err = pool.Exec(ctx, "UPDATE river_job SET metadata = metadata - 'hookguard_released' WHERE id = $1::bigint", ds[0].Ref)
		require.NoError(t, err)
		_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
		require.ErrorContains(t, err, "run Queue.Maintain")
		m, err := q.Maintain(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, m.Released)
		waitFor(t, dead, "the maintenance run's dead-letter hook")
		st, err := q.ReplayDeadLetter(ctx, ds[0].Ref)
		require.NoError(t, err)
		assert.Equal(t, dedupe.Reserved, st)
	})

	t.Run("drop", func(t *testing.T) {
		f := newDLHandler()
		q, dead := dlQueue(t, pool, f)
		dlAll(t, q, dead, dlEvents[:3])
		ctx := t.Context()
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 3)

		require.NoError(t, q.DropDeadLetter(ctx, ds[0].Ref))
		_, err = q.DeadLetter(ctx, ds[0].Ref)
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
		assert.ErrorIs(t, q.DropDeadLetter(ctx, ds[0].Ref), hookguard.ErrNoDeadLetter, "dropping twice")
		_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "a dropped dead letter cannot be replayed")

		// A dead letter River discarded itself, not yet released: dropping it
		// releases its dedupe record.
		_, err = pool.Exec(ctx, "UPDATE river_job SET metadata = metadata - 'hookguard_released' WHERE id = $1::bigint", ds[1].Ref)
		require.NoError(t, err)
		key := []byte(dlKey(t, dlEvents[1]))
		_, err = q.Store().Reserve(ctx, string(key), "x", time.Hour) // stands in for the record EnqueueOnce wrote
		require.NoError(t, err)
		require.NoError(t, q.DropDeadLetter(ctx, ds[1].Ref))
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE key = $1::bytea", key).Scan(&n))
		assert.Zero(t, n, "dropping an unreleased dead letter releases its keys")

		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2"}, dlIDs(left))
		// A job that is not a dead letter is not dropped.
		f.fix()
		require.NoError(t, q.Enqueue(ctx, hookguard.Event{Provider: "test", ID: "ok", ReceivedAt: time.Now()}))
		waitFor(t, f.calls, "the handled event")
		var id int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT id FROM river_job WHERE args->>'id' = 'ok'").Scan(&id))
		assert.ErrorIs(t, q.DropDeadLetter(ctx, fmt.Sprint(id)), hookguard.ErrNoDeadLetter)
	})
}

func TestDeadLetterRetention(t *testing.T) {
	pool := startDB(t)
	t.Run("count", func(t *testing.T) {
		q, dead := dlQueue(t, pool, newDLHandler(), riverkit.WithDeadLetterRetention(3, time.Hour), riverkit.WithMaintenance(0, 100))
		ctx := t.Context()
		dlAll(t, q, dead, dlEvents)
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
		q, dead := dlQueue(t, pool, newDLHandler(), riverkit.WithDeadLetterRetention(1, time.Hour), riverkit.WithMaintenance(0, 2))
		ctx := t.Context()
		dlAll(t, q, dead, dlEvents)
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
		q, dead := dlQueue(t, pool, newDLHandler(), riverkit.WithDeadLetterRetention(100, age), riverkit.WithMaintenance(0, 100))
		ctx := t.Context()
		dlAll(t, q, dead, dlEvents[:2])
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		time.Sleep(time.Until(ds[1].At.Add(age + 10*time.Millisecond))) // the two are older than age
		dlAll(t, q, dead, dlEvents[2:3])
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
			_, err := riverkit.NewQueue(t.Context(), pool, newDLHandler(), riverkit.WithDeadLetterRetention(tc.count, tc.age))
			require.ErrorIs(t, err, riverkit.ErrInvalidOption)
			assert.Contains(t, err.Error(), fmt.Sprintf("WithDeadLetterRetention(%d, %v)", tc.count, tc.age))
		})
	}
	err := riverkit.Migrate(t.Context(), pool, riverkit.WithDeadLetterRetention(10, time.Hour))
	assert.ErrorIs(t, err, riverkit.ErrInvalidOption, "a queue option is refused by Migrate")
}
