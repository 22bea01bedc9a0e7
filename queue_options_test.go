package hookguard_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// TestQueueValueErrorsFromNew is the regression test for configuration
// values that crashed the process: WithWorkers(0), read from an
// environment variable, panicked where it was called, before New. Every
// queue option now reports a bad value as ErrInvalidOption, naming the
// option and the value, from New and from NewMemoryQueue, and starts no
// worker.
func TestQueueValueErrorsFromNew(t *testing.T) {
	t.Setenv("HOOKGUARD_TEST_WORKERS", "0")
	workers, _ := strconv.Atoi(os.Getenv("HOOKGUARD_TEST_WORKERS"))
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	for _, tt := range []struct {
		name string
		opt  func() hookguard.Option
		want string // the option and value the error must name
	}{
		{"WithWorkers from the environment", func() hookguard.Option { return hookguard.WithWorkers(workers) }, "WithWorkers(0)"},
		{"WithWorkers(-3)", func() hookguard.Option { return hookguard.WithWorkers(-3) }, "WithWorkers(-3)"},
		{"WithCapacity(0)", func() hookguard.Option { return hookguard.WithCapacity(0) }, "WithCapacity(0)"},
		{"WithMaxAttempts(-1)", func() hookguard.Option { return hookguard.WithMaxAttempts(-1) }, "WithMaxAttempts(-1)"},
		{"WithBackoff(2s, 1s)", func() hookguard.Option { return hookguard.WithBackoff(2*time.Second, time.Second) }, "WithBackoff(2s, 1s)"},
		{"WithBackoff(-1s, 1s)", func() hookguard.Option { return hookguard.WithBackoff(-time.Second, time.Second) }, "WithBackoff(-1s, 1s)"},
		{"WithAttemptTimeout(0)", func() hookguard.Option { return hookguard.WithAttemptTimeout(0) }, "WithAttemptTimeout(0s)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var opt hookguard.Option
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("building the option panicked: %v", p)
					}
				}()
				opt = tt.opt()
			}()
			r, err := hookguard.New(newProvider(t, "stripe"), noop, opt)
			if !errors.Is(err, hookguard.ErrInvalidOption) || r != nil {
				t.Fatalf("New = %v, %v; want nil and ErrInvalidOption", r, err)
			}
			if !strings.Contains(err.Error(), tt.want+": ") {
				t.Errorf("New: error %q does not name %s", err, tt.want)
			}
			q, err := hookguard.NewMemoryQueue(noop, hookguard.WithWorkers(1), opt)
			if !errors.Is(err, hookguard.ErrInvalidOption) || q != nil {
				t.Fatalf("NewMemoryQueue = %v, %v; want nil and ErrInvalidOption", q, err)
			}
			if !strings.Contains(err.Error(), tt.want+": ") {
				t.Errorf("NewMemoryQueue: error %q does not name %s", err, tt.want)
			}
		})
	}
}

// TestNewMemoryQueueErrors checks the rest of NewMemoryQueue's checks: a
// nil Handler is ErrNilHandler, the first invalid option is the one
// reported, and a nil option is skipped.
func TestNewMemoryQueueErrors(t *testing.T) {
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	tests := []struct {
		name    string
		h       hookguard.Handler
		opts    []hookguard.Option
		wantErr error
		want    string // text the error must hold
	}{
		{"nil handler", nil, nil, hookguard.ErrNilHandler, "nil Handler"},
		{"first invalid option wins", noop, []hookguard.Option{hookguard.WithCapacity(-1), hookguard.WithWorkers(0)}, hookguard.ErrInvalidOption, "WithCapacity(-1): "},
		{"bad option and nil handler", nil, []hookguard.Option{hookguard.WithMaxAttempts(0)}, hookguard.ErrInvalidOption, "WithMaxAttempts(0): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := hookguard.NewMemoryQueue(tt.h, tt.opts...)
			if !errors.Is(err, tt.wantErr) || q != nil {
				t.Fatalf("NewMemoryQueue = %v, %v; want nil and %v", q, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	q, err := hookguard.NewMemoryQueue(noop, nil, hookguard.WithWorkers(1))
	if err != nil {
		t.Fatalf("NewMemoryQueue with a nil option: %v", err)
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
