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
						t.Errorf("%s: status %d", d.id, w.Code)
						return
					}
				}
			})
			shutdown(t, r)
			if ok200.Load() != unique || dup.Load() != total-unique {
				t.Fatalf("fresh 200s = %d, duplicates = %d; want %d, %d", ok200.Load(), dup.Load(), unique, total-unique)
			}
			if got := rec.Distinct(); got != unique {
				t.Fatalf("%d distinct events handled, want %d", got, unique)
			}
			for _, d := range ds {
				if n := rec.Times(d.id); n != 1 {
					t.Fatalf("%s handled %d times, want 1", d.id, n)
				}
			}
			if tc.store == "memory" && conflicts.Load() != 0 {
				t.Fatalf("%d copies were answered 409; the in-memory pair never holds a pending reservation", conflicts.Load())
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
	if err != nil {
		t.Fatal(err)
	}
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
	if non4xx.Load() != 0 {
		t.Fatalf("%d forged requests were not refused with 4xx", non4xx.Load())
	}
	if st.Reserves.Load() != 0 || st.Len() != 0 || q.n.Load() != 0 {
		t.Fatalf("forgeries reached state: %d reserves, %d keys, %d enqueued", st.Reserves.Load(), st.Len(), q.n.Load())
	}
	if err := q.inner.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec.Total() != 0 {
		t.Fatal("handler ran for a forged request")
	}
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
			t.Fatalf("%s: status %d", ds[i].id, c)
		}
	}
	if len(accepted) != capacity || len(refused) != offered-capacity {
		t.Fatalf("accepted %d, refused %d; want %d, %d", len(accepted), len(refused), capacity, offered-capacity)
	}
	switch store {
	case "memory":
		if mem.Len() != capacity {
			t.Fatalf("store holds %d keys; want %d, one per enqueued event", mem.Len(), capacity)
		}
	default:
		if st.Commits.Load() != capacity || st.Len() != capacity {
			t.Fatalf("store holds %d keys after %d commits; want %d", st.Len(), st.Commits.Load(), capacity)
		}
	}
	close(gate)
	// Re-send the refused ones; on 503 wait until one event is handled
	// (which frees a slot) and send again.
	for _, i := range refused {
		for {
			w := testkit.Serve(r, ds[i].request())
			if w.Code == http.StatusOK {
				if w.Header().Get(hookguard.DuplicateHeader) != "" {
					t.Fatalf("%s: refused event later seen as duplicate", ds[i].id)
				}
				break
			}
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s: status %d", ds[i].id, w.Code)
			}
			<-handled
		}
	}
	shutdown(t, r)
	for _, d := range ds {
		if n := rec.Times(d.id); n != 1 {
			t.Fatalf("%s handled %d times, want 1", d.id, n)
		}
	}
}
