package queuetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// Queue is what Run tests: a [hookguard.Queue] that can be shut down, as
// [hookguard.MemoryQueue] and rediskit.Queue are.
type Queue interface {
	hookguard.Queue
	Shutdown(ctx context.Context) error
}

// Config is what a new queue must be built with.
type Config struct {
	// Handler is the handler the queue's workers must call.
	Handler hookguard.Handler
	// MaxAttempts is how many times the queue must try an event before
	// it gives up and calls OnDeadLetter.
	MaxAttempts int
	// OnDeadLetter must be called once for every event the queue gives
	// up on, with the last error.
	OnDeadLetter func(e hookguard.Event, err error)
}

// Option configures [Run].
type Option func(*config)

type config struct {
	wait  time.Duration
	grace time.Duration
	n     int
	err   error // the first invalid option, reported by Run
}

// invalidOption records the first invalid option's error.
func (c *config) invalidOption(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("queuetest: invalid option: "+format, args...)
	}
}

// WithTimeout bounds how long Run waits for the events of one subtest to
// be handled (default 20s). d <= 0 fails the test when Run starts.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.invalidOption("WithTimeout(%v): the timeout must be positive", d)
			return
		}
		c.wait = d
	}
}

// WithGrace sets how long Run watches, after an event was handled or given
// up on, that the queue does not hand it to the handler again (default
// 300ms). For a queue that redelivers unacknowledged events after a
// visibility timeout, make it longer than that timeout. d < 0 fails the
// test when Run starts.
func WithGrace(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.invalidOption("WithGrace(%v): the grace period must not be negative", d)
			return
		}
		c.grace = d
	}
}

// WithEvents sets how many events the bulk subtests enqueue (default 100).
// n < 10 fails the test when Run starts.
func WithEvents(n int) Option {
	return func(c *config) {
		if n < 10 {
			c.invalidOption("WithEvents(%d): the bulk subtests need at least 10 events", n)
			return
		}
		c.n = n
	}
}

// Run tests that the queues newQueue builds behave as a [hookguard.Queue]
// must. It runs one subtest per behaviour; subtests do not run in
// parallel. newQueue must return a queue with an empty backend for each
// new subtest, but the queues it returns for the same subtest t must
// share their backend: the hand-off subtest shuts one queue down and
// checks that its successor (or the dead-letter hook) finishes its events.
// Its retry backoff should be a few milliseconds. Run shuts down every
// queue it gets.
//
// The behaviours are: every event is handled, with its fields intact and
// Attempt 1, and not handled again (acknowledged after success); a failed
// attempt is retried with Attempt counting up; a handler that fails every
// attempt is called MaxAttempts times and the dead-letter hook gets the
// event once with the last error (matched with errors.Is); a
// [hookguard.Permanent] error is not retried; a panic is a failed attempt;
// concurrent Enqueue calls lose nothing; Enqueue after Shutdown fails with
// [hookguard.ErrShuttingDown] and the event is never handled; Shutdown
// with events in flight hands each one to the dead-letter hook or to the
// next queue, and no attempt of the stopped queue starts after Shutdown
// returned.
//
// Every failure message starts with the subtest's name, which names the
// behaviour, then the rule that broke and what the queue did, for example
// "PermanentNotRetried: an attempt that fails with a Permanent error must
// not be retried: event evt_0: handler called 5 times; want 1". Run takes
// a *testing.T rather than a testing.TB because it runs each behaviour as a
// subtest with t.Run; it needs no assertion library, so it works in tests
// written with or without one.
func Run(t *testing.T, newQueue func(t *testing.T, c Config) Queue, opts ...Option) {
	t.Helper()
	c := config{wait: 20 * time.Second, grace: 300 * time.Millisecond, n: 100}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.err != nil {
		t.Fatalf("%v", c.err)
	}
	r := &runner{cfg: c, newQueue: newQueue}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"HandledOnce", r.handledOnce},
		{"ConcurrentEnqueue", r.concurrentEnqueue},
		{"FailedAttemptRetried", r.failedAttemptRetried},
		{"DeadLetterAfterMaxAttempts", r.deadLetterAfterMax},
		{"PermanentNotRetried", r.permanentNotRetried},
		{"PanicIsFailedAttempt", r.panicIsFailedAttempt},
		{"EnqueueAfterShutdown", r.enqueueAfterShutdown},
		{"ShutdownHandsOff", r.shutdownHandsOff},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type runner struct {
	cfg      config
	newQueue func(t *testing.T, c Config) Queue
}

