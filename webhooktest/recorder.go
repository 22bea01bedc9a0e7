package webhooktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// DefaultWait bounds how long a [Recorder] waits for handled events and
// dead letters; see [WaitTimeout].
const DefaultWait = 5 * time.Second

// MaxRecorded is how many outcomes (handled events and dead letters) a
// [Recorder] keeps. Beyond it, it drops them, and its waits fail with
// [ErrRecorderFull] rather than the Recorder growing without bound.
const MaxRecorded = 1 << 16

// ErrRecorderFull is wrapped by the error of a wait that could not be
// satisfied because the Recorder already held [MaxRecorded] outcomes.
var ErrRecorderFull = errors.New("webhooktest: recorder full: it keeps at most MaxRecorded handled events and dead letters; call Reset between cases")

// DeadLetter is an event the receiver's queue gave up on: its handler
// returned a [hookguard.Permanent] error, panicked or failed on every
// attempt, or the queue shut down first.
type DeadLetter struct {
	// Event is the event as the handler last saw it.
	Event hookguard.Event
	// Err is the last error, as the queue handed it to
	// [hookguard.Hooks.OnDeadLetter]; errors.Is and errors.As see the
	// handler's own error through it.
	Err error
	// Attempts is how many times the handler was called (Event.Attempt).
	Attempts int
}

// String describes d in one line: provider, type, ID, attempts, error.
func (d DeadLetter) String() string {
	return fmt.Sprintf("%s dead-lettered after %s: %v", describeEvent(d.Event), plural(d.Attempts, "attempt"), d.Err)
}

// Recorder observes a receiver through its hooks, so that a test drives
// the production pipeline (the receiver, its [hookguard.MemoryQueue] and
// its retry policy, and the application's own handler) and then waits,
// without sleeping, for what came of each event: handled, or
// dead-lettered.
//
//	rec := webhooktest.NewRecorder()
//	recv, err := hookguard.New(p, app, rec.Options()...)
//	// ...
//	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
//	// res.Status == 200, res.Handled.Attempt == 1, or res.DeadLetter says why not
//
// [Recorder.Options] adds the Recorder's hooks and a zero retry backoff
// to the receiver's options; nothing else differs from production.
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	wait    time.Duration
	mu      sync.Mutex
	outs    []outcome
	handled int           // outcomes with err == nil
	full    bool          // an outcome was dropped at MaxRecorded
	changed chan struct{} // made by a waiter, closed on the next change
}

// outcome is how one event ended: handled (err nil) or dead-lettered.
type outcome struct {
	ev      hookguard.Event
	err     error
	claimed bool // by a Recorder.Do
}

func (o outcome) String() string {
	if o.err == nil {
		return fmt.Sprintf("%s handled on attempt %d", describeEvent(o.ev), o.ev.Attempt)
	}
	return DeadLetter{Event: o.ev, Err: o.err, Attempts: o.ev.Attempt}.String()
}

func (o outcome) deadLetter() *DeadLetter {
	return &DeadLetter{Event: o.ev, Err: o.err, Attempts: o.ev.Attempt}
}

// RecorderOption configures a [Recorder].
type RecorderOption func(*Recorder)

// WaitTimeout sets how long [Recorder.Do], [Recorder.WaitHandled] and
// [Recorder.WaitDeadLetters] wait before they fail the test (default
// [DefaultWait]). d <= 0 keeps the default.
func WaitTimeout(d time.Duration) RecorderOption {
	return func(r *Recorder) {
		if d > 0 {
			r.wait = d
		}
	}
}

