package webhooktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
)

// DefaultWait bounds how long [Recorder.Do] waits for a handled event.
const DefaultWait = 5 * time.Second

// MaxRecorded is how many events a [Recorder] keeps. Beyond it, it
// refuses events with [ErrRecorderFull] rather than grow without bound.
const MaxRecorded = 1 << 16

// ErrRecorderFull is returned once a Recorder holds [MaxRecorded] events.
var ErrRecorderFull = errors.New("webhooktest: recorder full: it keeps at most MaxRecorded events; call Reset between cases")

// Recorder records the events a receiver hands it, in order, and lets a
// test wait for them without sleeping. It is a [hookguard.Handler] (events
// arrive after the answer, from the receiver's queue) and a
// [hookguard.Queue] (events are recorded before the answer is written):
//
//	rec := webhooktest.NewRecorder()
//	recv, _ := hookguard.New(p, rec)                          // as the handler
//	recv, _ := hookguard.New(p, nil, hookguard.WithQueue(rec)) // or as the queue
//
// With [Then], a Recorder forwards each event to the application's own
// handler and records it once that handler succeeded, so the handler
// under test runs exactly as in production.
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	next    hookguard.Handler
	wait    time.Duration
	mu      sync.Mutex
	events  []hookguard.Event
	changed chan struct{} // closed and replaced on every change
}

// RecorderOption configures a [Recorder].
type RecorderOption func(*Recorder)

// Then makes the Recorder call h with each event and record the event only
// when h returns nil; h's error is returned to the queue, which retries.
func Then(h hookguard.Handler) RecorderOption { return func(r *Recorder) { r.next = h } }

// WaitTimeout sets how long [Recorder.Do] waits for a handled event
// (default [DefaultWait]).
func WaitTimeout(d time.Duration) RecorderOption {
	return func(r *Recorder) {
		if d > 0 {
			r.wait = d
		}
	}
}

// NewRecorder returns an empty Recorder.
func NewRecorder(opts ...RecorderOption) *Recorder {
	r := &Recorder{wait: DefaultWait, changed: make(chan struct{})}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// HandleEvent records e, after the handler given with [Then], if any,
// succeeded. It implements [hookguard.Handler].
func (r *Recorder) HandleEvent(ctx context.Context, e hookguard.Event) error {
	if r.next != nil {
		if err := r.next.HandleEvent(ctx, e); err != nil {
			return err
		}
	}
	if err := r.record(e); err != nil {
		return hookguard.Permanent(err)
	}
	return nil
}

// Enqueue records e at once (running the handler given with [Then], if
// any, synchronously). It implements [hookguard.Queue]: the receiver
// answers only after Enqueue returned, so the event is recorded by the
// time the answer arrives. A handler error is returned, so the receiver
// answers 503 and does not mark the event seen.
func (r *Recorder) Enqueue(ctx context.Context, e hookguard.Event) error {
	if r.next != nil {
		if e.Attempt == 0 {
			e.Attempt = 1
		}
		if err := r.next.HandleEvent(ctx, e); err != nil {
			return fmt.Errorf("webhooktest: handler failed: %w", err)
		}
	}
	return r.record(e)
}

func (r *Recorder) record(e hookguard.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) >= MaxRecorded {
		return ErrRecorderFull
	}
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

// Events returns the events recorded so far, oldest first.
func (r *Recorder) Events() []hookguard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Len returns how many events were recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Reset forgets every recorded event.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
	close(r.changed)
	r.changed = make(chan struct{})
}

// WaitContext returns the first n events once n were recorded, or ctx's
// error (and the events so far) when ctx ends first.
func (r *Recorder) WaitContext(ctx context.Context, n int) ([]hookguard.Event, error) {
	for {
		r.mu.Lock()
		ch := r.changed
		if len(r.events) >= n {
			out := slices.Clone(r.events[:n])
			r.mu.Unlock()
			return out, nil
		}
		got := slices.Clone(r.events)
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// Wait returns the first n events once n were recorded. If fewer arrive
// within timeout it fails the test, saying how many did. Like t.Fatal, it
// must be called from the goroutine running the test.
func (r *Recorder) Wait(tb testing.TB, n int, timeout time.Duration) []hookguard.Event {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	evs, err := r.WaitContext(ctx, n)
	if err != nil {
		tb.Fatalf("webhooktest: %d of %d events recorded after %v", len(evs), n, timeout)
	}
	return evs
}

// Result is what a receiver answered to one request.
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
	// Events are the events handled because of the request, for
	// [Recorder.Do]; always empty for [Do].
	Events []hookguard.Event
}

// Do serves req with h in-process and returns the answer. Use it for
// answers that hand nothing to a handler (rejections, duplicates,
// handshakes), for Middleware, and with any http.Handler; use
// [Recorder.Do] to also get the handled event.
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

// Do serves req with h, a receiver that hands its events to r, and
// returns the answer with the events recorded meanwhile. When the answer
// is 2xx and not a duplicate, the receiver accepted an event, so Do waits
// (up to [WaitTimeout], default [DefaultWait]) until it was recorded, and
// fails the test if it never is; for a handshake, which hands nothing on,
// use the package-level [Do]. Requests served through one Recorder's Do
// must not overlap: it attributes every event recorded meanwhile to req.
func (r *Recorder) Do(tb testing.TB, h http.Handler, req *http.Request) Result {
	tb.Helper()
	before := r.Len()
	res := Do(tb, h, req)
	want := before
	if res.Status >= 200 && res.Status < 300 && !res.Duplicate {
		want++
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.wait)
	defer cancel()
	evs, err := r.WaitContext(ctx, want)
	if err != nil {
		tb.Fatalf("webhooktest: the receiver answered %d but handed no event to the Recorder within %v; for a handshake, use webhooktest.Do", res.Status, r.wait)
	}
	if len(evs) > before {
		res.Events = evs[before:]
	}
	// Events recorded beyond want (a late retry, a concurrent request)
	// are left for Events to report.
	return res
}
