package webhooktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
)

// accept is a handler that succeeds with every event.
var accept = hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })

// newReceiver builds the production receiver for p with handler h,
// watched by a new Recorder, and shuts it down when the test ends.
func newReceiver(t *testing.T, p hookguard.Verifier, h hookguard.Handler, opts ...hookguard.Option) (*webhooktest.Recorder, *hookguard.Receiver) {
	t.Helper()
	rec := webhooktest.NewRecorder()
	recv, err := hookguard.New(p, h, rec.Options(opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := recv.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return rec, recv
}

// fakeTB records failures instead of stopping a test, to test the helpers'
// failure paths.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failed = append(f.failed, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}
func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

var errLedger = errors.New("ledger unavailable")

// TestRecorderDrivesProductionQueue is the regression test for a test kit
// that tested another pipeline: the Recorder used to be the queue, so a
// handler error answered 503 and was never retried, and a dead letter
// could not be seen at all. Now the handler runs on the receiver's own
// MemoryQueue: the sender gets 200 at once, failures are retried up to
// DefaultMaxAttempts, and Do reports the event as handled (on which
// attempt) or dead-lettered (with its error).
//
// The receiver is given an hour-long backoff before rec.Options(): the
// Recorder's zero backoff must replace it, or the retries would outlast
// the wait and the test would fail instead of sleeping.
func TestRecorderDrivesProductionQueue(t *testing.T) {
	tests := []struct {
		name        string
		fail        func(e hookguard.Event) error // the handler's answer to an attempt
		wantHandled int                           // the attempt that succeeds; 0 for a dead letter
		wantDead    int                           // attempts before the dead letter
		wantErr     error
	}{
		{"first attempt succeeds", func(hookguard.Event) error { return nil }, 1, 0, nil},
		{"fails twice, then succeeds", func(e hookguard.Event) error {
			if e.Attempt < 3 {
				return errLedger
			}
			return nil
		}, 3, 0, nil},
		{"permanent error", func(hookguard.Event) error { return hookguard.Permanent(errLedger) }, 0, 1, errLedger},
		{"always fails", func(hookguard.Event) error { return errLedger }, 0, hookguard.DefaultMaxAttempts, errLedger},
		{"panics once", func(e hookguard.Event) error {
			if e.Attempt == 1 {
				panic("nil map")
			}
			return nil
		}, 2, 0, nil},
		{"always panics", func(hookguard.Event) error { panic("nil map") }, 0, hookguard.DefaultMaxAttempts, hookguard.ErrHandlerPanic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			app := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				calls.Add(1)
				return tt.fail(e)
			})
			p := newProvider(t, "stripe")
			rec := webhooktest.NewRecorder()
			opts := append([]hookguard.Option{hookguard.WithBackoff(time.Hour, time.Hour)}, rec.Options()...)
			recv, err := hookguard.New(p, app, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer recv.Shutdown(context.Background())

			start := time.Now()
			res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
			t.Logf("answered and finished in %v", time.Since(start))
			if res.Status != http.StatusOK || res.Err != nil {
				t.Fatalf("answered %d (%v); want 200: the sender is answered before the handler runs", res.Status, res.Err)
			}
			if tt.wantHandled > 0 {
				if res.Handled == nil || res.DeadLetter != nil {
					t.Fatalf("handled %v, dead letter %v; want handled on attempt %d", res.Handled, res.DeadLetter, tt.wantHandled)
				}
				if res.Handled.Attempt != tt.wantHandled || res.Handled.ID != "evt_3PJk2aLkdIwHu7ix0Qm9x2Tb" {
					t.Errorf("handled %s on attempt %d; want evt_3PJk2aLkdIwHu7ix0Qm9x2Tb on attempt %d", res.Handled.ID, res.Handled.Attempt, tt.wantHandled)
				}
			} else {
				if res.DeadLetter == nil || res.Handled != nil {
					t.Fatalf("handled %v, dead letter %v; want a dead letter", res.Handled, res.DeadLetter)
				}
				dl := res.DeadLetter
				if dl.Attempts != tt.wantDead || dl.Event.Attempt != tt.wantDead || !errors.Is(dl.Err, tt.wantErr) {
					t.Errorf("dead letter after %d attempts (event says %d): %v; want %d attempts and %v", dl.Attempts, dl.Event.Attempt, dl.Err, tt.wantDead, tt.wantErr)
				}
			}
			wantCalls := max(tt.wantHandled, tt.wantDead)
			if n := calls.Load(); int(n) != wantCalls {
				t.Errorf("the handler ran %d times; want %d", n, wantCalls)
			}
			if h, d := len(rec.Handled()), len(rec.DeadLetters()); h+d != 1 {
				t.Errorf("recorded %d handled and %d dead letters; want one outcome", h, d)
			}
		})
	}
}

