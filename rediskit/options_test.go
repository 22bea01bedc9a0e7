package rediskit_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/rediskit"
)

// callCounter counts every dial and command a client attempts.
type callCounter struct{ n atomic.Int64 }

func (c *callCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.n.Add(1)
		return next(ctx, network, addr)
	}
}

func (c *callCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *callCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// unusedClient returns a client of an address nothing listens on, which
// counts what it is asked to do: a constructor that checks its options
// first fails without touching it.
func unusedClient(t *testing.T) (*redis.Client, *callCounter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // free again: nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	cc := &callCounter{}
	rdb.AddHook(cc)
	return rdb, cc
}

// TestNewQueueInvalidOptions is the regression test for the queue options
// that panicked where they were called: a bad value, which may come from
// configuration, is now an error from NewQueue that wraps ErrInvalidOption,
// names the option and the value, and comes before any Redis call.
func TestNewQueueInvalidOptions(t *testing.T) {
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	tests := []struct {
		opt  func() rediskit.QueueOption
		want string // the option and value the error must name
	}{
		{func() rediskit.QueueOption { return rediskit.WithName("") }, `WithName("")`},
		{func() rediskit.QueueOption { return rediskit.WithName("a{b}") }, `WithName("a{b}")`},
		{func() rediskit.QueueOption { return rediskit.WithGroup("") }, `WithGroup("")`},
		{func() rediskit.QueueOption { return rediskit.WithConsumer("") }, `WithConsumer("")`},
		{func() rediskit.QueueOption { return rediskit.WithWorkers(-2) }, "WithWorkers(-2)"},
		{func() rediskit.QueueOption { return rediskit.WithMaxAttempts(0) }, "WithMaxAttempts(0)"},
		{func() rediskit.QueueOption { return rediskit.WithBackoff(0, time.Second) }, "WithBackoff(0s, 1s)"},
		{func() rediskit.QueueOption { return rediskit.WithBackoff(2*time.Second, time.Second) }, "WithBackoff(2s, 1s)"},
		{func() rediskit.QueueOption { return rediskit.WithAttemptTimeout(0) }, "WithAttemptTimeout(0s)"},
		{func() rediskit.QueueOption { return rediskit.WithVisibilityTimeout(29 * time.Millisecond) }, "WithVisibilityTimeout(29ms)"},
		{func() rediskit.QueueOption { return rediskit.WithBlock(999 * time.Microsecond) }, "WithBlock(999µs)"},
		{func() rediskit.QueueOption { return rediskit.WithWaitReplicas(0, time.Second) }, "WithWaitReplicas(0, 1s)"},
		{func() rediskit.QueueOption { return rediskit.WithWaitReplicas(1, 0) }, "WithWaitReplicas(1, 0s)"},
		{func() rediskit.QueueOption { return rediskit.WithShards(0) }, "WithShards(0)"},
		{func() rediskit.QueueOption { return rediskit.WithShards(rediskit.MaxShards + 1) }, "WithShards(1025)"},
		{func() rediskit.QueueOption { return rediskit.WithFormerShards(0) }, "WithFormerShards(0)"},
		{func() rediskit.QueueOption { return rediskit.WithFormerShards(-1) }, "WithFormerShards(-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var opt rediskit.QueueOption
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("building the option panicked: %v", p)
					}
				}()
				opt = tt.opt()
			}()
			rdb, calls := unusedClient(t)
			// A valid option before and an invalid one after: the first
			// invalid option is the one reported.
			q, err := rediskit.NewQueue(t.Context(), rdb, noop, rediskit.WithWorkers(1), opt, rediskit.WithMaxAttempts(-1))
			if !errors.Is(err, rediskit.ErrInvalidOption) || q != nil {
				t.Fatalf("NewQueue = %v, %v; want nil and an error wrapping ErrInvalidOption", q, err)
			}
			if !strings.Contains(err.Error(), tt.want+": ") {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if n := calls.n.Load(); n != 0 {
				t.Errorf("NewQueue made %d Redis calls before reporting the bad option; want 0", n)
			}
		})
	}
}

// TestNewQueueNilArguments checks that NewQueue and NewStore report a nil
// client or handler as an error instead of panicking.
func TestNewQueueNilArguments(t *testing.T) {
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	rdb, calls := unusedClient(t)
	tests := []struct {
		name    string
		rdb     redis.UniversalClient
		h       hookguard.Handler
		wantErr error
	}{
		{"nil client", nil, noop, rediskit.ErrNilClient},
		{"nil handler", rdb, nil, hookguard.ErrNilHandler},
		{"nil client and handler", nil, nil, rediskit.ErrNilClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := rediskit.NewQueue(t.Context(), tt.rdb, tt.h)
			if !errors.Is(err, tt.wantErr) || q != nil {
				t.Fatalf("NewQueue = %v, %v; want nil and %v", q, err, tt.wantErr)
			}
		})
	}
	if n := calls.n.Load(); n != 0 {
		t.Errorf("NewQueue made %d Redis calls before reporting a nil argument; want 0", n)
	}
	s, err := rediskit.NewStore(nil, rediskit.WithPrefix("app:"))
	if !errors.Is(err, rediskit.ErrNilClient) || s != nil {
		t.Fatalf("NewStore(nil) = %v, %v; want nil and ErrNilClient", s, err)
	}
	if s, err := rediskit.NewStore(rdb); err != nil || s == nil {
		t.Fatalf("NewStore(client) = %v, %v; want a store", s, err)
	}
}