// NewRecorder returns an empty Recorder. Connect it to a receiver with
// [Recorder.Options].
func NewRecorder(opts ...RecorderOption) *Recorder {
	r := &Recorder{wait: DefaultWait}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Options returns the options that connect a receiver built by
// [hookguard.New] to r, with extra in between:
//
//   - hookguard.WithBackoff(0, 0), so that the receiver's queue retries
//     at once instead of after a backoff. Every other rule of the queue
//     applies as in production: the attempt count
//     ([hookguard.DefaultMaxAttempts]), the attempt timeout,
//     [hookguard.Permanent] errors, panic recovery and the dead-letter
//     hooks;
//
//   - extra, which may set another backoff or add hooks of their own
//     (hooks add up);
//
//   - hookguard.WithHooks(r.Hooks()), last, through which r sees every
//     handled event, every dead letter and every answer. Hooks run in the
//     order given, so by the time [Recorder.Do] or a wait returns, every
//     hook given before r's (in extra, or before Options in New's
//     arguments) has run for that event.
//
// For example:
//
//	recv, err := hookguard.New(p, app, rec.Options(hookguard.WithClock(clock.Now))...)
//
// For a receiver built with [hookguard.WithQueue], which takes no queue
// options, pass hookguard.WithHooks(r.Hooks()) instead and give the queue
// r's hooks too, if it takes hooks.
func (r *Recorder) Options(extra ...hookguard.Option) []hookguard.Option {
	opts := make([]hookguard.Option, 0, len(extra)+2)
	opts = append(opts, hookguard.WithBackoff(0, 0))
	opts = append(opts, extra...)
	return append(opts, hookguard.WithHooks(r.Hooks()))
}

// Hooks returns the hooks through which r observes a receiver: OnHandled
// records each event whose attempt succeeded, OnDeadLetter each event
// given up on, and OnAnswered tells [Recorder.Do] what the receiver made
// of its request. [Recorder.Options] passes them to the receiver.
func (r *Recorder) Hooks() hookguard.Hooks {
	return hookguard.Hooks{
		OnHandled: func(e hookguard.Event, _ int, err error, _ time.Duration) {
			if err == nil {
				r.add(outcome{ev: e})
			}
		},
		OnDeadLetter: func(e hookguard.Event, err error) {
			if err == nil { // cannot happen; keep the two kinds apart anyway
				err = errors.New("webhooktest: dead letter without an error")
			}
			r.add(outcome{ev: e, err: err})
		},
		OnAnswered: func(ctx context.Context, a hookguard.Answer) {
			if s, ok := ctx.Value(answerKey{r}).(*answerSlot); ok {
				r.mu.Lock()
				s.a, s.ok = a, true
				r.mu.Unlock()
			}
		},
	}
}

func (r *Recorder) add(o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.outs) >= MaxRecorded {
		r.full = true
	} else {
		r.outs = append(r.outs, o)
		if o.err == nil {
			r.handled++
		}
	}
	r.notifyLocked()
}

// notifyLocked wakes every waiter.
func (r *Recorder) notifyLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// waitLocked returns a channel closed on the next change.
func (r *Recorder) waitLocked() <-chan struct{} {
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.changed
}

// Handled returns the events handled so far, in the order their handler
// succeeded. Each Event.Attempt is the attempt that succeeded.
func (r *Recorder) Handled() []hookguard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handledLocked(-1)
}

// DeadLetters returns the events given up on so far, in order.
func (r *Recorder) DeadLetters() []DeadLetter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deadLocked(-1)
}

// handledLocked returns the first n handled events, or all for n < 0.
func (r *Recorder) handledLocked(n int) []hookguard.Event {
	if n < 0 || n > r.handled {
		n = r.handled
	}
	out := make([]hookguard.Event, 0, n)
	for _, o := range r.outs {
		if len(out) == n {
			break
		}
		if o.err == nil {
			out = append(out, o.ev)
		}
	}
	return out
}

// deadLocked returns the first n dead letters, or all for n < 0.
func (r *Recorder) deadLocked(n int) []DeadLetter {
	var out []DeadLetter
	for _, o := range r.outs {
		if o.err != nil && (n < 0 || len(out) < n) {
			out = append(out, *o.deadLetter())
		}
	}
	return out
}

// Reset forgets every handled event and dead letter.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outs, r.handled, r.full = nil, 0, false
	r.notifyLocked()
}