// TestRecorderDoReturnsAtOnce: rejections, duplicates and handshakes hand
// nothing to the handler, so Do must not wait for an outcome. The wait is
// an hour: a Do that waited would hang the test instead of passing.
func TestRecorderDoReturnsAtOnce(t *testing.T) {
	stripe := newProvider(t, "stripe")
	rec := webhooktest.NewRecorder(webhooktest.WaitTimeout(time.Hour))
	recv, err := hookguard.New(stripe, accept, rec.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Shutdown(context.Background())
	slack := newProvider(t, "slack")
	slackRecv, err := hookguard.New(slack, accept, rec.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer slackRecv.Shutdown(context.Background())

	if res := rec.Do(t, recv, webhooktest.FixtureRequest(t, stripe, "stripe/charge.refunded")); res.Handled == nil {
		t.Fatalf("first copy answered %d, not handled", res.Status)
	}
	tests := []struct {
		name      string
		h         http.Handler
		req       *http.Request
		status    int
		duplicate bool
		err       error
	}{
		{"duplicate", recv, webhooktest.FixtureRequest(t, stripe, "stripe/charge.refunded"), http.StatusOK, true, nil},
		{"wrong secret", recv, webhooktest.FixtureRequest(t, stripe, "stripe/charge.refunded", webhooktest.WithWrongSecret()), http.StatusUnauthorized, false, verify.ErrSignatureMismatch},
		{"no signature", recv, webhooktest.FixtureRequest(t, stripe, "stripe/charge.refunded", webhooktest.WithoutSignature()), http.StatusBadRequest, false, verify.ErrMissingSignature},
		{"stale", recv, webhooktest.FixtureRequest(t, stripe, "stripe/checkout.session.completed", webhooktest.WithTimestampOffset(-time.Hour)), http.StatusUnauthorized, false, verify.ErrTimestampTooOld},
		{"handshake", slackRecv, webhooktest.FixtureRequest(t, slack, "slack/url_verification"), http.StatusOK, false, nil},
	}
	for _, tt := range tests {
		res := rec.Do(t, tt.h, tt.req)
		if res.Status != tt.status || res.Duplicate != tt.duplicate || res.Handled != nil || res.DeadLetter != nil {
			t.Errorf("%s: answered %d duplicate=%v handled=%v dead=%v; want %d duplicate=%v and no outcome",
				tt.name, res.Status, res.Duplicate, res.Handled, res.DeadLetter, tt.status, tt.duplicate)
		}
		if tt.err == nil && res.Err != nil || tt.err != nil && !errors.Is(res.Err, tt.err) {
			t.Errorf("%s: Err = %v; want %v", tt.name, res.Err, tt.err)
		}
	}
	if h, d := len(rec.Handled()), len(rec.DeadLetters()); h != 1 || d != 0 {
		t.Errorf("%d handled, %d dead letters; want only the first copy handled", h, d)
	}
}

// TestRecorderDoConcurrent serves many requests from parallel goroutines,
// some retried and some dead-lettered, so that outcomes arrive out of
// order; each Do must report its own event's outcome, found by ID.
func TestRecorderDoConcurrent(t *testing.T) {
	const n = 40
	p := newProvider(t, "standardwebhooks")
	id := func(i int) string { return fmt.Sprintf("msg_%02d", i) }
	var num sync.Map // event ID -> i
	for i := range n {
		num.Store(id(i), i)
	}
	app := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		v, ok := num.Load(e.ID)
		if !ok {
			return hookguard.Permanent(fmt.Errorf("unknown event %q", e.ID))
		}
		switch i := v.(int); {
		case i%5 == 0:
			return hookguard.Permanent(fmt.Errorf("event %d: %w", i, errLedger))
		case i%2 == 1 && e.Attempt == 1:
			return errLedger
		}
		return nil
	})
	rec, recv := newReceiver(t, p, app)
	results := make([]webhooktest.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		req := webhooktest.FixtureRequest(t, p, "standardwebhooks/invoice.paid", webhooktest.WithID(id(i)))
		wg.Go(func() { results[i] = rec.Do(t, recv, req) })
	}
	wg.Wait()
	for i, res := range results {
		switch {
		case i%5 == 0:
			if res.DeadLetter == nil || res.DeadLetter.Event.ID != id(i) || !strings.Contains(res.DeadLetter.Err.Error(), fmt.Sprintf("event %d:", i)) {
				t.Errorf("request %d: dead letter %v; want %s's", i, res.DeadLetter, id(i))
			}
		default:
			want := 1 + i%2
			if res.Handled == nil || res.Handled.ID != id(i) || res.Handled.Attempt != want {
				t.Errorf("request %d: handled %v; want %s on attempt %d", i, res.Handled, id(i), want)
			}
		}
	}
	if h, d := len(rec.Handled()), len(rec.DeadLetters()); h != n-n/5 || d != n/5 {
		t.Errorf("%d handled and %d dead letters; want %d and %d", h, d, n-n/5, n/5)
	}
}

