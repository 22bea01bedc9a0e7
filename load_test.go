package hookguard_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// senders runs fn(i) for i in [0, n) on a pool of goroutines. The race
// detector caps live goroutines, so 10,000 senders share a pool.
func senders(n, pool int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range pool {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	close(start)
	wg.Wait()
}

// pulse wakes every waiter each time fire is called. A waiter takes its
// channel before acting, so it cannot miss a fire that follows.
type pulse struct {
	mu sync.Mutex
	ch chan struct{}
}

func (p *pulse) wait() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil {
		p.ch = make(chan struct{})
	}
	return p.ch
}

func (p *pulse) fire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch != nil {
		close(p.ch)
	}
	p.ch = make(chan struct{})
}

// TestConcurrentDuplicates sends 10,000 deliveries, 20% of them copies of
// others, from 256 concurrent senders that retry on 409 as senders do.
// Every unique event must run exactly once and none may be lost. With a
// store the receiver reserves in, then commits to, a copy can meet a
// pending reservation (409); with the in-memory store and queue, which
// record and enqueue in one step (dedupe.Memory.Once), it never does.
func TestConcurrentDuplicates(t *testing.T) {
	for _, tc := range []struct{ name, store string }{
		{"stripe", "reserve-commit"}, {"github", "reserve-commit"},
		{"stripe", "memory"}, {"github", "memory"},
	} {
		name := tc.name
		t.Run(name+"/"+tc.store, func(t *testing.T) {
			const total, unique = 10000, 8000
			p := newProvider(t, name)
			ds := make([]delivery, unique)
			for i := range ds {
				id := fmt.Sprintf("evt_%05d", i)
				ds[i] = sign(t, p, id, eventBody(id))
			}
			// Copies of deliveries interleave with their originals.
			order := make([]int, 0, total)
			for i := range unique {
				order = append(order, i)
				if i%4 == 0 { // 2,000 copies
					order = append(order, i)
				}
			}
			rec := testkit.NewCounter()
			var st dedupe.Store = testkit.NewFlakyStore()
			if tc.store == "memory" {
				st = testkit.NewMemory(t)
			}
			var settled pulse
			r := mustNew(t, p, rec, hookguard.WithStore(st), hookguard.WithCapacity(total),
				hookguard.WithHooks(hookguard.Hooks{
					OnAccepted: func(hookguard.Event) { settled.fire() },
					OnRejected: func(string, int, error) { settled.fire() },
				}))
			var ok200, dup, conflicts atomic.Int64
			senders(len(order), 256, func(i int) {
				d := ds[order[i]]
				for {
					next := settled.wait()
					w := testkit.Serve(r, d.request())
					switch w.Code {
					case http.StatusOK:
						if w.Header().Get(hookguard.DuplicateHeader) == "true" {
							dup.Add(1)
						} else {
							ok200.Add(1)
						}
						return
					case http.StatusConflict:
						conflicts.Add(1)
						<-next // retry once some delivery has settled
					default:
						// assert, not require: a sender's goroutine.
						assert.Failf(t, "unexpected status", "%s: status %d", d.id, w.Code)
						return
					}
				}
			})
			shutdown(t, r)
			require.Equal(t, int64(unique), ok200.Load(), "fresh 200s")
			require.Equal(t, int64(total-unique), dup.Load(), "duplicates")
			require.Equal(t, unique, rec.Distinct(), "distinct events handled")
			for _, d := range ds {
				require.Equal(t, 1, rec.Times(d.id), "%s handled", d.id)
			}
			if tc.store == "memory" {
				require.Zero(t, conflicts.Load(), "copies answered 409; the in-memory pair never holds a pending reservation")
			}
			t.Logf("409s seen and retried: %d", conflicts.Load())
		})
	}
}

