package rediskit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
)

// levelLog is a slog.Handler that keeps the records at WARN or above.
type levelLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (*levelLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *levelLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		l.mu.Lock()
		l.recs = append(l.recs, r.Clone())
		l.mu.Unlock()
	}
	return nil
}
func (l *levelLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levelLog) WithGroup(string) slog.Handler      { return l }

func (l *levelLog) records() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recs)
}

const takenOverMsg = "rediskit: entries were reclaimed by another consumer while held here; they may be handled twice"

// TestRefreshReportsOnlyRealTakeovers drives the heartbeat's race by hand:
// between the snapshot of held entries and the refresh script, the entry
// leaves this consumer. Issue 15 saw, in a fault-free run, the WARN
// "entries were reclaimed by another consumer" for entries 0-2 ms old that
// this very process had just acknowledged: the script reported every entry
// no longer pending to us as reclaimed. An entry this process
// acknowledged or handed back must not be reported; one that another
// consumer claimed (or claimed and acknowledged) must be, at WARN, and
// counted in TakenOver.
func TestRefreshReportsOnlyRealTakeovers(t *testing.T) {
	srv := redistest.Start(t)
	tests := []struct {
		name string
		// between runs between the snapshot and the script; finish lets
		// the handler return.
		between   func(t *testing.T, q *Queue, other *redis.Client, id string, finish func())
		wantTaken bool
	}{
		{
			name: "acknowledged by the worker",
			between: func(t *testing.T, q *Queue, _ *redis.Client, id string, finish func()) {
				finish()
				waitUnheld(t, q, id)
			},
		},
		{
			// The worker sent XACK but has not yet dropped the entry.
			name: "acknowledged, still held",
			between: func(_ *testing.T, q *Queue, _ *redis.Client, id string, _ func()) {
				q.ack(q.all[0], id, false)
			},
		},
		{
			// Shutdown handed the entry back (idle for the whole
			// visibility timeout) and another consumer took it at once.
			name: "handed back, then claimed by another consumer",
			between: func(t *testing.T, q *Queue, other *redis.Client, id string, _ func()) {
				q.handOff(q.all[0], id, 1)
				claim(t, q, other, id, false)
			},
		},
		{
			name: "claimed by another consumer",
			between: func(t *testing.T, q *Queue, other *redis.Client, id string, _ func()) {
				claim(t, q, other, id, false)
			},
			wantTaken: true,
		},
		{
			name: "claimed and acknowledged by another consumer",
			between: func(t *testing.T, q *Queue, other *redis.Client, id string, _ func()) {
				claim(t, q, other, id, true)
			},
			wantTaken: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb, other := srv.Client(), srv.Client()
			logs := &levelLog{}
			started := make(chan struct{}, 1)
			release := make(chan struct{})
			var once sync.Once
			finish := func() { once.Do(func() { close(release) }) }
			h := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
				started <- struct{}{}
				<-release
				return nil
			})
			// The visibility timeout is long, so that the heartbeat never
			// runs on its own: the test calls refresh.
			q, err := NewQueue(t.Context(), rdb, h, WithName(fmt.Sprintf("refresh-%d", i)), WithWorkers(1),
				WithVisibilityTimeout(time.Hour), WithBlock(20*time.Millisecond), WithTrim(0, 0), WithLogger(slog.New(logs)))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				finish()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := q.Shutdown(ctx); err != nil {
					t.Error(err)
				}
			}()
			if err := q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "evt_1", Type: "test.event", Body: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler did not start")
			}
			id := heldID(t, q)

			q.refresh(q.all[0], func() { tt.between(t, q, other, id, finish) })

			finish()
			waitUnheld(t, q, id)
			recs := logs.records()
			var warned [][]string
			for _, r := range recs {
				if r.Message != takenOverMsg {
					t.Errorf("unexpected %s record %q", r.Level, r.Message)
					continue
				}
				r.Attrs(func(a slog.Attr) bool {
					if a.Key == "ids" {
						ids, _ := a.Value.Any().([]string)
						warned = append(warned, ids)
					}
					return true
				})
			}
			if tt.wantTaken {
				if len(warned) != 1 || !slices.Equal(warned[0], []string{id}) {
					t.Errorf("takeover warnings with ids %v; want one, for %s", warned, id)
				}
				if n := q.TakenOver(); n != 1 {
					t.Errorf("TakenOver() = %d; want 1", n)
				}
			} else {
				if len(warned) != 0 {
					t.Errorf("takeover warnings with ids %v for an entry this process let go of; want none", warned)
				}
				if n := q.TakenOver(); n != 0 {
					t.Errorf("TakenOver() = %d; want 0", n)
				}
			}
		})
	}
}

