package hookguard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctxMark is a request-context value OnAnswered must see.
type ctxMark struct{}

// OnAnswered reports every request once, with its outcome, status, error,
// matched secret and latency, and the request's context.
func TestOnAnswered(t *testing.T) {
	const old, current = "whsec_hooks_old", "whsec_hooks_current"
	p, err := providers.New("stripe", current, providers.WithSecret(old))
	require.NoError(t, err)
	signer, err := providers.New("stripe", old)
	require.NoError(t, err)
	var mu sync.Mutex
	var got []hookguard.Answer
	hooks := hookguard.Hooks{OnAnswered: func(ctx context.Context, a hookguard.Answer) {
		assert.Equal(t, "mark", ctx.Value(ctxMark{}), "OnAnswered got a context without the request's values")
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	}}
	r := mustNew(t, p, testkit.NewCounter(), hookguard.WithHooks(hooks), hookguard.WithClock(clock))
	do := func(req *http.Request) int {
		req = req.WithContext(context.WithValue(req.Context(), ctxMark{}, "mark"))
		return testkit.Serve(r, req).Code
	}
	d := sign(t, signer, "evt_ans", eventBody("evt_ans"))
	do(d.request())
	do(d.request())
	bad := d.request()
	bad.Header.Set("Stripe-Signature", "t=1700000000,v1=not-hex")
	do(bad)
	do(httptest.NewRequest(http.MethodPut, "/webhooks/x", nil))
	shutdown(t, r)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 4, "OnAnswered calls for 4 requests")
	for i, want := range []struct {
		outcome  string
		status   int
		secret   int
		provider string
		id       string
		errIs    error
	}{
		{hookguard.OutcomeAccepted, 200, 1, "stripe", "evt_ans", nil},
		{hookguard.OutcomeDuplicate, 200, 1, "stripe", "evt_ans", nil},
		{hookguard.OutcomeRejected, 400, -1, "stripe", "", verify.ErrMalformedSignature},
		{hookguard.OutcomeRejected, 405, -1, "", "", hookguard.ErrMethodNotAllowed},
	} {
		a := got[i]
		assert.Equal(t, want.outcome, a.Outcome, "answer %d = %+v", i, a)
		assert.Equal(t, want.status, a.Status, "answer %d = %+v", i, a)
		assert.Equal(t, want.secret, a.SecretIndex, "answer %d = %+v", i, a)
		assert.Equal(t, want.provider, a.Provider, "answer %d = %+v", i, a)
		assert.Equal(t, want.id, a.ID, "answer %d = %+v", i, a)
		if want.errIs == nil {
			assert.NoError(t, a.Err, "answer %d error", i)
		} else {
			assert.ErrorIs(t, a.Err, want.errIs, "answer %d error", i)
		}
		assert.Positive(t, a.Latency, "answer %d latency: want a real duration", i)
		assert.LessOrEqual(t, a.Latency, time.Minute, "answer %d latency: want a real duration", i)
	}
	assert.NotEmpty(t, got[0].Type, "accepted answer has no type: %+v", got[0])
}

// OnAnswered also reports Middleware requests, with next's status.
func TestOnAnsweredMiddleware(t *testing.T) {
	p := newProvider(t, "github")
	var got []hookguard.Answer
	mw := testkit.Middleware(t, p, hookguard.WithHooks(hookguard.Hooks{
		OnAnswered: func(_ context.Context, a hookguard.Answer) { got = append(got, a) },
	}))
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	testkit.Serve(h, sign(t, p, "gh_1", eventBody("gh_1")).request())
	if assert.Len(t, got, 1, "answers") {
		assert.Equal(t, hookguard.OutcomeAccepted, got[0].Outcome, "answer %+v", got[0])
		assert.Equal(t, http.StatusAccepted, got[0].Status, "answer %+v: want next's status", got[0])
		assert.Zero(t, got[0].SecretIndex, "answer %+v", got[0])
	}
}

// OnEnqueued, OnHandled and OnDeadLetter account for every event exactly
// once, so enqueued - handled - dead letters is the queue's depth.
func TestOnEnqueuedBalances(t *testing.T) {
	var mu sync.Mutex
	var enq, ok, dead int
	done := make(chan struct{}, 8)
	hooks := hookguard.Hooks{
		OnEnqueued: func(hookguard.Event) { mu.Lock(); enq++; mu.Unlock() },
		OnHandled: func(_ hookguard.Event, _ int, err error, _ time.Duration) {
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
				done <- struct{}{}
			}
		},
		OnDeadLetter: func(hookguard.Event, error) { mu.Lock(); dead++; mu.Unlock(); done <- struct{}{} },
	}
	q := testkit.NewMemoryQueue(t, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		if e.ID == "bad" {
			return hookguard.Permanent(errors.New("no"))
		}
		return nil
	}), hookguard.WithHooks(hooks))
	for _, id := range []string{"a", "b", "bad", "c"} {
		require.NoError(t, q.Enqueue(context.Background(), hookguard.Event{ID: id}))
	}
	for range 4 {
		<-done
	}
	require.NoError(t, q.Shutdown(context.Background()))
	// Refused events are not reported.
	require.ErrorIs(t, q.Enqueue(context.Background(), hookguard.Event{ID: "late"}), hookguard.ErrShuttingDown, "Enqueue after Shutdown")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 4, enq, "enqueued")
	assert.Equal(t, 3, ok, "handled")
	assert.Equal(t, 1, dead, "dead letters")
}

// Reporting an Answer allocates nothing: the struct is passed by value
// and the receiver builds it only when OnAnswered is set.
func TestOnAnsweredAllocatesNothing(t *testing.T) {
	p := newProvider(t, "github")
	rNone := mustNew(t, p, testkit.NewCounter(), hookguard.WithClock(clock))
	rHook := mustNew(t, p, testkit.NewCounter(), hookguard.WithClock(clock), hookguard.WithHooks(hookguard.Hooks{
		OnAnswered: func(context.Context, hookguard.Answer) {},
	}))
	defer shutdown(t, rNone)
	defer shutdown(t, rHook)
	get := httptest.NewRequest(http.MethodPut, "/webhooks/x", nil) // 405: no body, no queue
	w := &benchWriter{h: http.Header{}}
	measure := func(r *hookguard.Receiver) float64 {
		return testing.AllocsPerRun(200, func() {
			w.reset()
			r.ServeHTTP(w, get)
		})
	}
	none, hook := measure(rNone), measure(rHook)
	assert.LessOrEqual(t, hook, none, "an OnAnswered hook that keeps nothing adds allocations: with it, without")
}
