package rediskit_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/queuetest"
	"github.com/hookguard/hookguard/rediskit"
)

// deadLetterAll enqueues the events one at a time as the receiver does
// (EnqueueOnce with the event's keys) and waits for each to be
// dead-lettered, so that they are given up in order.
func deadLetterAll(t *testing.T, q *rediskit.Queue, dead <-chan hookguard.Event, evs []testkit.DeadEvent) {
	t.Helper()
	for _, d := range evs {
		e := hookguard.Event{
			Provider: d.Provider, ID: d.ID, Type: d.Type, ReceivedAt: time.Now(),
			Body:       []byte(`{"id":"` + d.ID + `"}`),
			Header:     http.Header{"Content-Type": {"application/json"}},
			DedupeKeys: []string{d.Provider + "::id:" + d.ID},
		}
		st, err := q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
		require.NoError(t, err)
		require.Equal(t, dedupe.Reserved, st)
		got := waitFor(t, dead, "dead letter of "+d.ID)
		require.Equal(t, d.ID, got.ID)
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

// TestDeadLetterConformance runs the dead-letter kit: listing, filters,
// DeadLetter, replay (once, not after the sender's redelivery, a new dead
// letter when it fails again), drop, unknown references, and replay after
// Shutdown. What only Redis does is tested below.
func TestDeadLetterConformance(t *testing.T) {
	srv := redistest.Start(t)
	queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
		return newTestQueue(t, srv.Client(), c.Handler,
			rediskit.WithMaxAttempts(c.MaxAttempts),
			rediskit.WithDeadLetter(c.OnDeadLetter))
	}, queuetest.WithGrace(700*time.Millisecond)) // longer than a retry and a read cycle of the test queue
}

// TestDeadLetterConformanceWaitReplicas runs the kit with
// WithWaitReplicas on a primary with a replica: EnqueueOnce and
// ReplayDeadLetter then run their scripts and WAIT in one round trip,
// and the dead-letter API keeps its contract.
func TestDeadLetterConformanceWaitReplicas(t *testing.T) {
	primary := redistest.Start(t, noSyncDelay)
	startReplica(t, primary)
	queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
		return newTestQueue(t, primary.Client(), c.Handler,
			rediskit.WithMaxAttempts(c.MaxAttempts),
			rediskit.WithDeadLetter(c.OnDeadLetter),
			rediskit.WithWaitReplicas(1, 5*time.Second))
	}, queuetest.WithGrace(700*time.Millisecond))
}

// TestDeadLetterReplayNotReplicated: with WithWaitReplicas and no replica
// to confirm, ReplayDeadLetter returns an error wrapping
// ErrNotReplicated, but the replay is not taken back: the event is
// handled once and the replay counted, and replaying again once the
// replica is back enqueues nothing (Seen).
func TestDeadLetterReplayNotReplicated(t *testing.T) {
	primary := redistest.Start(t, noSyncDelay)
	replica := startReplica(t, primary)
	f := testkit.NewFailing()
	dead := make(chan hookguard.Event, 8)
	q := newTestQueue(t, primary.Client(), f, rediskit.WithMaxAttempts(1),
		rediskit.WithWaitReplicas(1, time.Second),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	ctx := t.Context()
	deadLetterAll(t, q, dead, testkit.DeadEvents[:1])
	ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 1)

	replica.Kill()
	f.Fix()
	_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
	require.ErrorIs(t, err, rediskit.ErrNotReplicated)
	assert.Equal(t, "evt_0", waitFor(t, f.Calls, "the unconfirmed replay"), "an unconfirmed replay is not taken back")
	got, err := q.DeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Replays)

	replica.Restart()
	waitReplicas(t, primary.Client(), 1)
	st, err := q.ReplayDeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Seen, st, "replaying again after an unconfirmed replay enqueues nothing")
	select {
	case id := <-f.Calls:
		t.Fatalf("%s handled twice", id)
	case <-time.After(700 * time.Millisecond):
	}
	assert.Equal(t, []string{"evt_0"}, f.HandledIDs())
}

// TestDeadLetterDropForgetsReplayCount: dropping a replayed dead letter
// deletes its replay count from the replay-count hash with it, so that
// nothing of it is left in Redis. A well-formed entry ID of no dead
// letter is refused like any other unknown reference.
func TestDeadLetterDropForgetsReplayCount(t *testing.T) {
	srv := redistest.Start(t)
	f := testkit.NewFailing()
	dead := make(chan hookguard.Event, 8)
	q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	deadLetterAll(t, q, dead, testkit.DeadEvents[:2])
	ctx := t.Context()
	ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	f.Fix()
	_, err = q.ReplayDeadLetter(ctx, ds[0].Ref)
	require.NoError(t, err)
	waitFor(t, f.Calls, "the replay")
	replayed := "hookguard:{" + testName(t) + "}:replayed"
	require.True(t, srv.Client().HExists(ctx, replayed, ds[0].Ref).Val())

	require.NoError(t, q.DropDeadLetter(ctx, ds[0].Ref))
	assert.False(t, srv.Client().HExists(ctx, replayed, ds[0].Ref).Val(), "the replay count goes with the dead letter")
	left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"evt_1"}, refs(left))

	_, err = q.DeadLetter(ctx, "0-1")
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
	_, err = q.ReplayDeadLetter(ctx, "0-1")
	assert.ErrorIs(t, err, hookguard.ErrNoDeadLetter)
	assert.ErrorIs(t, q.DropDeadLetter(ctx, "0-1"), hookguard.ErrNoDeadLetter)
}

func TestDeadLetterRetention(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	t.Run("count", func(t *testing.T) {
		dead := make(chan hookguard.Event, 8)
		f := testkit.NewFailing()
		q := newTestQueue(t, srv.Client(), f, rediskit.WithMaxAttempts(1), rediskit.WithTrim(0, 0),
			rediskit.WithDeadLetterRetention(3, time.Hour),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, testkit.DeadEvents)
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 5)
		f.Fix()
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
		q := newTestQueue(t, srv.Client(), testkit.NewFailing(), rediskit.WithMaxAttempts(1), rediskit.WithTrim(0, 0),
			rediskit.WithDeadLetterRetention(100, age),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, testkit.DeadEvents[:2])
		ds, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		time.Sleep(time.Until(ds[1].At.Add(age + 10*time.Millisecond))) // the two are older than age
		deadLetterAll(t, q, dead, testkit.DeadEvents[2:3])
		n, err := q.TrimDeadLetters(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), n)
		left, err := q.DeadLetters(ctx, hookguard.DeadLetterFilter{})
		require.NoError(t, err)
		assert.Equal(t, []string{"evt_2"}, refs(left))
	})
	t.Run("the trim loop applies it", func(t *testing.T) {
		dead := make(chan hookguard.Event, 8)
		q := newTestQueue(t, srv.Client(), testkit.NewFailing(), rediskit.WithMaxAttempts(1),
			rediskit.WithTrim(50*time.Millisecond, 0), rediskit.WithDeadLetterRetention(1, time.Hour),
			rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
		deadLetterAll(t, q, dead, testkit.DeadEvents[:3])
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
			_, err := rediskit.NewQueue(t.Context(), rdb, testkit.NewFailing(), rediskit.WithDeadLetterRetention(tc.count, tc.age))
			require.ErrorIs(t, err, rediskit.ErrInvalidOption)
			assert.Contains(t, err.Error(), "WithDeadLetterRetention")
		})
	}
}
