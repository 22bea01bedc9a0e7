package testkit

import (
	"sync/atomic"
	"time"
)

// Clock is a clock a test sets and moves by hand, safe for concurrent
// reads: pass its Now to hookguard.WithClock or dedupe.WithClock.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a Clock that reads at.
func NewClock(at time.Time) *Clock {
	c := &Clock{}
	c.Set(at)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
