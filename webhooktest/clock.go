package webhooktest

import (
	"sync"
	"time"
)

// Clock is a fake clock for tests: it stands still until told to move.
// Pass its Now method to a receiver with hookguard.WithClock(c.Now) and to
// [NewRequest] with [WithClock](c.Now): every WithClock in hookguard takes
// a func() time.Time, so that signing time and receiving time are under
// the test's control.
//
// A Clock is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d (backwards when d is negative) and returns
// the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