// WaitContext waits until at least handled events were handled and
// deadLetters events were dead-lettered, and returns nil; or, when ctx
// ends first, an error that wraps ctx's and says what arrived instead. It
// fails at once, wrapping [ErrRecorderFull], when r is full. Unlike
// [Recorder.WaitHandled] it may be called from any goroutine.
func (r *Recorder) WaitContext(ctx context.Context, handled, deadLetters int) error {
	for {
		r.mu.Lock()
		ch := r.waitLocked()
		if r.handled >= handled && len(r.outs)-r.handled >= deadLetters {
			r.mu.Unlock()
			return nil
		}
		full := r.full
		r.mu.Unlock()
		var cause error
		if full {
			cause = ErrRecorderFull
		} else {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				cause = ctx.Err()
			}
		}
		return fmt.Errorf("webhooktest: want %s, got %s: %w", wanted(handled, deadLetters), r.summary(), cause)
	}
}

// WaitHandled returns the first n handled events once n were handled
// (whatever the number of dead letters). If fewer are within the wait
// timeout ([WaitTimeout]), it fails the test, saying what arrived instead:
//
//	webhooktest: want 1 handled event within 5s, got 0 handled events and 1 dead letter: stripe payment_intent.succeeded evt_123 dead-lettered after 1 attempt: ...
//
// Like t.Fatal, it must be called from the goroutine running the test.
func (r *Recorder) WaitHandled(tb testing.TB, n int) []hookguard.Event {
	tb.Helper()
	if !r.waitTB(tb, n, 0) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handledLocked(n)
}

// WaitDeadLetters returns the first n dead letters once n events were
// given up on (whatever the number handled), or fails the test as
// [Recorder.WaitHandled] does.
func (r *Recorder) WaitDeadLetters(tb testing.TB, n int) []DeadLetter {
	tb.Helper()
	if !r.waitTB(tb, 0, n) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deadLocked(n)
}

func (r *Recorder) waitTB(tb testing.TB, handled, dead int) bool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.wait)
	defer cancel()
	if err := r.WaitContext(ctx, handled, dead); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			tb.Fatalf("webhooktest: want %s within %v, got %s", wanted(handled, dead), r.wait, r.summary())
		} else {
			tb.Fatalf("%v", err)
		}
		return false
	}
	return true
}

// summary says what r holds: counts, then the latest outcomes.
func (r *Recorder) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	const show = 3
	s := plural(r.handled, "handled event") + " and " + plural(len(r.outs)-r.handled, "dead letter")
	if len(r.outs) == 0 {
		return s
	}
	from := max(len(r.outs)-show, 0)
	parts := make([]string, 0, show+1)
	if from > 0 {
		parts = append(parts, fmt.Sprintf("... %d earlier", from))
	}
	for _, o := range r.outs[from:] {
		parts = append(parts, o.String())
	}
	return s + ": " + strings.Join(parts, "; ")
}

