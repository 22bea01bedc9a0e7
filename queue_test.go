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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
						// assert, not require: a worker's goroutine.
						assert.Equal(t, tt.wantAttempts, e.Attempt, "dead letter Attempt")
						dl.add(e, err)
					}))
				require.NoError(t, q.Enqueue(context.Background(), hookguard.Event{ID: "e1"}))
				require.NoError(t, q.Shutdown(context.Background()), "Shutdown")
				require.Len(t, attempts, tt.wantAttempts, "attempts")
				for i, a := range attempts {
					assert.Equal(t, i+1, a, "number of attempt %d", i+1)
				}
				// Full jitter: wait before retry n is in (0, base*2^(n-1)].
				for i := 1; i < len(waits); i++ {
					ceil := time.Second << (i - 1)
					assert.Positive(t, waits[i], "wait before attempt %d, want in (0, %v]", i+1, ceil)
					assert.LessOrEqual(t, waits[i], ceil, "wait before attempt %d, want in (0, %v]", i+1, ceil)
				}
				err, dead := dl.get("e1")
				require.Equal(t, tt.wantDead, dead, "dead-lettered")
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr, "dead-letter error")
				}
				require.Zero(t, q.Len(), "Len after drain")
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
	require.NoError(t, q.Shutdown(context.Background()))
	require.Equal(t, []int{42}, got, "decoded payloads")
	err, ok := dl.get("bad")
	require.True(t, ok, "bad payload not dead-lettered")
	require.True(t, hookguard.IsPermanent(err), "bad payload: dead-lettered with %v, want a permanent error", err)
	_, ok = dl.get("good")
	require.False(t, ok, "good payload dead-lettered")
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
		require.NoError(t, q.Shutdown(context.Background()))
		err, ok := dl.get("slow")
		require.True(t, ok, "not dead-lettered")
		require.ErrorIs(t, err, context.DeadlineExceeded, "dead letter")
		// Two attempts of 3 s plus one backoff of at most 1 s, in fake time.
		d := time.Since(start)
		require.GreaterOrEqual(t, d, 6*time.Second, "fake time taken, want 6s..7s")
		require.LessOrEqual(t, d, 7*time.Second, "fake time taken, want 6s..7s")
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
			require.NoError(t, q.Enqueue(ctx, hookguard.Event{ID: id}), "Enqueue %s", id)
		}
		synctest.Wait() // the worker holds "a", "b" is buffered
		require.ErrorIs(t, q.Enqueue(ctx, hookguard.Event{ID: "x"}), hookguard.ErrQueueFull, "Enqueue into full queue")
		require.Equal(t, 2, q.Len(), "Len")
		require.Equal(t, 2, q.Cap(), "Cap")
		done := make(chan error)
		go func() { done <- q.Shutdown(ctx) }()
		synctest.Wait() // Shutdown is waiting for the drain
		require.ErrorIs(t, q.Enqueue(ctx, hookguard.Event{ID: "y"}), hookguard.ErrShuttingDown, "Enqueue during shutdown")
		close(block)
		require.NoError(t, <-done, "Shutdown")
		require.Equal(t, []string{"a", "b"}, ran, "handled: Shutdown must drain the buffer")
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
		require.ErrorIs(t, q.Enqueue(ctx, hookguard.Event{ID: "b"}), hookguard.ErrQueueFull)
		require.Equal(t, 200*time.Millisecond, time.Since(start), "waited")
		// Room appearing within the bound lets the event in.
		go func() {
			time.Sleep(50 * time.Millisecond)
			close(block)
		}()
		require.NoError(t, q.Enqueue(ctx, hookguard.Event{ID: "c"}), "Enqueue with room in time")
		require.NoError(t, q.Shutdown(ctx))
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
			require.NoError(t, q.Enqueue(context.Background(), hookguard.Event{ID: id}))
		}
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.ErrorIs(t, q.Shutdown(ctx), context.DeadlineExceeded, "Shutdown")
		for _, id := range ids {
			_, dead := dl.get(id)
			handled := rec.Times(id)
			assert.True(t, dead != (handled == 1), "%s: handled %d times, dead-lettered %v; want exactly one outcome", id, handled, dead)
		}
		err, ok := dl.get("f1")
		require.True(t, ok, "f1 not dead-lettered")
		require.ErrorIs(t, err, hookguard.ErrShuttingDown, "f1 dead letter")
		require.ErrorIs(t, err, errFlaky, "f1 dead letter: want ErrShuttingDown wrapping the last error")
		_, ok = dl.get("s1")
		require.True(t, ok, "s1 (running at the deadline) was not dead-lettered")
		synctest.Wait() // workers notice the cancellation and exit
		require.Equal(t, len(ids), dl.len()+int(rec.Total()), "dead + handled, against accepted")
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
		require.Equal(t, 200, testkit.Serve(r, sign(t, p, id, eventBody(id)).request()).Code, id)
	}
	<-running
	<-running // both workers are inside the handler
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to drain at all
	require.ErrorIs(t, r.Shutdown(ctx), context.Canceled, "Shutdown")
	// Every accepted event reached the dead-letter hook before Shutdown
	// returned: the two running, and the 48 buffered.
	require.Equal(t, n, dl.len(), "dead letters")
	require.Zero(t, rec.Total(), "handled")
	for i := range n {
		err, ok := dl.get(fmt.Sprintf("evt_%d", i))
		require.True(t, ok, "evt_%d not dead-lettered", i)
		require.ErrorIs(t, err, hookguard.ErrShuttingDown, "evt_%d: dead letter", i)
	}
}

func TestPermanent(t *testing.T) {
	require.NoError(t, hookguard.Permanent(nil), "Permanent(nil)")
	err := fmt.Errorf("wrapped: %w", hookguard.Permanent(errFlaky))
	require.True(t, hookguard.IsPermanent(err), "IsPermanent(%v)", err)
	require.ErrorIs(t, err, errFlaky, "cause lost")
	require.False(t, hookguard.IsPermanent(errFlaky), "plain error reported permanent")
	require.EqualError(t, hookguard.Permanent(hookguard.Permanent(errFlaky)), errFlaky.Error(), "double Permanent text")
}
