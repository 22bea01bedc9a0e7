package hookguard

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one goroutine of a [MemoryQueue]. Its timer enforces the
// deadline of the attempt it runs, so that attempts need no timer of their
// own.
type worker struct {
	q   *MemoryQueue
	cur atomic.Pointer[attemptCtx] // the running attempt; nil between attempts

	tmu   sync.Mutex
	timer *time.Timer // made on the first attempt that asks for Done
}

// arm makes the worker's timer fire after d. One timer per worker, reset
// per attempt that needs it: context.WithTimeout made a timer per attempt.
func (w *worker) arm(d time.Duration) {
	w.tmu.Lock()
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.expire)
	} else {
		w.timer.Reset(d)
	}
	w.tmu.Unlock()
}

// disarm stops the timer after an attempt that armed it ended.
func (w *worker) disarm() {
	w.tmu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.tmu.Unlock()
}

// expire runs when the timer fires. The timer may have been armed for an
// attempt that has ended since; the deadline check leaves the current one
// alone until its own deadline.
func (w *worker) expire() {
	c := w.cur.Load()
	if c == nil {
		return
	}
	if left := time.Until(c.deadline); left > 0 {
		c.mu.Lock()
		armed := c.armed
		c.mu.Unlock()
		if armed {
			w.arm(left)
		}
		return
	}
	c.cancel(context.DeadlineExceeded)
}

// attemptCtx is the context of one handler call: cancelled at its
// deadline, when the queue gives up at Shutdown, and when the call returns.
//
// It replaces context.WithTimeout(q.life, ...), which cost four
// allocations and a timer per attempt. A first attempt's attemptCtx lives
// in its job (no allocation); its done channel is made and the worker's
// timer armed only when the handler asks for Done, and Err checks the
// deadline itself.
type attemptCtx struct {
	w        *worker
	deadline time.Time

	mu    sync.Mutex
	armed bool          // the worker's timer runs for this attempt
	done  chan struct{} // made by the first Done
	err   error
	after []*afterFunc // registered by AfterFunc, run once at cancel
}

type afterFunc struct {
	f    func()
	gone bool // ran or stopped; guarded by attemptCtx.mu
}

var _ context.Context = (*attemptCtx)(nil)

// closedDone is the Done channel of an attempt cancelled before anyone
// asked for Done.
var closedDone = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

func (c *attemptCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Value returns nil: the queue's contexts carry no values.
func (c *attemptCtx) Value(any) any { return nil }

func (c *attemptCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			c.done = closedDone
		} else {
			c.done = make(chan struct{})
			c.armLocked()
		}
	}
	return c.done
}

func (c *attemptCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err == nil && !time.Now().Before(c.deadline) {
		// Past the deadline with no timer armed (nobody asked for
		// Done): cancel it now.
		c.cancel(context.DeadlineExceeded)
		c.mu.Lock()
		err = c.err
		c.mu.Unlock()
	}
	return err
}

// AfterFunc lets context.WithCancel and friends, and context.AfterFunc,
// derive from an attempt without starting a goroutine that waits for Done.
func (c *attemptCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, a)
	c.armLocked()
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if a.gone {
			return false
		}
		a.gone = true
		return true
	}
}

// armLocked makes the worker's timer enforce c's deadline. c.mu is held.
func (c *attemptCtx) armLocked() {
	if c.armed || c.w == nil {
		return
	}
	c.armed = true
	c.w.arm(time.Until(c.deadline))
}

// cancel ends c with err unless it has ended already. It reports
// whether the worker's timer was armed for c, so that end takes c.mu once.
func (c *attemptCtx) cancel(err error) (armed bool) {
	c.mu.Lock()
	if c.err != nil {
		armed = c.armed
		c.mu.Unlock()
		return armed
	}
	c.err = err
	if c.done == nil {
		c.done = closedDone
	} else {
		close(c.done)
	}
	after := c.after
	c.after = nil
	for _, a := range after {
		if !a.gone {
			a.gone = true
			go a.f()
		}
	}
	armed = c.armed
	c.mu.Unlock()
	return armed
}

// begin starts attempt c on w: its deadline is timeout from now. A queue
// that is stopping cancels it at once.
func (w *worker) begin(c *attemptCtx, timeout time.Duration) {
	c.w = w
	c.deadline = time.Now().Add(timeout)
	w.cur.Store(c)
	// Stores cur before reading life: either stopAttempts sees c, or
	// this sees life cancelled.
	if w.q.life.Err() != nil {
		c.cancel(context.Canceled)
	}
}

// end finishes attempt c: a handler that kept its context sees it
// cancelled, as after context.WithTimeout's cancel.
func (w *worker) end(c *attemptCtx) {
	w.cur.Store(nil)
	if c.cancel(context.Canceled) {
		w.disarm()
	}
}
