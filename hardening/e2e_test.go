package hardening

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
)

// TestSenderNothingLost checks end to end, through the sender simulator,
// that every event a sender was answered 2xx for is handled, exactly once
// where the design promises it (one in-memory receiver, within the dedupe
// TTL): deliveries arrive out of order, on 16 connections, 10% of acked
// events are delivered again (a lost 2xx), the handler fails 20% of first
// attempts, and the queue is small enough to answer 503 under the burst.
func TestSenderNothingLost(t *testing.T) {
	n := 2000
	if raceEnabled {
		n = 1000
	}
	p := stdPreset(t)
	h := testkit.NewCounter()
	var flaky atomic.Int64
	h.Fn = func(_ context.Context, e hookguard.Event) error {
		time.Sleep(time.Millisecond)
		if e.Attempt == 1 && flaky.Add(1)%5 == 0 {
			return errors.New("downstream hiccup")
		}
		return nil
	}
	recv := newReceiver(t, p, h, hookguard.WithCapacity(16), hookguard.WithWorkers(2),
		hookguard.WithBackoff(time.Millisecond, 10*time.Millisecond), hookguard.WithMaxAttempts(10))
	srv := httptest.NewServer(recv)
	defer srv.Close()
	ds := make([]Delivery, n)
	for i := range ds {
		id := fmt.Sprintf("sim-%05d", i)
		ds[i] = Delivery{ID: id, Body: eventBody(id, 200)}
	}
	snd := &Sender{URL: srv.URL, Sign: signer(p), Workers: 16, MaxAttempts: 200, Redeliver: 0.1, Seed: 7, RetryAfterScale: 0.02,
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := snd.Run(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if owed := rep.Owed(); len(owed) != 0 {
		t.Fatalf("%d events never acknowledged after %d attempts each: %v", len(owed), snd.MaxAttempts, owed[:min(5, len(owed))])
	}
	checkHandled(t, h, rep, true)
	t.Logf("%d events: %d requests, answers %v; handler calls %d", n, rep.Requests, rep.ByStatus, h.Total())
	if rep.ByStatus[http.StatusServiceUnavailable] == 0 {
		t.Log("note: the queue never filled; the 503 path was not exercised in this run")
	}
}

// TestSenderOutOfOrder checks that the simulator itself delivers out of
// order and retries: the test of the tests.
func TestSenderOutOfOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	fails := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Id")
		mu.Lock()
		order = append(order, id)
		fails[id]++
		n := fails[id]
		mu.Unlock()
		if n < 3 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	ds := make([]Delivery, 50)
	for i := range ds {
		ds[i] = Delivery{ID: fmt.Sprintf("%02d", i)}
	}
	snd := &Sender{URL: srv.URL, Workers: 4, MaxAttempts: 5, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		RetryAfterScale: 0.01, Seed: 1,
		Sign: func(d Delivery, _ int, _ time.Time) (http.Header, error) {
			return http.Header{"X-Id": {d.ID}}, nil
		}}
	rep, err := snd.Run(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Acked()) != 50 || rep.Requests != 150 {
		t.Fatalf("acked %d, requests %d; want 50 and 150", len(rep.Acked()), rep.Requests)
	}
	firsts := []string{}
	seen := map[string]bool{}
	for _, id := range order {
		if !seen[id] {
			seen[id] = true
			firsts = append(firsts, id)
		}
	}
	if slices.IsSorted(firsts) {
		t.Error("the sender delivered in order")
	}
	for _, o := range rep.Outcomes {
		if !slices.Equal(o.Statuses, []int{503, 503, 200}) {
			t.Errorf("%s: statuses %v", o.ID, o.Statuses)
		}
	}
}

// TestShutdownUnderLoad is plan test 30 (a) for the in-memory queue:
// http.Server.Shutdown during a steady stream of deliveries answers every
// request that was in flight (no reset), and a Receiver.Shutdown with a
// 10 ms handler drains every accepted event. With a 5 s handler and a
// short drain deadline, every accepted event that was not handled is
// handed to the dead-letter hook: accepted = handled + dead-lettered.
func TestShutdownUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name     string
		work     time.Duration
		deadline time.Duration
	}{{"10ms handler drains", 10 * time.Millisecond, 30 * time.Second}, {"5s handler dead-letters", 5 * time.Second, 200 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			p := stdPreset(t)
			var accepted, handled, dead atomic.Int64
			h := hookguard.HandlerFunc(func(ctx context.Context, _ hookguard.Event) error {
				select {
				case <-time.After(tc.work):
					handled.Add(1)
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			recv, err := hookguard.New(p, h, hookguard.WithHooks(hookguard.Hooks{
				OnAccepted:   func(hookguard.Event) { accepted.Add(1) },
				OnDeadLetter: func(hookguard.Event, error) { dead.Add(1) },
			}), hookguard.WithCapacity(10_000), hookguard.WithWorkers(8))
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var started atomic.Int64
			srv := recommendedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				started.Add(1)
				recv.ServeHTTP(w, r)
			}))
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			url := "http://" + ln.Addr().String() + "/hook"

			// 8 senders post as fast as they can until the server closes.
			var resets, answered atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					c := &http.Client{Transport: &http.Transport{}}
					defer c.CloseIdleConnections()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						id := fmt.Sprintf("sd-%d-%d", w, i)
						s := sign(t, p, id, eventBody(id, 100), time.Now())
						req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(s.body))
						req.Header = s.header.Clone()
						resp, err := c.Do(req)
						if err != nil {
							var op *net.OpError
							if errors.As(err, &op) && op.Op == "dial" {
								return // the listener is closed: shutdown began
							}
							resets.Add(1)
							return
						}
						resp.Body.Close()
						answered.Add(1)
					}
				})
			}
			time.Sleep(300 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("http.Server.Shutdown: %v", err)
			}
			cancel()
			close(stop)
			wg.Wait()
			<-served
			dctx, dcancel := context.WithTimeout(context.Background(), tc.deadline)
			derr := recv.Shutdown(dctx)
			dcancel()
			// A request the server had begun must be answered. A
			// request written on a keep-alive connection just as the
			// server closed it idle is never read (the client sees a
			// reset or EOF, and a sender retries it): that is not an
			// in-flight request, so it is only logged.
			if got, want := answered.Load(), started.Load(); got != want {
				t.Errorf("server began %d requests, clients got %d answers: an in-flight request was cut off", want, got)
			}
			a, hd, d := accepted.Load(), handled.Load(), dead.Load()
			t.Logf("%d transport errors on idle connections; %d answered, %d accepted, %d handled, %d dead-lettered at exit, Shutdown error %v", resets.Load(), answered.Load(), a, hd, d, derr)
			if a == 0 {
				t.Fatal("nothing was accepted before shutdown")
			}
			if tc.work < time.Second {
				if derr != nil || hd != a || d != 0 {
					t.Errorf("drain: Shutdown %v, handled %d of %d, dead-lettered %d; want all handled", derr, hd, a, d)
				}
			} else if hd+d != a || d == 0 {
				t.Errorf("accepted %d != handled %d + dead-lettered %d: an accepted event vanished", a, hd, d)
			}
		})
	}
}

