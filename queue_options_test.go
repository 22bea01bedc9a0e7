package hookguard_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// TestQueueOptionErrorsFromNew is the regression test for configuration
// values that crashed the process: WithWorkers(0), read from an
// environment variable, panicked where it was called, before New. Every
// queue option now reports a bad value as ErrInvalidOption from New, and
// starts no worker.
func TestQueueOptionErrorsFromNew(t *testing.T) {
	t.Setenv("HOOKGUARD_TEST_WORKERS", "0")
	workers, _ := strconv.Atoi(os.Getenv("HOOKGUARD_TEST_WORKERS"))
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	for _, tt := range []struct {
		name string
		opt  func() hookguard.QueueOption
	}{
		{"WithWorkers from the environment", func() hookguard.QueueOption { return hookguard.WithWorkers(workers) }},
		{"WithCapacity(0)", func() hookguard.QueueOption { return hookguard.WithCapacity(0) }},
		{"WithMaxAttempts(-1)", func() hookguard.QueueOption { return hookguard.WithMaxAttempts(-1) }},
		{"WithBackoff(2s, 1s)", func() hookguard.QueueOption { return hookguard.WithBackoff(2*time.Second, time.Second) }},
		{"WithAttemptTimeout(0)", func() hookguard.QueueOption { return hookguard.WithAttemptTimeout(0) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var opt hookguard.QueueOption
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("building the option panicked: %v", p)
					}
				}()
				opt = tt.opt()
			}()
			r, err := hookguard.New(newProvider(t, "stripe"), noop, hookguard.WithQueueOptions(opt))
			if !errors.Is(err, hookguard.ErrInvalidOption) || r != nil {
				t.Fatalf("New = %v, %v; want nil and ErrInvalidOption", r, err)
			}
		})
	}
	// NewMemoryQueue, wired by hand, still panics: there a bad value is a
	// programming error, and its doc says so.
	defer func() {
		if recover() == nil {
			t.Error("NewMemoryQueue(h, WithWorkers(0)) did not panic")
		}
	}()
	q := hookguard.NewMemoryQueue(noop, hookguard.WithWorkers(0))
	_ = q.Shutdown(context.Background())
}
