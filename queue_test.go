package hookguard_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
)

// deadLetters records dead-lettered events.
type deadLetters struct {
	mu   sync.Mutex
	errs map[string]error
}

func newDeadLetters() *deadLetters { return &deadLetters{errs: make(map[string]error)} }

func (d *deadLetters) add(e hookguard.Event, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.errs[e.ID]; dup {
		panic("event dead-lettered twice: " + e.ID)
	}
	d.errs[e.ID] = err
}

func (d *deadLetters) get(id string) (error, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	err, ok := d.errs[id]
	return err, ok
}

func (d *deadLetters) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.errs)
}

var errFlaky = errors.New("downstream unavailable")

func TestMemoryQueueRetries(t *testing.T) {
	tests := []struct {
		name         string
		fn           func(attempt int) error
		wantAttempts int
		wantDead     bool
		wantErr      error
	}{
		{"success first time", func(int) error { return nil }, 1, false, nil},
		{"succeeds on third attempt", func(a int) error {
			if a < 3 {
				return errFlaky
			}
			return nil
		}, 3, false, nil},
		{"always fails: dead-lettered after max attempts", func(int) error { return errFlaky }, 4, true, errFlaky},
		{"panics: retried, then dead-lettered", func(int) error { panic("boom") }, 4, true, hookguard.ErrHandlerPanic},
		{"permanent: dead-lettered at once", func(int) error { return hookguard.Permanent(errFlaky) }, 1, true, errFlaky},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dl := newDeadLetters()
				var attempts []int
				var waits []time.Duration
				last := time.Now()
				h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
					attempts = append(attempts, e.Attempt)
					waits = append(waits, time.Since(last))
					last = time.Now()
					return tt.fn(e.Attempt)
				})
				q := testkit.NewMemoryQueue(t, h, hookguard.WithWorkers(1), hookguard.WithMaxAttempts(4),
					hookguard.WithBackoff(time.Second, 10*time.Second), hookguard.WithDeadLetter(func(e hookguard.Event, err error) {
						if e.Attempt != tt.wantAttempts {
							t.Errorf("dead letter Attempt = %d, want %d", e.Attempt, tt.wantAttempts)
						}
						dl.add(e, err)
					}))
				if err := q.Enqueue(context.Background(), hookguard.Event{ID: "e1"}); err != nil {
					t.Fatal(err)
				}
				if err := q.Shutdown(context.Background()); err != nil {
					t.Fatalf("Shutdown = %v", err)
				}
				if len(attempts) != tt.wantAttempts {
					t.Fatalf("attempts = %v, want %d", attempts, tt.wantAttempts)
				}
				for i, a := range attempts {
					if a != i+1 {
						t.Errorf("attempt %d numbered %d", i+1, a)
					}
				}
				// Full jitter: wait before retry n is in (0, base*2^(n-1)].
				for i := 1; i < len(waits); i++ {
					if ceil := time.Second << (i - 1); waits[i] <= 0 || waits[i] > ceil {
						t.Errorf("wait before attempt %d = %v, want in (0, %v]", i+1, waits[i], ceil)
					}
				}
				err, dead := dl.get("e1")
				if dead != tt.wantDead {
					t.Fatalf("dead-lettered = %v, want %v", dead, tt.wantDead)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("dead-letter error = %v, want %v", err, tt.wantErr)
				}
				if q.Len() != 0 {
					t.Fatalf("Len = %d after drain", q.Len())
				}
			})
		})
	}
}

type payload struct {
	Amount int `json:"amount"`
}

func TestTypedDecodeFailureIsPermanent(t *testing.T) {
	dl := newDeadLetters()
	var got []int
	var mu sync.Mutex
	h := hookguard.Typed(func(ctx context.Context, e hookguard.Event, p payload) error {
		mu.Lock()
		got = append(got, p.Amount)
		mu.Unlock()
		return nil
	})
	q := testkit.NewMemoryQueue(t, h, hookguard.WithDeadLetter(dl.add))
	_ = q.Enqueue(context.Background(), hookguard.Event{ID: "good", Body: []byte(`{"amount":42}`)})
	_ = q.Enqueue(context.Background(), hookguard.Event{ID: "bad", Body: []byte(`{"amount":"x"`)})
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 42 {
		t.Fatalf("decoded payloads = %v, want [42]", got)
	}
	err, ok := dl.get("bad")
	if !ok || !hookguard.IsPermanent(err) {
		t.Fatalf("bad payload: dead-lettered %v with %v, want a permanent error", ok, err)
	}
	if _, ok := dl.get("good"); ok {
		t.Fatal("good payload dead-lettered")
	}
}

func TestMemoryQueueAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dl := newDeadLetters()
		h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			<-ctx.Done()
			return ctx.Err()
		})
		q := testkit.NewMemoryQueue(t, h, hookguard.WithWorkers(1), hookguard.WithMaxAttempts(2),
			hookguard.WithAttemptTimeout(3*time.Second), hookguard.WithBackoff(time.Second, time.Second),
			hookguard.WithDeadLetter(dl.add))
		start := time.Now()
		_ = q.Enqueue(context.Background(), hookguard.Event{ID: "slow"})
		if err := q.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		err, ok := dl.get("slow")
		if !ok || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("dead letter = %v, %v; want DeadlineExceeded", ok, err)
		}
		// Two attempts of 3 s plus one backoff of at most 1 s, in fake time.
		if d := time.Since(start); d < 6*time.Second || d > 7*time.Second {
			t.Fatalf("took %v of fake time, want 6s..7s", d)
		}
	})
}

func TestMemoryQueueFullAndShuttingDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		var ran []string
		h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			<-block
			ran = append(ran, e.ID)
			return nil
		})
		q := testkit.NewMemoryQueue(t, h, hookguard.WithWorkers(1), hookguard.WithCapacity(2))
		ctx := context.Background()
		for _, id := range []string{"a", "b"} {
			if err := q.Enqueue(ctx, hookguard.Event{ID: id}); err != nil {
				t.Fatalf("Enqueue %s: %v", id, err)
			}
		}
		synctest.Wait() // the worker holds "a", "b" is buffered
		if err := q.Enqueue(ctx, hookguard.Event{ID: "x"}); !errors.Is(err, hookguard.ErrQueueFull) {
			t.Fatalf("Enqueue into full queue = %v, want ErrQueueFull", err)
		}
		if q.Len() != 2 || q.Cap() != 2 {
			t.Fatalf("Len, Cap = %d, %d; want 2, 2", q.Len(), q.Cap())
		}
		done := make(chan error)
		go func() { done <- q.Shutdown(ctx) }()
		synctest.Wait() // Shutdown is waiting for the drain
		if err := q.Enqueue(ctx, hookguard.Event{ID: "y"}); !errors.Is(err, hookguard.ErrShuttingDown) {
			t.Fatalf("Enqueue during shutdown = %v, want ErrShuttingDown", err)
		}
		close(block)
		if err := <-done; err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
		if len(ran) != 2 || ran[0] != "a" || ran[1] != "b" {
			t.Fatalf("handled %v, want [a b]: Shutdown must drain the buffer", ran)
		}
	})
}

func TestMemoryQueueEnqueueTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			<-block
			return nil
		})
		q := testkit.NewMemoryQueue(t, h, hookguard.WithWorkers(1), hookguard.WithCapacity(1),
			hookguard.WithEnqueueTimeout(200*time.Millisecond))
		ctx := context.Background()
		_ = q.Enqueue(ctx, hookguard.Event{ID: "a"})
		start := time.Now()
		if err := q.Enqueue(ctx, hookguard.Event{ID: "b"}); !errors.Is(err, hookguard.ErrQueueFull) {
			t.Fatalf("Enqueue = %v, want ErrQueueFull", err)
		}
		if d := time.Since(start); d != 200*time.Millisecond {
			t.Fatalf("waited %v, want 200ms", d)
		}
		// Room appearing within the bound lets the event in.
		go func() {
			time.Sleep(50 * time.Millisecond)
			close(block)
		}()
		if err := q.Enqueue(ctx, hookguard.Event{ID: "c"}); err != nil {
			t.Fatalf("Enqueue with room in time = %v", err)
		}
		if err := q.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestShutdownDeadlineDeadLetters checks that nothing accepted disappears:
// with a deadline too short to drain, each event is either handled or
// dead-lettered, exactly once, and the ones waiting for a backoff or
// buffered are among the dead letters.
func TestShutdownDeadlineDeadLetters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dl := newDeadLetters()
		rec := testkit.NewCounter()
		rec.Fn = func(ctx context.Context, e hookguard.Event) error {
			switch e.ID[0] {
			case 'f': // fails: waits for a long backoff
				return errFlaky
			case 's': // slow but honours its context
				select {
				case <-time.After(time.Hour):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
		q := testkit.NewMemoryQueue(t, rec, hookguard.WithWorkers(2), hookguard.WithCapacity(100),
			hookguard.WithBackoff(time.Hour, time.Hour), hookguard.WithAttemptTimeout(2*time.Hour),
			hookguard.WithDeadLetter(dl.add))
		ids := []string{"f1", "s1", "ok1", "ok2", "ok3", "f2", "ok4"}
		for _, id := range ids {
			if err := q.Enqueue(context.Background(), hookguard.Event{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := q.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
		}
		for _, id := range ids {
			_, dead := dl.get(id)
			handled := rec.Times(id)
			if dead == (handled == 1) {
				t.Errorf("%s: handled %d times, dead-lettered %v; want exactly one outcome", id, handled, dead)
			}
		}
		err, ok := dl.get("f1")
		if !ok || !errors.Is(err, hookguard.ErrShuttingDown) || !errors.Is(err, errFlaky) {
			t.Fatalf("f1 dead letter = %v, %v; want ErrShuttingDown wrapping the last error", ok, err)
		}
		if _, ok := dl.get("s1"); !ok {
			t.Fatal("s1 (running at the deadline) was not dead-lettered")
		}
		synctest.Wait() // workers notice the cancellation and exit
		if n := dl.len(); n+int(rec.Total()) != len(ids) {
			t.Fatalf("%d dead + %d handled != %d accepted", n, rec.Total(), len(ids))
		}
	})
}

func TestReceiverShutdownWithEventsInFlight(t *testing.T) {
	p := newProvider(t, "stripe")
	dl := newDeadLetters()
	rec := testkit.NewCounter()
	running := make(chan struct{}, 2)
	rec.Fn = func(ctx context.Context, e hookguard.Event) error {
		running <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	r := mustNew(t, p, rec, hookguard.WithWorkers(2),
		hookguard.WithHooks(hookguard.Hooks{OnDeadLetter: dl.add}))
	const n = 50
	for i := range n {
		id := fmt.Sprintf("evt_%d", i)
		if w := testkit.Serve(r, sign(t, p, id, eventBody(id)).request()); w.Code != 200 {
			t.Fatalf("%s: %d", id, w.Code)
		}
	}
	<-running
	<-running // both workers are inside the handler
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to drain at all
	if err := r.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v", err)
	}
	// Every accepted event reached the dead-letter hook before Shutdown
	// returned: the two running, and the 48 buffered.
	if dl.len() != n || rec.Total() != 0 {
		t.Fatalf("%d dead letters, %d handled; want %d, 0", dl.len(), rec.Total(), n)
	}
	for i := range n {
		err, ok := dl.get(fmt.Sprintf("evt_%d", i))
		if !ok || !errors.Is(err, hookguard.ErrShuttingDown) {
			t.Fatalf("evt_%d: dead letter %v, %v", i, ok, err)
		}
	}
}

func TestPermanent(t *testing.T) {
	if hookguard.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	err := fmt.Errorf("wrapped: %w", hookguard.Permanent(errFlaky))
	if !hookguard.IsPermanent(err) || !errors.Is(err, errFlaky) {
		t.Fatalf("IsPermanent(%v) = false or cause lost", err)
	}
	if hookguard.IsPermanent(errFlaky) {
		t.Fatal("plain error reported permanent")
	}
	if p := hookguard.Permanent(hookguard.Permanent(errFlaky)); p.Error() != errFlaky.Error() {
		t.Fatalf("double Permanent text = %q", p.Error())
	}
}
