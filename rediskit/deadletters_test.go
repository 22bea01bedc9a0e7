package rediskit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
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

// deadEvent is one event of the dead-letter tests and the error its
// handler fails with.
type deadEvent struct {
	provider, typ, id, err string
}

var deadEvents = []deadEvent{
	{"stripe", "invoice.paid", "evt_0", "db timeout"},
	{"github", "push", "evt_1", "bad payload"},
	{"stripe", "invoice.paid", "evt_2", "bad payload"},
	{"github", "issues", "evt_3", "db timeout"},
	{"stripe", "charge.failed", "evt_4", "db timeout"},
}

// failing fails every event with its deadEvent's error until fixed, then
// records the events it handled.
type failing struct {
	mu      sync.Mutex
	fixed   bool
	handled []hookguard.Event
	calls   chan string
}

func newFailing() *failing { return &failing{calls: make(chan string, 64)} }

func (f *failing) HandleEvent(_ context.Context, e hookguard.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fixed {
		for _, d := range deadEvents {
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

func (f *failing) fix() { f.mu.Lock(); f.fixed = true; f.mu.Unlock() }

func (f *failing) handledIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, e := range f.handled {
		ids = append(ids, e.ID)
	}
	return ids
}

// deadLetterAll enqueues the events one at a time as the receiver does
// (EnqueueOnce with the event's keys) and waits for each to be
// dead-lettered, so that they are given up in order.
func deadLetterAll(t *testing.T, q *rediskit.Queue, dead <-chan hookguard.Event, evs []deadEvent) {
	t.Helper()
	for _, d := range evs {
		e := hookguard.Event{
			Provider: d.provider, ID: d.id, Type: d.typ, ReceivedAt: time.Now(),
			Body:       []byte(`{"id":"` + d.id + `"}`),
			Header:     http.Header{"Content-Type": {"application/json"}},
			DedupeKeys: []string{d.provider + "::id:" + d.id},
		}
		st, err := q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		got := waitFor(t, dead, "dead letter of "+d.id)
		require.Equal(t, d.id, got.ID)
		// Distinct give-up times (the stream ID's millisecond), so that
		// the Since/Until cases below select exactly.
		time.Sleep(2 * time.Millisecond)
	}
}

func refs(ds []hookguard.DeadLetter) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Event.ID)
	}
	return out
}

func TestDeadLetterList(t *testing.T) {
	srv := redistest.Start(t)
	dead := make(chan hookguard.Event, 8)
	q := newTestQueue(t, srv.Client(), newFailing(), rediskit.WithMaxAttempts(2),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	start := time.Now()
	deadLetterAll(t, q, dead, deadEvents)
	ctx := t.Context()

	all, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"evt_0", "evt_1", "evt_2", "evt_3", "evt_4"}, refs(all), "all, oldest first")
	for i, d := range all {
		want := deadEvents[i]
		assert.Equal(t, want.provider, d.Event.Provider)
		assert.Equal(t, want.typ, d.Event.Type)
		assert.Equal(t, `{"id":"`+want.id+`"}`, string(d.Event.Body))
		assert.Equal(t, "application/json", d.Event.Header.Get("Content-Type"))
		assert.Equal(t, []string{want.provider + "::id:" + want.id}, d.Event.DedupeKeys)
		assert.Equal(t, want.err, d.Err)
		assert.Equal(t, 2, d.Attempts)
		assert.Equal(t, 2, d.Event.Attempt)
		assert.Zero(t, d.Replays)
		assert.WithinRange(t, d.At, start.Add(-time.Millisecond).Truncate(time.Millisecond), time.Now())
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
		{"until", hookguard.DeadLetterFilter{Until: all[2].At}, []string{"evt_0", "evt_1"}},
		{"window", hookguard.DeadLetterFilter{Since: all[1].At, Until: all[4].At}, []string{"evt_1", "evt_2", "evt_3"}},
		{"limit", hookguard.DeadLetterFilter{Limit: 2}, []string{"evt_0", "evt_1"}},
		{"limit over pages of a filter", hookguard.DeadLetterFilter{Provider: "stripe", Limit: 2}, []string{"evt_0", "evt_2"}},
		{"limit 1 finds the last", hookguard.DeadLetterFilter{Type: "charge.failed", Limit: 1}, []string{"evt_4"}},
		{"none", hookguard.DeadLetterFilter{Provider: "shopify"}, []string{}},
		{"until before all", hookguard.DeadLetterFilter{Until: all[0].At}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := q.DeadLetters(ctx, tc.f)
			require.NoError(t, err)
			assert.Equal(t, tc.want, refs(got))
		})
	}

	_, err = q.DeadLetters(ctx, hookguard.DeadLetterFilter{Limit: -1})
	assert.ErrorIs(t, err, hookguard.ErrInvalidFilter)
	for _, ref := range []string{"0-1", "not-an-id", ""} {
		_, err = q.DeadLetter(ctx, ref)
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "ref %q", ref)
	}
}

