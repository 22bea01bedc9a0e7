package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryOnce runs Once against every state a key can be in, with one
// key and with two, and checks what it answers, whether it ran store, and
// what the keys are afterwards.
func TestMemoryOnce(t *testing.T) {
	ctx := context.Background()
	// setup puts key k into a state, reading and moving clk.
	type setup func(t *testing.T, m *dedupe.Memory, clk *fakeClock, k string)
	absent := func(*testing.T, *dedupe.Memory, *fakeClock, string) {}
	pending := func(t *testing.T, m *dedupe.Memory, _ *fakeClock, k string) {
		st, err := m.Reserve(ctx, k, "other", time.Minute)
		require.NoError(t, err, "Reserve(%q)", k)
		require.Equal(t, dedupe.Reserved, st, "Reserve(%q)", k)
	}
	committed := func(t *testing.T, m *dedupe.Memory, clk *fakeClock, k string) {
		pending(t, m, clk, k)
		require.NoError(t, m.Commit(ctx, k, "other", time.Hour))
	}
	once := func(t *testing.T, m *dedupe.Memory, _ *fakeClock, k string) {
		st, err := m.Once(ctx, []string{k}, time.Hour, func() error { return nil })
		require.NoError(t, err, "Once(%q)", k)
		require.Equal(t, dedupe.Reserved, st, "Once(%q)", k)
	}
	expired := func(s setup) setup {
		return func(t *testing.T, m *dedupe.Memory, clk *fakeClock, k string) {
			s(t, m, clk, k)
			clk.Advance(2 * time.Hour) // past both the pending and the seen TTL
		}
	}
	tests := []struct {
		name   string
		states []setup // one per key
		want   dedupe.Status
	}{
		{"absent", []setup{absent}, dedupe.Reserved},
		{"pending", []setup{pending}, dedupe.Pending},
		{"committed", []setup{committed}, dedupe.Seen},
		{"recorded by Once", []setup{once}, dedupe.Seen},
		{"pending, expired", []setup{expired(pending)}, dedupe.Reserved},
		{"committed, expired", []setup{expired(committed)}, dedupe.Reserved},
		{"Once, expired", []setup{expired(once)}, dedupe.Reserved},
		{"two absent", []setup{absent, absent}, dedupe.Reserved},
		{"second committed", []setup{absent, committed}, dedupe.Seen},
		{"first pending", []setup{pending, absent}, dedupe.Pending},
		{"second expired", []setup{absent, expired(committed)}, dedupe.Reserved},
	}
	for _, tt := range tests {
		for _, shards := range []int{1, 64} { // all keys in one shard, and spread out
			t.Run(fmt.Sprintf("%s/shards=%d", tt.name, shards), func(t *testing.T) {
				clk := newFakeClock()
				m := newMemory(t, dedupe.WithClock(clk.Now), dedupe.WithShards(shards))
				keys := make([]string, len(tt.states))
				for i, s := range tt.states {
					keys[i] = fmt.Sprintf("provider:evt_%d", i)
					s(t, m, clk, keys[i])
				}
				calls := 0
				st, err := m.Once(ctx, keys, time.Hour, func() error { calls++; return nil })
				require.NoError(t, err, "Once")
				require.Equal(t, tt.want, st, "Once")
				wantCalls := map[bool]int{true: 1, false: 0}[tt.want == dedupe.Reserved]
				require.Equal(t, wantCalls, calls, "times the store ran")
				if tt.want != dedupe.Reserved {
					return
				}
				// Every key is seen now, and owned by no token.
				for _, k := range keys {
					st, err := m.Reserve(ctx, k, "later", time.Minute)
					require.NoError(t, err, "Reserve(%q) after Once", k)
					require.Equal(t, dedupe.Seen, st, "Reserve(%q) after Once", k)
					require.ErrorIs(t, m.Commit(ctx, k, "later", time.Hour), dedupe.ErrNotOwner, "Commit of a Once record")
					require.NoError(t, m.Release(ctx, k, "later"))
				}
				require.Equal(t, len(keys), m.Len(), "Len() after Release by a stranger")
				clk.Advance(time.Hour)
				require.Zero(t, m.Len(), "Len() after the TTL")
			})
		}
	}
}