// heldID returns the ID of the one entry q holds.
func heldID(t *testing.T, q *Queue) string {
	t.Helper()
	q.heldMu.Lock()
	defer q.heldMu.Unlock()
	if len(q.all[0].held) != 1 {
		t.Fatalf("the queue holds %d entries; want 1", len(q.all[0].held))
	}
	for id := range q.all[0].held {
		return id
	}
	return ""
}

// waitUnheld waits until q's worker has finished with id.
func waitUnheld(t *testing.T, q *Queue, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.heldMu.Lock()
		_, held := q.all[0].held[id]
		q.heldMu.Unlock()
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry %s still held after 10s", id)
		}
		time.Sleep(time.Millisecond)
	}
}

// claim makes consumer "other" take id, as XAUTOCLAIM would after the
// visibility timeout, and acknowledge it if ack is set.
func claim(t *testing.T, q *Queue, other *redis.Client, id string, ack bool) {
	t.Helper()
	ctx := t.Context()
	got, err := other.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.Stream(), Group: q.cfg.group, Consumer: "other", Messages: []string{id}}).Result()
	if err != nil || len(got) != 1 {
		t.Fatalf("XCLAIM %s: %v, %v", id, got, err)
	}
	if ack {
		if err := other.XAck(ctx, q.Stream(), q.cfg.group, id).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTouchReply: the refresh script's reply is parsed strictly; a reply
// of another shape is an error, never a panic.
func TestTouchReply(t *testing.T) {
	tests := []struct {
		name             string
		res              []any
		wantOther, wantG []string
		wantErr          bool
	}{
		{name: "empty", res: []any{[]any{}, []any{}}},
		{name: "both", res: []any{[]any{"1-0"}, []any{"2-0", "3-0"}}, wantOther: []string{"1-0"}, wantG: []string{"2-0", "3-0"}},
		{name: "one list", res: []any{[]any{"1-0"}}, wantErr: true},
		{name: "not a list", res: []any{"1-0", []any{}}, wantErr: true},
		{name: "not a string", res: []any{[]any{int64(1)}, []any{}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other, gone, err := touchReply(tt.res)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v; want error %v", err, tt.wantErr)
			}
			if !slices.Equal(other, tt.wantOther) || !slices.Equal(gone, tt.wantG) {
				t.Errorf("got %v, %v; want %v, %v", other, gone, tt.wantOther, tt.wantG)
			}
		})
	}
}

// TestReclaimSkipsEntriesHeldHere: an entry this process is handling
// whose refresh came late (an overloaded process under -race saw it) is
// idle long enough for XAUTOCLAIM, and this process's own claim found it:
// it must not be handed to a second worker here, only refreshed.
func TestReclaimSkipsEntriesHeldHere(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	logs := &levelLog{}
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	h := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		started <- struct{}{}
		<-release
		return nil
	})
	// An hour of visibility: neither the heartbeat nor the fetcher's own
	// reclaim runs during the test; it calls reclaim.
	q, err := NewQueue(t.Context(), rdb, h, WithName("reclaim-held"), WithWorkers(2),
		WithVisibilityTimeout(time.Hour), WithBlock(20*time.Millisecond), WithTrim(0, 0), WithLogger(slog.New(logs)))
	require.NoError(t, err)
	defer func() {
		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, q.Shutdown(ctx))
	}()
	require.NoError(t, q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "evt_1", Type: "test.event", Body: []byte("{}")}))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not start")
	}
	id := heldID(t, q)
	// The entry looks as a late refresh leaves it: idle for two hours.
	require.NoError(t, rdb.Do(t.Context(), "XCLAIM", q.Stream(), DefaultGroup, q.Consumer(), 0, id, "IDLE", (2*time.Hour).Milliseconds(), "JUSTID").Err())

	es, _, err := q.reclaim(q.all[0], 2, "0-0")
	require.NoError(t, err)
	assert.Empty(t, es, "an entry held here must not be reclaimed for a second worker")
	p, err := rdb.XPendingExt(t.Context(), &redis.XPendingExtArgs{Stream: q.Stream(), Group: DefaultGroup, Start: id, End: id, Count: 1}).Result()
	require.NoError(t, err)
	require.Len(t, p, 1)
	assert.Less(t, p[0].Idle, time.Minute, "the claim refreshed it")
	select {
	case <-started:
		t.Fatal("the entry was handed to a second worker")
	case <-time.After(100 * time.Millisecond):
	}
}