// TestRecorderWait: events sent without Recorder.Do are waited for by
// count, and a wait that cannot be met says what arrived instead.
func TestRecorderWait(t *testing.T) {
	p := newProvider(t, "stripe")
	app := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		if e.Type == "charge.refunded" {
			return hookguard.Permanent(errLedger)
		}
		return nil
	})
	rec, recv := newReceiver(t, p, app)
	for _, name := range []string{"stripe/payment_intent.succeeded", "stripe/charge.refunded"} {
		if res := webhooktest.Do(t, recv, webhooktest.FixtureRequest(t, p, name)); res.Status != http.StatusOK {
			t.Fatalf("%s answered %d", name, res.Status)
		}
	}
	if evs := rec.WaitHandled(t, 1); len(evs) != 1 || evs[0].Type != "payment_intent.succeeded" {
		t.Errorf("WaitHandled(1) = %v", evs)
	}
	dls := rec.WaitDeadLetters(t, 1)
	if len(dls) != 1 || dls[0].Event.ID != "evt_3PKb7cLkdIwHu7ix1Vn4Hs8Q" || !errors.Is(dls[0].Err, errLedger) || dls[0].Attempts != 1 {
		t.Fatalf("WaitDeadLetters(1) = %v", dls)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := rec.WaitContext(ctx, 2, 0)
	// Two workers handle the two events, so their outcomes may be listed
	// in either order.
	wants := []string{
		"want 2 handled events, got 1 handled event and 1 dead letter: ",
		"stripe payment_intent.succeeded evt_3PJk2aLkdIwHu7ix0Qm9x2Tb handled on attempt 1",
		"stripe charge.refunded evt_3PKb7cLkdIwHu7ix1Vn4Hs8Q dead-lettered after 1 attempt: ledger unavailable",
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitContext(2, 0) = %v; want DeadlineExceeded", err)
	}
	for _, want := range wants {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("WaitContext(2, 0) = %v; want it to say %q", err, want)
		}
	}

	tb := &fakeTB{TB: t}
	short := webhooktest.NewRecorder(webhooktest.WaitTimeout(10 * time.Millisecond))
	short.Hooks().OnDeadLetter(hookguard.Event{Provider: "stripe", ID: "evt_123", Type: "payment_intent.succeeded", Attempt: 1}, errLedger)
	if evs := short.WaitHandled(tb, 1); evs != nil {
		t.Errorf("WaitHandled returned %v after failing", evs)
	}
	short.Hooks().OnHandled(hookguard.Event{Provider: "github", ID: "d-1", Type: "push", Attempt: 2}, 2, nil, 0)
	short.WaitDeadLetters(tb, 2)
	wantFailed := []string{
		"webhooktest: want 1 handled event within 10ms, got 0 handled events and 1 dead letter: stripe payment_intent.succeeded evt_123 dead-lettered after 1 attempt: ledger unavailable",
		"webhooktest: want 2 dead letters within 10ms, got 1 handled event and 1 dead letter: stripe payment_intent.succeeded evt_123 dead-lettered after 1 attempt: ledger unavailable; github push d-1 handled on attempt 2",
	}
	if strings.Join(tb.failed, "\n") != strings.Join(wantFailed, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(tb.failed, "\n"), strings.Join(wantFailed, "\n"))
	}

	rec.Reset()
	if len(rec.Handled())+len(rec.DeadLetters()) != 0 {
		t.Error("Reset kept outcomes")
	}
}