// TestMemoryOnceStoreFails checks that a failed store records nothing, so
// that the sender's retry gets through, and that a panicking store leaves
// no shard locked.
func TestMemoryOnceStoreFails(t *testing.T) {
	ctx := context.Background()
	m := newMemory(t, dedupe.WithShards(1))
	keys := []string{"p:a", "p:digest:b"}
	full := errors.New("queue full")
	st, err := m.Once(ctx, keys, time.Hour, func() error { return full })
	require.ErrorIs(t, err, full, "Once with a failing store must return the store's error")
	require.Zero(t, st, "Once with a failing store: status")
	require.Zero(t, m.Len(), "Len() after a failed store")
	require.Panics(t, func() {
		_, _ = m.Once(ctx, keys, time.Hour, func() error { panic("boom") })
	}, "the store's panic did not reach the caller")
	done := make(chan struct{})
	go func() {
		defer close(done)
		// In another goroutine: assert, never require.
		st, err := m.Once(ctx, keys, time.Hour, func() error { return nil })
		assert.NoError(t, err, "Once after a panic")
		assert.Equal(t, dedupe.Reserved, st, "Once after a panic")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Once after a panicking store blocked: a shard stayed locked")
	}
}

func TestMemoryOnceArguments(t *testing.T) {
	m := newMemory(t)
	ok := func() error { assert.Fail(t, "store ran on bad arguments"); return nil }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		keys []string
		ttl  time.Duration
		want error
	}{
		{"no keys", context.Background(), nil, time.Hour, dedupe.ErrEmptyKey},
		{"empty key", context.Background(), []string{"a", ""}, time.Hour, dedupe.ErrEmptyKey},
		{"zero TTL", context.Background(), []string{"a"}, 0, dedupe.ErrInvalidTTL},
		{"cancelled", cancelled, []string{"a"}, time.Hour, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Once(tt.ctx, tt.keys, tt.ttl, ok)
			require.ErrorIs(t, err, tt.want, "Once")
		})
	}
	// The same key twice is one record.
	st, err := m.Once(context.Background(), []string{"k", "k"}, time.Hour, func() error { return nil })
	require.NoError(t, err, "Once(k, k)")
	require.Equal(t, dedupe.Reserved, st, "Once(k, k)")
	require.Equal(t, 1, m.Len(), "Len() after Once(k, k)")
	// More keys than fit on the stack still work.
	many := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	st, err = m.Once(context.Background(), many, time.Hour, func() error { return nil })
	require.NoError(t, err, "Once(6 keys)")
	require.Equal(t, dedupe.Reserved, st, "Once(6 keys)")
	require.Equal(t, 7, m.Len(), "Len()")
}

// TestMemoryOnceConcurrent races many callers over the same deliveries,
// each pair of keys given in both orders (a deadlock here would hang the
// test): every delivery's store runs exactly once, and every other caller
// is told it was seen, never pending.
func TestMemoryOnceConcurrent(t *testing.T) {
	ctx := context.Background()
	const deliveries, callers = 200, 8
	for _, shards := range []int{1, 4, 64} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			m := newMemory(t, dedupe.WithShards(shards))
			var ran [deliveries]atomic.Int32
			var wrong atomic.Int32
			var wg sync.WaitGroup
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for d := range deliveries {
						keys := []string{fmt.Sprintf("p:%d", d), fmt.Sprintf("p:digest:%d", d)}
						if c%2 == 1 {
							keys[0], keys[1] = keys[1], keys[0]
						}
						st, err := m.Once(ctx, keys, time.Hour, func() error { ran[d].Add(1); return nil })
						if err != nil || (st != dedupe.Reserved && st != dedupe.Seen) {
							wrong.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			require.Zero(t, wrong.Load(), "calls that answered neither reserved nor seen")
			for d := range ran {
				require.Equal(t, int32(1), ran[d].Load(), "delivery %d must be stored exactly once", d)
			}
		})
	}
}