// property returns the name of the subtest t runs, which names the
// behaviour under test.
func property(t *testing.T) string {
	name := t.Name()
	return name[strings.LastIndexByte(name, '/')+1:]
}

// fatalf stops the subtest with a message that names the property under
// test, the rule that broke, and what the queue did.
func fatalf(t *testing.T, rule, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s: %s: %s", property(t), rule, fmt.Sprintf(format, args...))
}

// errorf is fatalf that lets the subtest go on.
func errorf(t *testing.T, rule, format string, args ...any) {
	t.Helper()
	t.Errorf("%s: %s: %s", property(t), rule, fmt.Sprintf(format, args...))
}

// call is one handler call.
type call struct {
	ev  hookguard.Event
	err error
}

// recorder records handler calls and dead letters, and lets a subtest
// decide what each call returns.
type recorder struct {
	mu      sync.Mutex
	calls   map[string][]call // by event ID
	handled map[string]int    // successful calls by event ID
	dead    map[string][]error
	changed chan struct{} // signalled on every record
	closed  bool          // set when the queue under test has shut down
	late    []string      // calls that started after closed was set
	fn      func(ctx context.Context, e hookguard.Event) error
}

func newRecorder(fn func(ctx context.Context, e hookguard.Event) error) *recorder {
	if fn == nil {
		fn = func(context.Context, hookguard.Event) error { return nil }
	}
	return &recorder{calls: map[string][]call{}, handled: map[string]int{}, dead: map[string][]error{}, changed: make(chan struct{}, 1), fn: fn}
}

func (r *recorder) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) handler() hookguard.Handler { return r.handlerWith(r.fn, false) }

// handlerWith returns a handler that records its calls and returns what fn
// returns. With watch set, calls that start after markClosed are recorded
// as late.
func (r *recorder) handlerWith(fn func(ctx context.Context, e hookguard.Event) error, watch bool) hookguard.Handler {
	return hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) (err error) {
		r.mu.Lock()
		if watch && r.closed {
			r.late = append(r.late, e.ID)
		}
		r.mu.Unlock()
		defer func() {
			p := recover()
			r.mu.Lock()
			r.calls[e.ID] = append(r.calls[e.ID], call{e, err})
			if p == nil && err == nil {
				r.handled[e.ID]++
			}
			r.mu.Unlock()
			r.signal()
			if p != nil {
				panic(p)
			}
		}()
		return fn(ctx, e)
	})
}

func (r *recorder) deadLetter(e hookguard.Event, err error) {
	r.mu.Lock()
	r.dead[e.ID] = append(r.dead[e.ID], err)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) markClosed() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// waitFor polls done under the lock until it holds; when the timeout ends
// first, it stops the subtest with what, which says what went wrong.
func (r *recorder) waitFor(t *testing.T, timeout time.Duration, what string, done func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := done()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond): // the condition may also depend on time
		case <-deadline.C:
			fatalf(t, what, "gave up waiting after %v", timeout)
		}
	}
}

func (r *runner) start(t *testing.T, rec *recorder, maxAttempts int) Queue {
	t.Helper()
	return r.startWith(t, rec, rec.handler(), maxAttempts)
}

