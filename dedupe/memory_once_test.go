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
		if st, err := m.Reserve(ctx, k, "other", time.Minute); err != nil || st != dedupe.Reserved {
			t.Fatalf("Reserve(%q) = %v, %v", k, st, err)
		}
	}
	committed := func(t *testing.T, m *dedupe.Memory, clk *fakeClock, k string) {
		pending(t, m, clk, k)
		if err := m.Commit(ctx, k, "other", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	once := func(t *testing.T, m *dedupe.Memory, _ *fakeClock, k string) {
		if st, err := m.Once(ctx, []string{k}, time.Hour, func() error { return nil }); err != nil || st != dedupe.Reserved {
			t.Fatalf("Once(%q) = %v, %v", k, st, err)
		}
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
				if err != nil || st != tt.want {
					t.Fatalf("Once = %v, %v; want %v", st, err, tt.want)
				}
				if wantCalls := map[bool]int{true: 1, false: 0}[tt.want == dedupe.Reserved]; calls != wantCalls {
					t.Fatalf("store ran %d times; want %d", calls, wantCalls)
				}
				if tt.want != dedupe.Reserved {
					return
				}
				// Every key is seen now, and owned by no token.
				for _, k := range keys {
					if st, err := m.Reserve(ctx, k, "later", time.Minute); err != nil || st != dedupe.Seen {
						t.Fatalf("Reserve(%q) after Once = %v, %v; want seen", k, st, err)
					}
					if err := m.Commit(ctx, k, "later", time.Hour); !errors.Is(err, dedupe.ErrNotOwner) {
						t.Fatalf("Commit of a Once record = %v; want ErrNotOwner", err)
					}
					if err := m.Release(ctx, k, "later"); err != nil {
						t.Fatal(err)
					}
				}
				if got := m.Len(); got != len(keys) {
					t.Fatalf("Len() = %d after Release by a stranger; want %d", got, len(keys))
				}
				clk.Advance(time.Hour)
				if got := m.Len(); got != 0 {
					t.Fatalf("Len() = %d after the TTL; want 0", got)
				}
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
	if st, err := m.Once(ctx, keys, time.Hour, func() error { return full }); !errors.Is(err, full) || st != 0 {
		t.Fatalf("Once with a failing store = %v, %v; want the store's error", st, err)
	}
	if got := m.Len(); got != 0 {
		t.Fatalf("Len() = %d after a failed store; want 0", got)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the store's panic did not reach the caller")
			}
		}()
		_, _ = m.Once(ctx, keys, time.Hour, func() error { panic("boom") })
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if st, err := m.Once(ctx, keys, time.Hour, func() error { return nil }); err != nil || st != dedupe.Reserved {
			t.Errorf("Once after a panic = %v, %v; want reserved", st, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Once after a panicking store blocked: a shard stayed locked")
	}
}

func TestMemoryOnceArguments(t *testing.T) {
	m := newMemory(t)
	ok := func() error { t.Error("store ran on bad arguments"); return nil }
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
			if _, err := m.Once(tt.ctx, tt.keys, tt.ttl, ok); !errors.Is(err, tt.want) {
				t.Fatalf("Once = %v; want %v", err, tt.want)
			}
		})
	}
	// The same key twice is one record.
	if st, err := m.Once(context.Background(), []string{"k", "k"}, time.Hour, func() error { return nil }); err != nil || st != dedupe.Reserved {
		t.Fatalf("Once(k, k) = %v, %v", st, err)
	}
	if got := m.Len(); got != 1 {
		t.Fatalf("Len() = %d after Once(k, k); want 1", got)
	}
	// More keys than fit on the stack still work.
	many := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	if st, err := m.Once(context.Background(), many, time.Hour, func() error { return nil }); err != nil || st != dedupe.Reserved {
		t.Fatalf("Once(6 keys) = %v, %v", st, err)
	}
	if got := m.Len(); got != 7 {
		t.Fatalf("Len() = %d; want 7", got)
	}
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
			if n := wrong.Load(); n != 0 {
				t.Fatalf("%d calls answered neither reserved nor seen", n)
			}
			for d := range ran {
				if n := ran[d].Load(); n != 1 {
					t.Fatalf("delivery %d was stored %d times; want once", d, n)
				}
			}
		})
	}
}
