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
)

// ctxMark is a request-context value OnAnswered must see.
type ctxMark struct{}

// OnAnswered reports every request once, with its outcome, status, error,
// matched secret and latency, and the request's context.
func TestOnAnswered(t *testing.T) {
	const old, current = "whsec_hooks_old", "whsec_hooks_current"
	p, err := providers.New("stripe", current, providers.WithSecret(old))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := providers.New("stripe", old)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []hookguard.Answer
	hooks := hookguard.Hooks{OnAnswered: func(ctx context.Context, a hookguard.Answer) {
		if ctx.Value(ctxMark{}) != "mark" {
			t.Errorf("OnAnswered got a context without the request's values")
		}
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
	if len(got) != 4 {
		t.Fatalf("OnAnswered called %d times for 4 requests: %+v", len(got), got)
	}
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
		if a.Outcome != want.outcome || a.Status != want.status || a.SecretIndex != want.secret || a.Provider != want.provider || a.ID != want.id {
			t.Errorf("answer %d = %+v; want %s %d secret %d provider %q id %q", i, a, want.outcome, want.status, want.secret, want.provider, want.id)
		}
		if (want.errIs == nil) != (a.Err == nil) || (want.errIs != nil && !errors.Is(a.Err, want.errIs)) {
			t.Errorf("answer %d error = %v; want %v", i, a.Err, want.errIs)
		}
		if a.Latency <= 0 || a.Latency > time.Minute {
			t.Errorf("answer %d latency = %v; want a real duration", i, a.Latency)
		}
	}
	if got[0].Type == "" {
		t.Errorf("accepted answer has no type: %+v", got[0])
	}
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
	if len(got) != 1 || got[0].Outcome != hookguard.OutcomeAccepted || got[0].Status != http.StatusAccepted || got[0].SecretIndex != 0 {
		t.Errorf("answers = %+v; want one accepted with status 202 and secret 0", got)
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
		if err := q.Enqueue(context.Background(), hookguard.Event{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		<-done
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Refused events are not reported.
	if err := q.Enqueue(context.Background(), hookguard.Event{ID: "late"}); !errors.Is(err, hookguard.ErrShuttingDown) {
		t.Fatalf("Enqueue after Shutdown = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if enq != 4 || ok != 3 || dead != 1 {
		t.Errorf("enqueued %d, handled %d, dead %d; want 4, 3, 1", enq, ok, dead)
	}
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
	if hook > none {
		t.Errorf("an OnAnswered hook that keeps nothing adds allocations: %v with it, %v without", hook, none)
	}
}