// TestDeadLetterReplay: a replay after the fix is handled once, with
// the event's ID and body, and counted; replaying again enqueues
// nothing, for an event with dedupe keys and for one without; a dead
// letter whose event the sender redelivered (and the receiver took in)
// meanwhile is not replayed.
func TestDeadLetterReplay(t *testing.T) {
	srv := redistest.Start(t)
	const grace = 700 * time.Millisecond // longer than a retry and a read cycle of the test queue

	t.Run("with and without keys", func(t *testing.T) {
		f := newFailing()
		dead := make(chan hookguard.Event, 8)
		q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		ctx := t.Context()
		deadLetterAll(t, q, dead, deadEvents[:1])
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
		_, err = q.ReplayDeadLetter(ctx, "1-1")
		assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
	})

	t.Run("redelivered by the sender", func(t *testing.T) {
		f := newFailing()
		dead := make(chan hookguard.Event, 8)
		q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		r := newReceiver(t, q)
		require.Equal(t, http.StatusOK, post(r, "evt_r").Code)
		waitFor(t, dead, "the dead letter")
		f.fix()
		w := post(r, "evt_r")
		require.Equal(t, http.StatusOK, w.Code)
		require.False(t, isDuplicate(w.Code, w.Header()), "the redelivery after the dead letter is taken in")
		assert.Equal(t, "evt_r", waitFor(t, f.calls, "the redelivery"))
		ds, err := q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		st, err := q.ReplayDeadLetter(t.Context(), ds[0].Ref)
		require.NoError(t, err)
		assert.Equal(t, dedupe.Seen, st, "a dead letter the sender redelivered is not replayed")
		select {
		case id := <-f.calls:
			t.Fatalf("%s handled twice", id)
		case <-time.After(grace):
		}
		got, err := q.DeadLetter(t.Context(), ds[0].Ref)
		require.NoError(t, err)
		assert.Zero(t, got.Replays)
	})

	t.Run("fails again", func(t *testing.T) {
		f := newFailing()
		dead := make(chan hookguard.Event, 8)
		q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, deadEvents[:1])
		ds, err := q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		st, err := q.ReplayDeadLetter(t.Context(), ds[0].Ref)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		e := waitFor(t, dead, "the replay's dead letter")
		assert.Equal(t, "evt_0", e.ID)
		ds, err = q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 2, "a replay that fails again is a new dead letter")
		assert.Equal(t, 1, ds[0].Replays)
		assert.Zero(t, ds[1].Replays)
		n, err := srv.Client().Exists(t.Context(), q.Store().Key("stripe::id:evt_0")).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "the new dead letter releases the event's keys again")
		st, err = q.ReplayDeadLetter(t.Context(), ds[0].Ref)
		require.NoError(t, err)
		assert.Equal(t, dedupe.Seen, st, "the first dead letter stays replayed")
	})
}

