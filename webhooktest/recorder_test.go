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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// accept is a handler that succeeds with every event.
var accept = hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })

// newReceiver builds the production receiver for p with handler h,
// watched by a new Recorder, and shuts it down when the test ends.
func newReceiver(t *testing.T, p hookguard.Verifier, h hookguard.Handler, opts ...hookguard.Option) (*webhooktest.Recorder, *hookguard.Receiver) {
	t.Helper()
	rec := webhooktest.NewRecorder()
	recv, err := hookguard.New(p, h, rec.Options(opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, recv.Shutdown(context.Background()), "Shutdown")
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
			require.NoError(t, err)
			defer recv.Shutdown(context.Background())

			start := time.Now()
			res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
			t.Logf("answered and finished in %v", time.Since(start))
			require.NoError(t, res.Err, "the sender is answered before the handler runs")
			require.Equal(t, http.StatusOK, res.Status, "the sender is answered before the handler runs")
			if tt.wantHandled > 0 {
				require.Nil(t, res.DeadLetter, "want handled on attempt %d", tt.wantHandled)
				require.NotNil(t, res.Handled, "want handled on attempt %d", tt.wantHandled)
				assert.Equal(t, "evt_3PJk2aLkdIwHu7ix0Qm9x2Tb", res.Handled.ID, "handled event")
				assert.Equal(t, tt.wantHandled, res.Handled.Attempt, "attempt that handled the event")
			} else {
				require.Nil(t, res.Handled, "want a dead letter")
				require.NotNil(t, res.DeadLetter, "want a dead letter")
				dl := res.DeadLetter
				assert.Equal(t, tt.wantDead, dl.Attempts, "dead letter: attempts")
				assert.Equal(t, tt.wantDead, dl.Event.Attempt, "dead letter: the event's Attempt")
				assert.ErrorIs(t, dl.Err, tt.wantErr, "dead letter: error")
			}
			assert.Equal(t, max(tt.wantHandled, tt.wantDead), int(calls.Load()), "times the handler ran")
			h, d := len(rec.Handled()), len(rec.DeadLetters())
			assert.Equal(t, 1, h+d, "recorded %d handled and %d dead letters; want one outcome", h, d)
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
	require.NoError(t, err)
	defer recv.Shutdown(context.Background())
	slack := newProvider(t, "slack")
	slackRecv, err := hookguard.New(slack, accept, rec.Options()...)
	require.NoError(t, err)
	defer slackRecv.Shutdown(context.Background())

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, stripe, "stripe/charge.refunded"))
	require.NotNil(t, res.Handled, "first copy answered %d, not handled", res.Status)
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
		assert.Equal(t, tt.status, res.Status, "%s: status", tt.name)
		assert.Equal(t, tt.duplicate, res.Duplicate, "%s: duplicate", tt.name)
		assert.Nil(t, res.Handled, "%s: want no outcome", tt.name)
		assert.Nil(t, res.DeadLetter, "%s: want no outcome", tt.name)
		// errors.Is with a nil want holds only for a nil error.
		assert.ErrorIs(t, res.Err, tt.err, "%s: Err", tt.name)
	}
	assert.Len(t, rec.Handled(), 1, "want only the first copy handled")
	assert.Empty(t, rec.DeadLetters(), "want no dead letters")
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
			if assert.NotNil(t, res.DeadLetter, "request %d: want %s's dead letter", i, id(i)) {
				assert.Equal(t, id(i), res.DeadLetter.Event.ID, "request %d: dead letter", i)
				assert.ErrorContains(t, res.DeadLetter.Err, fmt.Sprintf("event %d:", i), "request %d: dead letter", i)
			}
		default:
			if assert.NotNil(t, res.Handled, "request %d: want %s handled", i, id(i)) {
				assert.Equal(t, id(i), res.Handled.ID, "request %d: handled", i)
				assert.Equal(t, 1+i%2, res.Handled.Attempt, "request %d: handled on attempt", i)
			}
		}
	}
	assert.Len(t, rec.Handled(), n-n/5, "handled events")
	assert.Len(t, rec.DeadLetters(), n/5, "dead letters")
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
		res := webhooktest.Do(t, recv, webhooktest.FixtureRequest(t, p, name))
		require.Equal(t, http.StatusOK, res.Status, "%s answered", name)
	}
	if evs := rec.WaitHandled(t, 1); assert.Len(t, evs, 1, "WaitHandled(1)") {
		assert.Equal(t, "payment_intent.succeeded", evs[0].Type, "WaitHandled(1)")
	}
	dls := rec.WaitDeadLetters(t, 1)
	require.Len(t, dls, 1, "WaitDeadLetters(1)")
	require.Equal(t, "evt_3PKb7cLkdIwHu7ix1Vn4Hs8Q", dls[0].Event.ID, "WaitDeadLetters(1)")
	require.ErrorIs(t, dls[0].Err, errLedger, "WaitDeadLetters(1)")
	require.Equal(t, 1, dls[0].Attempts, "WaitDeadLetters(1)")

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
	assert.ErrorIs(t, err, context.DeadlineExceeded, "WaitContext(2, 0)")
	for _, want := range wants {
		assert.ErrorContains(t, err, want, "WaitContext(2, 0)")
	}

	tb := &fakeTB{TB: t}
	short := webhooktest.NewRecorder(webhooktest.WaitTimeout(10 * time.Millisecond))
	short.Hooks().OnDeadLetter(hookguard.Event{Provider: "stripe", ID: "evt_123", Type: "payment_intent.succeeded", Attempt: 1}, errLedger)
	assert.Nil(t, short.WaitHandled(tb, 1), "WaitHandled returned events after failing")
	short.Hooks().OnHandled(hookguard.Event{Provider: "github", ID: "d-1", Type: "push", Attempt: 2}, 2, nil, 0)
	short.WaitDeadLetters(tb, 2)
	wantFailed := []string{
		"webhooktest: want 1 handled event within 10ms, got 0 handled events and 1 dead letter: stripe payment_intent.succeeded evt_123 dead-lettered after 1 attempt: ledger unavailable",
		"webhooktest: want 2 dead letters within 10ms, got 1 handled event and 1 dead letter: stripe payment_intent.succeeded evt_123 dead-lettered after 1 attempt: ledger unavailable; github push d-1 handled on attempt 2",
	}
	assert.Equal(t, wantFailed, tb.failed, "failures")

	rec.Reset()
	assert.Empty(t, rec.Handled(), "Reset kept handled events")
	assert.Empty(t, rec.DeadLetters(), "Reset kept dead letters")
}