// TestMemoryDedupeBounded is plan test 29 (d): an in-memory dedupe store
// capped at 100,000 entries holds at most that many after 1,000,000
// unique IDs, in bounded heap, and honours its TTL under a fake clock.
func TestMemoryDedupeBounded(t *testing.T) {
	const capacity = 100_000
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 200_000
	}
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	store := testkit.NewMemory(t, dedupe.WithMaxEntries(capacity), dedupe.WithClock(clock))
	ctx := context.Background()
	keys := make([]string, 0, 64)
	for i := range n {
		k := fmt.Sprintf("stripe:evt_%032d", i)
		if st, err := store.Reserve(ctx, k, "tok", time.Minute); err != nil || st != dedupe.Reserved {
			t.Fatalf("Reserve(%s) = %v, %v", k, st, err)
		}
		if err := store.Commit(ctx, k, "tok", time.Hour); err != nil {
			t.Fatalf("Commit(%s): %v", k, err)
		}
		if i >= n-64 {
			keys = append(keys, k)
		}
	}
	if l := store.Len(); l > capacity {
		t.Errorf("Len() = %d after %d IDs, want at most %d", l, n, capacity)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	heap := int64(m1.HeapInuse) - int64(m0.HeapInuse)
	t.Logf("%d IDs into a store capped at %d: Len %d, heap %.1f MiB", n, capacity, store.Len(), float64(heap)/(1<<20))
	if heap > 64<<20 {
		t.Errorf("store heap %d bytes, want at most 64 MiB", heap)
	}
	// The newest keys are remembered; TTL: seen until 1 h, gone after.
	for _, k := range keys {
		if st, _ := store.Reserve(ctx, k, "tok2", time.Minute); st != dedupe.Seen {
			t.Fatalf("%s: %v right after commit, want Seen", k, st)
		}
	}
	now.Add(int64(time.Hour - time.Second))
	if st, _ := store.Reserve(ctx, keys[0], "tok2", time.Minute); st != dedupe.Seen {
		t.Errorf("1 s before the TTL ends: %v, want Seen", st)
	}
	now.Add(int64(2 * time.Second))
	if st, _ := store.Reserve(ctx, keys[1], "tok2", time.Minute); st != dedupe.Reserved {
		t.Errorf("1 s after the TTL ended: %v, want Reserved (forgotten)", st)
	}
}