func TestDeadLetterDrop(t *testing.T) {
	srv := redistest.Start(t)
	f := newFailing()
	dead := make(chan hookguard.Event, 8)
	q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	deadLetterAll(t, q, dead, deadEvents[:2])
	ctx := t.Context()
	ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	f.fix()
	_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	waitFor(t, f.calls, "the replay")
	replayed := "hookguard:{" + testName(t) + "}:replayed"
	require.True(t, srv.Client().HExists(ctx, replayed, ds[0].Ref).Val())

	require.NoError(t, q.DropDeadLetter(ctx, ds[0].Ref))
	_, err = q.DeadLetter(ctx, ds[0].Ref)
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
	assert.False(t, srv.Client().HExists(ctx, replayed, ds[0].Ref).Val(), "the replay count goes with the dead letter")
	assert.ErrorIs(t, q.DropDeadLetter(ctx, ds[0].Ref), hookguard.ErrNoDeadLetter, "dropping twice")
	_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter, "a dropped dead letter cannot be replayed")
	left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"evt_1"}, refs(left))
}

func TestDeadLetterRetention(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	t.Run("count", func(t *testing.T) {
		dead := make(chan hookguard.Event, 8)
		f := newFailing()
		q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1), rediskit.WithTrim(0, 0),
			rediskit.WithDeadLetterRetention(3, time.Hour),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, deadEvents)
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 5)
		f.fix()
		for _, d := range ds[:2] { // replay counts of a trimmed and a kept dead letter
			_, err := q.ReplayDeadLetter(ctx, d.Ref)
			require.NoError(t, err)
		}
		_, err = q.ReplayDeadLetter(ctx, ds[3].Ref)
		require.NoError(t, err)
		n, err := q.TrimDeadLetters(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), n)
		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2", "evt_3", "evt_4"}, refs(left), "the newest 3 are kept")
		replayed := "hookguard:{" + testName(t) + "}:replayed"
		assert.Equal(t, []string{ds[3].Ref}, srv.Client().HKeys(ctx, replayed).Val(), "the trimmed dead letters' replay counts are gone")
		n, err = q.TrimDeadLetters(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("age", func(t *testing.T) {
		dead := make(chan hookguard.Event, 8)
		const age = 1500 * time.Millisecond
		q := newTestQueue(t, srv.Client(), newFailing(), rediskit.WithMaxAttempts(1), rediskit.WithTrim(0, 0),
			rediskit.WithDeadLetterRetention(100, age),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, deadEvents[:2])
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		time.Sleep(time.Until(ds[1].At.Add(age + 10*time.Millisecond))) // the two are older than age
		deadLetterAll(t, q, dead, deadEvents[2:3])
		n, err := q.TrimDeadLetters(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), n)
		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2"}, refs(left))
	})
	t.Run("the trim loop applies it", func(t *testing.T) {
		dead := make(chan hookguard.Event, 8)
		q := newTestQueue(t, srv.Client(), newFailing(), rediskit.WithMaxAttempts(1),
			rediskit.WithTrim(50*time.Millisecond, 0), rediskit.WithDeadLetterRetention(1, time.Hour),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, deadEvents[:3])
		require.Eventually(t, func() bool {
			return srv.Client().XLen(ctx, q.DeadLetterStream()).Val() == 1
		}, 10*time.Second, 20*time.Millisecond, "the periodic trim keeps 1 dead letter")
	})
}

func TestDeadLetterRetentionOption(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never reached: the option is refused first
	t.Cleanup(func() { _ = rdb.Close() })
	for _, tc := range []struct {
		count int
		age   time.Duration
	}{{0, time.Hour}, {-1, time.Hour}, {10, 0}, {10, -time.Second}} {
		t.Run(fmt.Sprintf("%d,%v", tc.count, tc.age), func(t *testing.T) {
			_, err := rediskit.NewQueue(t.Context(), rdb, newFailing(), rediskit.WithDeadLetterRetention(tc.count, tc.age))
			require.ErrorIs(t, err, rediskit.ErrInvalidOption)
			assert.Contains(t, err.Error(), "WithDeadLetterRetention")
		})
	}
}