// TestRecorderDoFailures: Do fails the test, saying what to do, when the
// handler is no receiver connected to the Recorder, and when an accepted
// event never ends.
func TestRecorderDoFailures(t *testing.T) {
	tb := &fakeTB{TB: t}
	rec := webhooktest.NewRecorder(webhooktest.WaitTimeout(10 * time.Millisecond))
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	req, _ := http.NewRequest(http.MethodPost, "http://example.com/", nil)
	res := rec.Do(tb, ok, req)
	assert.Equal(t, http.StatusOK, res.Status, "Do with no receiver: status")
	if assert.Len(t, tb.failed, 1, "Do with no receiver: failures") {
		assert.Contains(t, tb.failed[0], "rec.Options()", "Do with no receiver must say what to do")
	}

	// A receiver that reports its answers to rec, but whose handler
	// blocks until the test ends: the event is accepted and never ends.
	release := make(chan struct{})
	p := newProvider(t, "stripe")
	recv, err := hookguard.New(p, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		<-release
		return nil
	}), rec.Options()...)
	require.NoError(t, err)
	defer recv.Shutdown(context.Background())
	defer close(release)
	res = rec.Do(tb, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	want := "webhooktest: the receiver accepted stripe payment_intent.succeeded evt_3PJk2aLkdIwHu7ix0Qm9x2Tb, but it was neither handled nor dead-lettered within 10ms"
	assert.Equal(t, http.StatusOK, res.Status, "Do of a stuck event: status")
	if assert.Len(t, tb.failed, 2, "Do of a stuck event: failures") {
		assert.True(t, strings.HasPrefix(tb.failed[1], want), "Do of a stuck event: failure %q; want one starting %q", tb.failed[1], want)
	}

	webhooktest.MustFixture(tb, "nope/nope")
	assert.Len(t, tb.failed, 3, "MustFixture of an unknown name did not fail the test")
}

func TestRecorderFull(t *testing.T) {
	rec := webhooktest.NewRecorder()
	h := rec.Hooks()
	for i := range webhooktest.MaxRecorded {
		h.OnHandled(hookguard.Event{Provider: "stripe", ID: fmt.Sprint(i)}, 1, nil, 0)
	}
	h.OnDeadLetter(hookguard.Event{Provider: "stripe", ID: "late"}, errLedger) // dropped
	require.Equal(t, webhooktest.MaxRecorded, len(rec.Handled())+len(rec.DeadLetters()), "outcomes kept")
	// A full recorder fails at once rather than waiting for what it
	// dropped.
	assert.ErrorIs(t, rec.WaitContext(context.Background(), 0, 1), webhooktest.ErrRecorderFull, "WaitContext on a full recorder")
	assert.NoError(t, rec.WaitContext(context.Background(), webhooktest.MaxRecorded, 0), "WaitContext for what it kept")
	rec.Reset()
	h.OnDeadLetter(hookguard.Event{Provider: "stripe", ID: "after reset"}, errLedger)
	assert.Len(t, rec.DeadLetters(), 1, "dead letters after Reset")
	assert.Empty(t, rec.Handled(), "handled events after Reset")
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
	if assert.NotNil(t, res.DeadLetter, "want a dead letter") {
		assert.Equal(t, 2, res.DeadLetter.Attempts, "dead letter: attempts")
	}
	// The Recorder's hooks run last, so Do returns after the test's own
	// hook has run.
	assert.Equal(t, int32(1), deadLetters.Load(), "times the test's own dead-letter hook ran")
}

// TestTestifyExample runs the receiver test that Example_testify shows,
// so that the example is a test that passes, not only code that compiles.
func TestTestifyExample(t *testing.T) {
	testStripeReceiver(t, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		if e.Type == "charge.refunded" {
			return hookguard.Permanent(errLedgerDown)
		}
		return nil
	}))
}