// TestRecorderDoFailures: Do fails the test, saying what to do, when the
// handler is no receiver connected to the Recorder, and when an accepted
// event never ends.
func TestRecorderDoFailures(t *testing.T) {
	tb := &fakeTB{TB: t}
	rec := webhooktest.NewRecorder(webhooktest.WaitTimeout(10 * time.Millisecond))
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	req, _ := http.NewRequest(http.MethodPost, "http://example.com/", nil)
	if res := rec.Do(tb, ok, req); res.Status != http.StatusOK || len(tb.failed) != 1 || !strings.Contains(tb.failed[0], "rec.Options()") {
		t.Errorf("Do with no receiver: %d, failures %q", res.Status, tb.failed)
	}

	// A receiver that reports its answers to rec, but whose handler
	// blocks until the test ends: the event is accepted and never ends.
	release := make(chan struct{})
	p := newProvider(t, "stripe")
	recv, err := hookguard.New(p, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		<-release
		return nil
	}), rec.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Shutdown(context.Background())
	defer close(release)
	res := rec.Do(tb, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	want := "webhooktest: the receiver accepted stripe payment_intent.succeeded evt_3PJk2aLkdIwHu7ix0Qm9x2Tb, but it was neither handled nor dead-lettered within 10ms"
	if res.Status != http.StatusOK || len(tb.failed) != 2 || !strings.HasPrefix(tb.failed[1], want) {
		t.Errorf("Do of a stuck event: %d, failures %q; want one starting %q", res.Status, tb.failed, want)
	}

	webhooktest.MustFixture(tb, "nope/nope")
	if len(tb.failed) != 3 {
		t.Errorf("MustFixture of an unknown name did not fail the test")
	}
}

func TestRecorderFull(t *testing.T) {
	rec := webhooktest.NewRecorder()
	h := rec.Hooks()
	for i := range webhooktest.MaxRecorded {
		h.OnHandled(hookguard.Event{Provider: "stripe", ID: fmt.Sprint(i)}, 1, nil, 0)
	}
	h.OnDeadLetter(hookguard.Event{Provider: "stripe", ID: "late"}, errLedger) // dropped
	if n := len(rec.Handled()) + len(rec.DeadLetters()); n != webhooktest.MaxRecorded {
		t.Fatalf("kept %d outcomes; want MaxRecorded", n)
	}
	// A full recorder fails at once rather than waiting for what it
	// dropped.
	if err := rec.WaitContext(context.Background(), 0, 1); !errors.Is(err, webhooktest.ErrRecorderFull) {
		t.Errorf("WaitContext on a full recorder = %v; want ErrRecorderFull", err)
	}
	if err := rec.WaitContext(context.Background(), webhooktest.MaxRecorded, 0); err != nil {
		t.Errorf("WaitContext for what it kept = %v", err)
	}
	rec.Reset()
	h.OnDeadLetter(hookguard.Event{Provider: "stripe", ID: "after reset"}, errLedger)
	if dls := rec.DeadLetters(); len(dls) != 1 || len(rec.Handled()) != 0 {
		t.Errorf("after Reset: %v", dls)
	}
}

// TestRecorderOptionsOrder: options given to Options come after the
// Recorder's, so a test can restore a backoff; hooks add up.
func TestRecorderOptionsOrder(t *testing.T) {
	var deadLetters atomic.Int32
	p := newProvider(t, "stripe")
	rec, recv := newReceiver(t, p, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		return errLedger
	}), hookguard.WithMaxAttempts(2),
		hookguard.WithHooks(hookguard.Hooks{OnDeadLetter: func(hookguard.Event, error) { deadLetters.Add(1) }}))
	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	if res.DeadLetter == nil || res.DeadLetter.Attempts != 2 || deadLetters.Load() != 1 {
		t.Errorf("dead letter %v, own hook called %d times; want 2 attempts and 1 call", res.DeadLetter, deadLetters.Load())
	}
}