func (r *runner) startWith(t *testing.T, rec *recorder, h hookguard.Handler, maxAttempts int) Queue {
	t.Helper()
	q := r.newQueue(t, Config{Handler: h, MaxAttempts: maxAttempts, OnDeadLetter: rec.deadLetter})
	if q == nil {
		fatalf(t, "newQueue returned nil", "Run needs a queue for every subtest")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.wait)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	return q
}

// event returns a distinct event for index i of a subtest.
func event(t *testing.T, i int) hookguard.Event {
	return hookguard.Event{
		Provider:   "queuetest",
		ID:         fmt.Sprintf("evt_%d", i),
		Type:       "test.event",
		Timestamp:  time.Unix(1_700_000_000+int64(i), 0).UTC(),
		ReceivedAt: time.Unix(1_700_000_100+int64(i), 0).UTC(),
		Body:       fmt.Appendf(nil, `{"id":"evt_%d","subtest":%q}`, i, t.Name()),
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Index": {fmt.Sprint(i)}},
	}
}

func enqueue(t *testing.T, q Queue, e hookguard.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := q.Enqueue(ctx, e); err != nil {
		fatalf(t, "Enqueue on a running queue must succeed", "Enqueue(%s) = %v; want nil", e.ID, err)
	}
}

// sameEvent reports how got differs from want, ignoring Attempt.
func sameEvent(got, want hookguard.Event) string {
	switch {
	case got.Provider != want.Provider || got.ID != want.ID || got.Type != want.Type:
		return fmt.Sprintf("provider/id/type %q/%q/%q, want %q/%q/%q", got.Provider, got.ID, got.Type, want.Provider, want.ID, want.Type)
	case !got.Timestamp.Equal(want.Timestamp) || !got.ReceivedAt.Equal(want.ReceivedAt):
		return fmt.Sprintf("times %v/%v, want %v/%v", got.Timestamp, got.ReceivedAt, want.Timestamp, want.ReceivedAt)
	case string(got.Body) != string(want.Body):
		return fmt.Sprintf("body %q, want %q", got.Body, want.Body)
	case got.Header.Get("X-Index") != want.Header.Get("X-Index") || got.Header.Get("Content-Type") != want.Header.Get("Content-Type"):
		return fmt.Sprintf("header %v, want %v", got.Header, want.Header)
	}
	return ""
}

// settle waits the grace period, then checks that each event's handler
// was called as often as wantCalls says, so not again after the event was
// handled or dead-lettered; a failure names rule.
func (r *runner) settle(t *testing.T, rec *recorder, wantCalls map[string]int, rule string) {
	t.Helper()
	time.Sleep(r.cfg.grace) // watching for redeliveries that must not come
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, want := range wantCalls {
		if got := len(rec.calls[id]); got != want {
			errorf(t, rule, "event %s: handler called %d times; want %d", id, got, want)
		}
	}
}

func (r *runner) handledOnce(t *testing.T) {
	rec := newRecorder(nil)
	q := r.start(t, rec, 3)
	want := map[string]int{}
	for i := range r.cfg.n {
		enqueue(t, q, event(t, i))
		want[fmt.Sprintf("evt_%d", i)] = 1
	}
	rec.waitFor(t, r.cfg.wait, "not every enqueued event was handled", func() bool { return len(rec.handled) == r.cfg.n })
	rec.mu.Lock()
	for i := range r.cfg.n {
		want := event(t, i)
		c := rec.calls[want.ID][0]
		if d := sameEvent(c.ev, want); d != "" {
			errorf(t, "the handler must get the event as it was enqueued", "handled event %s: %s", want.ID, d)
		}
		if c.ev.Attempt != 1 {
			errorf(t, "the first call for an event must have Attempt 1", "event %s: first call has Attempt %d", want.ID, c.ev.Attempt)
		}
	}
	if len(rec.calls) != r.cfg.n {
		errorf(t, "the handler must see exactly the events enqueued", "handler saw %d distinct IDs; want %d", len(rec.calls), r.cfg.n)
	}
	if len(rec.dead) != 0 {
		errorf(t, "an event whose handler succeeds must not be dead-lettered", "dead letters %v; want none", rec.dead)
	}
	rec.mu.Unlock()
	r.settle(t, rec, want, "an acknowledged event must not be delivered again")
}

