package hookguard_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// TestZeroBackoff: WithBackoff(0, 0) retries at once, for tests, and keeps
// every other rule of the queue: the attempt count, Permanent errors and
// panic recovery, each ending in the dead-letter hook. Before, a zero base
// was a configuration error, and the backoff could not be turned off.
func TestZeroBackoff(t *testing.T) {
	errDown := errors.New("downstream down")
	tests := []struct {
		name        string
		handle      func(attempt int) error
		wantHandled int // attempt that succeeds; 0 when dead-lettered
		wantDead    int // attempts before the dead letter
		wantErr     error
	}{
		{"retried to success", func(a int) error {
			if a < 3 {
				return errDown
			}
			return nil
		}, 3, 0, nil},
		{"retries run out", func(int) error { return errDown }, 0, 4, errDown},
		{"permanent", func(int) error { return hookguard.Permanent(errDown) }, 0, 1, errDown},
		{"panics", func(int) error { panic("boom") }, 0, 4, hookguard.ErrHandlerPanic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type end struct {
				attempt int
				err     error
			}
			done := make(chan end, 1)
			var mu sync.Mutex
			var attempts []int
			h := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				mu.Lock()
				attempts = append(attempts, e.Attempt)
				mu.Unlock()
				return tt.handle(e.Attempt)
			})
			q, err := hookguard.NewMemoryQueue(h, hookguard.WithBackoff(0, 0), hookguard.WithMaxAttempts(4),
				hookguard.WithHooks(hookguard.Hooks{
					OnHandled: func(e hookguard.Event, attempt int, err error, _ time.Duration) {
						if err == nil {
							done <- end{attempt, nil}
						}
					},
					OnDeadLetter: func(e hookguard.Event, err error) { done <- end{e.Attempt, err} },
				}))
			if err != nil {
				t.Fatal(err)
			}
			defer q.Shutdown(context.Background())
			start := time.Now()
			if err := q.Enqueue(context.Background(), hookguard.Event{ID: "evt_1"}); err != nil {
				t.Fatal(err)
			}
			var got end
			select {
			case got = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the event neither succeeded nor was dead-lettered within 10s")
			}
			t.Logf("ended after %v", time.Since(start))
			want := max(tt.wantHandled, tt.wantDead)
			if got.attempt != want || (tt.wantErr == nil) != (got.err == nil) || tt.wantErr != nil && !errors.Is(got.err, tt.wantErr) {
				t.Errorf("ended on attempt %d with %v; want attempt %d and %v", got.attempt, got.err, want, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(attempts) != want {
				t.Errorf("handler saw attempts %v; want %d", attempts, want)
			}
		})
	}
}

// TestBackoffValues: zero is a valid backoff; negative values and a
// ceiling below the base are configuration errors reported by New.
func TestBackoffValues(t *testing.T) {
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	for _, tt := range []struct {
		base, maxWait time.Duration
		ok            bool
	}{
		{0, 0, true},
		{0, time.Second, true},
		{time.Millisecond, time.Second, true},
		{-time.Millisecond, 0, false},
		{0, -time.Millisecond, false},
		{2 * time.Second, time.Second, false},
	} {
		r, err := hookguard.New(newProvider(t, "stripe"), noop, hookguard.WithBackoff(tt.base, tt.maxWait))
		if tt.ok {
			if err != nil {
				t.Errorf("WithBackoff(%v, %v): %v", tt.base, tt.maxWait, err)
				continue
			}
			_ = r.Shutdown(context.Background())
			continue
		}
		if !errors.Is(err, hookguard.ErrInvalidOption) || r != nil {
			t.Errorf("WithBackoff(%v, %v): New = %v, %v; want ErrInvalidOption", tt.base, tt.maxWait, r, err)
		}
	}
}
