package hookguard_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			require.NoError(t, err)
			defer q.Shutdown(context.Background())
			start := time.Now()
			require.NoError(t, q.Enqueue(context.Background(), hookguard.Event{ID: "evt_1"}))
			var got end
			select {
			case got = <-done:
			case <-time.After(10 * time.Second):
				require.Fail(t, "the event neither succeeded nor was dead-lettered within 10s")
			}
			t.Logf("ended after %v", time.Since(start))
			want := max(tt.wantHandled, tt.wantDead)
			assert.Equal(t, want, got.attempt, "attempt the event ended on (with %v)", got.err)
			if tt.wantErr == nil {
				assert.NoError(t, got.err, "error the event ended with")
			} else {
				assert.ErrorIs(t, got.err, tt.wantErr, "error the event ended with")
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Len(t, attempts, want, "attempts the handler saw")
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
			if !assert.NoError(t, err, "WithBackoff(%v, %v)", tt.base, tt.maxWait) {
				continue
			}
			_ = r.Shutdown(context.Background())
			continue
		}
		assert.ErrorIs(t, err, hookguard.ErrInvalidOption, "WithBackoff(%v, %v): New", tt.base, tt.maxWait)
		assert.Nil(t, r, "WithBackoff(%v, %v): New returned a Receiver with an error", tt.base, tt.maxWait)
	}
}