func (r *runner) concurrentEnqueue(t *testing.T) {
	rec := newRecorder(nil)
	q := r.start(t, rec, 3)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, r.cfg.n)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < r.cfg.n; i += writers {
				if err := q.Enqueue(t.Context(), event(t, i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		fatalf(t, "concurrent Enqueue calls on a running queue must succeed", "concurrent Enqueue: %v", err)
	}
	rec.waitFor(t, r.cfg.wait, "not every event enqueued concurrently was handled", func() bool { return len(rec.handled) == r.cfg.n })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, n := range rec.handled {
		if n != 1 {
			errorf(t, "an event enqueued once must be handled once", "event %s handled %d times; want 1", id, n)
		}
	}
}

var errAttempt = errors.New("queuetest: attempt failed")

// attemptError is the error of attempt n, distinct per attempt.
type attemptError struct{ n int }

func (e *attemptError) Error() string { return fmt.Sprintf("queuetest: attempt %d failed", e.n) }
func (e *attemptError) Unwrap() error { return errAttempt }

func (r *runner) failedAttemptRetried(t *testing.T) {
	rec := newRecorder(func(_ context.Context, e hookguard.Event) error {
		if e.Attempt < 3 {
			return &attemptError{e.Attempt}
		}
		return nil
	})
	q := r.start(t, rec, 5)
	enqueue(t, q, event(t, 0))
	rec.waitFor(t, r.cfg.wait, "an event whose first two attempts failed was not handled by a retry", func() bool { return rec.handled["evt_0"] == 1 })
	r.settle(t, rec, map[string]int{"evt_0": 3}, "a failed attempt must be retried until one succeeds, and the event not delivered again")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var attempts []int
	for _, c := range rec.calls["evt_0"] {
		attempts = append(attempts, c.ev.Attempt)
	}
	if !slices.Equal(attempts, []int{1, 2, 3}) {
		errorf(t, "Attempt must count the calls for an event up from 1", "attempts %v; want [1 2 3]", attempts)
	}
	if len(rec.dead) != 0 {
		errorf(t, "an event handled by a retry must not be dead-lettered", "dead letters %v; want none: the third attempt succeeded", rec.dead)
	}
}

func (r *runner) deadLetterAfterMax(t *testing.T) {
	var (
		mu   sync.Mutex
		last error
	)
	rec := newRecorder(func(_ context.Context, e hookguard.Event) error {
		err := &attemptError{e.Attempt}
		mu.Lock()
		last = err
		mu.Unlock()
		return err
	})
	q := r.start(t, rec, 3)
	enqueue(t, q, event(t, 0))
	rec.waitFor(t, r.cfg.wait, "an event that failed every attempt never reached the dead-letter hook", func() bool { return len(rec.dead["evt_0"]) > 0 })
	r.settle(t, rec, map[string]int{"evt_0": 3}, "a handler that fails every attempt must be called MaxAttempts times, and not again after the dead letter")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if n := len(rec.dead["evt_0"]); n != 1 {
		errorf(t, "the dead-letter hook must get a failed event once", "dead-letter hook called %d times; want once", n)
	}
	if err := rec.dead["evt_0"][0]; !errors.Is(err, last) {
		errorf(t, "the dead-letter hook must get the last attempt's error", "dead-letter error %v; want %v (errors.Is)", err, last)
	}
	if len(rec.handled) != 0 {
		errorf(t, "an event whose every attempt failed must not count as handled", "handled %v; want nothing", rec.handled)
	}
}

func (r *runner) permanentNotRetried(t *testing.T) {
	base := errors.New("queuetest: bad payload")
	rec := newRecorder(func(context.Context, hookguard.Event) error { return hookguard.Permanent(base) })
	q := r.start(t, rec, 5)
	enqueue(t, q, event(t, 0))
	rec.waitFor(t, r.cfg.wait, "an event that failed with a Permanent error never reached the dead-letter hook", func() bool { return len(rec.dead["evt_0"]) > 0 })
	r.settle(t, rec, map[string]int{"evt_0": 1}, "an attempt that fails with a Permanent error must not be retried")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err := rec.dead["evt_0"][0]; !errors.Is(err, base) {
		errorf(t, "the dead-letter hook must get the handler's error", "dead-letter error %v; want %v (errors.Is)", err, base)
	}
}

func (r *runner) panicIsFailedAttempt(t *testing.T) {
	rec := newRecorder(func(_ context.Context, e hookguard.Event) error {
		if e.Attempt == 1 {
			panic("queuetest: handler panics")
		}
		return nil
	})
	q := r.start(t, rec, 3)
	enqueue(t, q, event(t, 0))
	rec.waitFor(t, r.cfg.wait, "an event whose handler panicked once was not handled by a retry", func() bool { return rec.handled["evt_0"] == 1 })
	r.settle(t, rec, map[string]int{"evt_0": 2}, "a panic must count as a failed attempt: retried once, then not delivered again")
}

func (r *runner) enqueueAfterShutdown(t *testing.T) {
	rec := newRecorder(nil)
	q := r.start(t, rec, 3)
	enqueue(t, q, event(t, 0))
	rec.waitFor(t, r.cfg.wait, "the event enqueued before Shutdown was not handled", func() bool { return rec.handled["evt_0"] == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), r.cfg.wait)
	defer cancel()
	if err := q.Shutdown(ctx); err != nil {
		fatalf(t, "Shutdown of an idle queue must succeed", "Shutdown = %v; want nil", err)
	}
	if err := q.Enqueue(t.Context(), event(t, 1)); !errors.Is(err, hookguard.ErrShuttingDown) {
		fatalf(t, "Enqueue after Shutdown must fail with hookguard.ErrShuttingDown", "Enqueue after Shutdown = %v", err)
	}
	// Not even a successor on the same backend may see it.
	next := r.start(t, rec, 3)
	_ = next
	time.Sleep(r.cfg.grace) // watching for an event that must not appear
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := len(rec.calls["evt_1"]); n != 0 {
		errorf(t, "an event refused by Enqueue after Shutdown must never be handled", "it was handled %d times", n)
	}
}

func (r *runner) shutdownHandsOff(t *testing.T) {
	rec := newRecorder(nil)
	started := make(chan struct{}, 1)
	block := func(ctx context.Context, _ hookguard.Event) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done() // hold every attempt until the shutdown deadline
		return ctx.Err()
	}
	q := r.startWith(t, rec, rec.handlerWith(block, true), 3)
	const n = 20
	for i := range n {
		enqueue(t, q, event(t, i))
	}
	select {
	case <-started:
	case <-time.After(r.cfg.wait):
		fatalf(t, "a running queue must start handling enqueued events", "after %v no handler had started", r.cfg.wait)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	err := q.Shutdown(ctx)
	cancel()
	rec.markClosed()
	_ = err // nil or ctx's error: both are allowed; what happened to the events is checked below

	// A successor on the same backend, whose handler succeeds.
	r.startWith(t, rec, rec.handlerWith(func(context.Context, hookguard.Event) error { return nil }, false), 3)
	rec.waitFor(t, r.cfg.wait, "some events enqueued before Shutdown were neither handled nor dead-lettered, by the queue or its successor: lost", func() bool {
		for i := range n {
			id := fmt.Sprintf("evt_%d", i)
			if rec.handled[id] == 0 && len(rec.dead[id]) == 0 {
				return false
			}
		}
		return true
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.late) > 0 {
		errorf(t, "a stopped queue must start no attempt after Shutdown returned", "late attempts for %v", rec.late)
	}
}