// TestForgedRequestsTouchNothing sends 10,000 forged requests of several
// kinds: neither the store nor the queue may see any of them.
func TestForgedRequestsTouchNothing(t *testing.T) {
	p := newProvider(t, "stripe")
	gh := newProvider(t, "github")
	rec := testkit.NewCounter()
	st := testkit.NewFlakyStore()
	q := &countingQueue{inner: testkit.NewMemoryQueue(t, rec)}
	r, err := hookguard.New(p, nil, hookguard.WithQueue(q), hookguard.WithStore(st), hookguard.WithClock(clock))
	require.NoError(t, err)
	var non4xx atomic.Int64
	senders(10000, 64, func(i int) {
		id := fmt.Sprintf("evt_forged_%d", i)
		d := sign(t, p, id, eventBody(id))
		req := d.request()
		switch i % 5 {
		case 0: // body changed after signing
			req.Body = io.NopCloser(bytes.NewReader(eventBody(id + "x")))
			req.ContentLength = -1
		case 1: // signed with another secret
			req.Header.Set("Stripe-Signature", "t=1700000000,v1="+fmt.Sprintf("%064x", i))
		case 2: // no signature
			req.Header.Del("Stripe-Signature")
		case 3: // another provider's signature
			req = sign(t, gh, id, eventBody(id)).request()
		case 4: // replayed an hour later
			req.Header.Set("Stripe-Signature", "t=1699996400,"+d.header.Get("Stripe-Signature")[len("t=1700000000,"):])
		}
		if w := testkit.Serve(r, req); w.Code < 400 || w.Code >= 500 {
			non4xx.Add(1)
		}
	})
	require.Zero(t, non4xx.Load(), "forged requests not refused with 4xx")
	require.Zero(t, st.Reserves.Load(), "forgeries reached state: store reserves")
	require.Zero(t, st.Len(), "forgeries reached state: store keys")
	require.Zero(t, q.n.Load(), "forgeries reached state: enqueued")
	require.NoError(t, q.inner.Shutdown(context.Background()))
	require.Zero(t, rec.Total(), "handler ran for a forged request")
}

// TestQueueCapacityExact offers 5,000 distinct events to a queue of
// capacity 1,000 whose workers are blocked: exactly 1,000 are accepted and
// stored, 4,000 get 503, and re-sending those later handles each once.
func TestQueueCapacityExact(t *testing.T) {
	for _, store := range []string{"reserve-commit", "memory"} {
		t.Run(store, func(t *testing.T) { testQueueCapacityExact(t, store) })
	}
}

// testQueueCapacityExact runs TestQueueCapacityExact with a store that
// counts commits, or with the in-memory store, which the receiver fills
// through Once together with its queue.
func testQueueCapacityExact(t *testing.T, store string) {
	const capacity, offered = 1000, 5000
	p := newProvider(t, "stripe")
	ds := make([]delivery, offered)
	for i := range ds {
		id := fmt.Sprintf("evt_%05d", i)
		ds[i] = sign(t, p, id, eventBody(id))
	}
	gate := make(chan struct{})
	handled := make(chan struct{}, offered)
	rec := testkit.NewCounter()
	rec.Fn = func(ctx context.Context, e hookguard.Event) error {
		<-gate
		return nil
	}
	st := testkit.NewFlakyStore()
	mem := testkit.NewMemory(t)
	var use dedupe.Store = st
	if store == "memory" {
		use = mem
	}
	r := mustNew(t, p, rec, hookguard.WithStore(use),
		hookguard.WithCapacity(capacity), hookguard.WithWorkers(4),
		hookguard.WithHooks(hookguard.Hooks{OnHandled: func(hookguard.Event, int, error, time.Duration) { handled <- struct{}{} }}))
	codes := make([]int, offered)
	senders(offered, 500, func(i int) { codes[i] = testkit.Serve(r, ds[i].request()).Code })
	var accepted, refused []int
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			accepted = append(accepted, i)
		case http.StatusServiceUnavailable:
			refused = append(refused, i)
		default:
			require.Failf(t, "unexpected status", "%s: status %d", ds[i].id, c)
		}
	}
	require.Len(t, accepted, capacity, "accepted")
	require.Len(t, refused, offered-capacity, "refused")
	switch store {
	case "memory":
		require.Equal(t, capacity, mem.Len(), "keys in the store, one per enqueued event")
	default:
		require.Equal(t, int64(capacity), st.Commits.Load(), "store commits")
		require.Equal(t, capacity, st.Len(), "keys in the store")
	}
	close(gate)
	// Re-send the refused ones; on 503 wait until one event is handled
	// (which frees a slot) and send again.
	for _, i := range refused {
		for {
			w := testkit.Serve(r, ds[i].request())
			if w.Code == http.StatusOK {
				require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "%s: refused event later seen as duplicate", ds[i].id)
				break
			}
			require.Equal(t, http.StatusServiceUnavailable, w.Code, ds[i].id)
			<-handled
		}
	}
	shutdown(t, r)
	for _, d := range ds {
		require.Equal(t, 1, rec.Times(d.id), "%s handled", d.id)
	}
}
