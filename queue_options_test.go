package hookguard_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			require.NotPanics(t, func() { opt = tt.opt() }, "building the option panicked")
			r, err := hookguard.New(newProvider(t, "stripe"), noop, opt)
			require.ErrorIs(t, err, hookguard.ErrInvalidOption, "New")
			require.Nil(t, r, "New returned a Receiver with an error")
			assert.ErrorContains(t, err, tt.want+": ", "New: error does not name %s", tt.want)
			q, err := hookguard.NewMemoryQueue(noop, hookguard.WithWorkers(1), opt)
			require.ErrorIs(t, err, hookguard.ErrInvalidOption, "NewMemoryQueue")
			require.Nil(t, q, "NewMemoryQueue returned a queue with an error")
			assert.ErrorContains(t, err, tt.want+": ", "NewMemoryQueue: error does not name %s", tt.want)
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
			require.ErrorIs(t, err, tt.wantErr, "NewMemoryQueue")
			require.Nil(t, q, "NewMemoryQueue returned a queue with an error")
			assert.ErrorContains(t, err, tt.want)
		})
	}
	q, err := hookguard.NewMemoryQueue(noop, nil, hookguard.WithWorkers(1))
	require.NoError(t, err, "NewMemoryQueue with a nil option")
	require.NoError(t, q.Shutdown(context.Background()))
}