// wanted describes a wait's goal.
func wanted(handled, dead int) string {
	switch {
	case dead <= 0:
		return plural(handled, "handled event")
	case handled <= 0:
		return plural(dead, "dead letter")
	}
	return plural(handled, "handled event") + " and " + plural(dead, "dead letter")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func describeEvent(e hookguard.Event) string {
	id := e.ID
	if id == "" {
		id = "(no ID)"
	}
	typ := e.Type
	if typ == "" {
		typ = "(no type)"
	}
	return e.Provider + " " + typ + " " + id
}

// Result is what a receiver answered to one request and, for
// [Recorder.Do], what came of the event it accepted.
type Result struct {
	// Status is the HTTP status code.
	Status int
	// Header is the response header.
	Header http.Header
	// Body is the response body.
	Body []byte
	// Duplicate reports whether the receiver answered that the event was
	// a duplicate ([hookguard.DuplicateHeader]).
	Duplicate bool
	// Err says why the receiver did not accept the request, as it told
	// [hookguard.Hooks.OnAnswered] (errors.Is(res.Err,
	// verify.ErrSignatureMismatch) for a wrong signature, say); nil when
	// it accepted the event, answered a duplicate or a handshake. Only
	// [Recorder.Do] fills it.
	Err error
	// Handled is the event the request caused, once its handler
	// succeeded; Handled.Attempt is the attempt that did. Only
	// [Recorder.Do] fills it.
	Handled *hookguard.Event
	// DeadLetter is the event the request caused, once the queue gave up
	// on it, with the last error. Only [Recorder.Do] fills it.
	DeadLetter *DeadLetter
}

// Do serves req with h in-process and returns the answer, without waiting
// for any handler. Use it with any http.Handler and with
// [hookguard.Middleware]; use [Recorder.Do] to also learn what came of
// the event a receiver accepted.
func Do(tb testing.TB, h http.Handler, req *http.Request) Result {
	tb.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	resp := w.Result()
	return Result{
		Status:    resp.StatusCode,
		Header:    resp.Header,
		Body:      w.Body.Bytes(),
		Duplicate: resp.Header.Get(hookguard.DuplicateHeader) != "",
	}
}

// answerKey keys, in a request's context, where r's OnAnswered hook puts
// the receiver's answer for [Recorder.Do].
type answerKey struct{ r *Recorder }

type answerSlot struct {
	a  hookguard.Answer
	ok bool
}

// Do serves req with h (a receiver built with r's [Recorder.Options], or
// an http.Handler that routes to one) and returns the answer. When the
// receiver accepted the event, Do waits until its handler succeeded
// (Result.Handled) or the queue gave up on it (Result.DeadLetter),
// retries included, and fails the test if neither happens within the wait
// timeout ([WaitTimeout]). Rejections, duplicates and handshakes return at
// once, with Result.Err saying why a request was rejected.
//
// Do finds the outcome of its own event by provider and event ID (by
// order among events without an ID), so requests may be served from
// several goroutines at once. A failure is reported with tb.Fatalf, which,
// called from a goroutine other than the test's, marks the test failed
// and ends only that goroutine.
func (r *Recorder) Do(tb testing.TB, h http.Handler, req *http.Request) Result {
	tb.Helper()
	slot := new(answerSlot)
	req = req.WithContext(context.WithValue(req.Context(), answerKey{r}, slot))
	res := Do(tb, h, req)
	r.mu.Lock()
	a, answered := slot.a, slot.ok
	r.mu.Unlock()
	if answered {
		res.Err = a.Err
	}
	if res.Status < 200 || res.Status > 299 || res.Duplicate {
		return res
	}
	if !answered {
		tb.Fatalf("webhooktest: the handler answered %d but no receiver reported its answer to this Recorder; build the receiver with hookguard.New(p, h, rec.Options()...)", res.Status)
		return res
	}
	if a.Outcome != hookguard.OutcomeAccepted {
		return res // a handshake: nothing was handed on
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.wait)
	defer cancel()
	o, err := r.claim(ctx, a.Provider, a.ID)
	if err != nil {
		ev := describeEvent(hookguard.Event{Provider: a.Provider, ID: a.ID, Type: a.Type})
		if errors.Is(err, ErrRecorderFull) {
			tb.Fatalf("webhooktest: the receiver accepted %s, and then: %v", ev, err)
		} else {
			tb.Fatalf("webhooktest: the receiver accepted %s, but it was neither handled nor dead-lettered within %v (a hookguard.Middleware runs no queue: use webhooktest.Do); got %s", ev, r.wait, r.summary())
		}
		return res
	}
	if o.err == nil {
		res.Handled = &o.ev
	} else {
		res.DeadLetter = o.deadLetter()
	}
	return res
}

// claim waits for the first outcome of provider's event id that no other
// Do claimed yet, and claims it.
func (r *Recorder) claim(ctx context.Context, provider, id string) (outcome, error) {
	for {
		r.mu.Lock()
		ch := r.waitLocked()
		for i := range r.outs {
			if o := &r.outs[i]; !o.claimed && o.ev.Provider == provider && o.ev.ID == id {
				o.claimed = true
				out := *o
				r.mu.Unlock()
				return out, nil
			}
		}
		full := r.full
		r.mu.Unlock()
		if full {
			return outcome{}, ErrRecorderFull
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return outcome{}, ctx.Err()
		}
	}
}
