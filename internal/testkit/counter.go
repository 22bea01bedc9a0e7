package testkit

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// Counter is a real [hookguard.Handler] that counts how often each event
// ID ran. It is safe for concurrent use. Create one with [NewCounter].
type Counter struct {
	// Fn, if set, runs before an event is counted; when it returns an
	// error the event is not counted and HandleEvent returns that error.
	// Set it before the Counter is handed to a receiver or queue.
	Fn func(ctx context.Context, e hookguard.Event) error

	mu    sync.Mutex
	count map[string]int
	total atomic.Int64
}

// NewCounter returns a Counter that has counted nothing.
func NewCounter() *Counter { return &Counter{count: make(map[string]int)} }

// HandleEvent runs Fn, if set, and counts e.ID unless Fn failed.
func (c *Counter) HandleEvent(ctx context.Context, e hookguard.Event) error {
	if c.Fn != nil {
		if err := c.Fn(ctx, e); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.count[e.ID]++
	c.mu.Unlock()
	c.total.Add(1)
	return nil
}

// Times reports how often the event with ID id was counted.
func (c *Counter) Times(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[id]
}

// Total reports how many events were counted, duplicates included.
func (c *Counter) Total() int64 { return c.total.Load() }

// Distinct reports how many different event IDs were counted.
func (c *Counter) Distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.count)
}

// Snapshot returns a copy of the counts by event ID.
func (c *Counter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.count)
}

// WaitDistinct waits until at least n different event IDs were counted,
// and fails the test if that has not happened within timeout. It polls,
// which suits waiting on workers in other goroutines or processes; call
// it from the test's own goroutine.
func (c *Counter) WaitDistinct(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for c.Distinct() < n {
		if time.Now().After(deadline) {
			t.Fatalf("after %v only %d of %d events were handled", timeout, c.Distinct(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
