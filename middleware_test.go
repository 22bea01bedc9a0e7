package hookguard_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nextRecorder is the application handler behind the middleware.
type nextRecorder struct {
	calls  int
	events []hookguard.Event
	bodies [][]byte
	status int
	panics bool
}

func (n *nextRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.calls++
	e, ok := hookguard.FromContext(r.Context())
	if !ok {
		panic("no event in context")
	}
	n.events = append(n.events, e)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	n.bodies = append(n.bodies, b)
	if n.panics {
		panic("application bug")
	}
	if n.status != 0 {
		w.WriteHeader(n.status)
	}
	_, _ = io.WriteString(w, "handled")
}

func TestMiddlewarePassesEventAndBody(t *testing.T) {
	for _, name := range []string{"github", "stripe", "slack"} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			next := &nextRecorder{}
			h := testkit.Middleware(t, p, hookguard.WithClock(clock))(next)
			d := sign(t, p, "evt_mw", eventBody("evt_mw"))
			req := d.request()
			origBody := req.Body
			w := testkit.Serve(h, req)
			require.Equal(t, http.StatusOK, w.Code, "body %q", w.Body)
			require.Equal(t, "handled", w.Body.String())
			require.Equal(t, 1, next.calls, "next calls")
			require.Equal(t, d.body, next.bodies[0], "body next read: want the full body")
			e := next.events[0]
			require.Equal(t, name, e.Provider, "event = %+v", e)
			require.Equal(t, "evt_mw", e.ID, "event = %+v", e)
			require.Zero(t, e.Attempt, "event = %+v", e)
			require.True(t, req.Body == origBody, "the caller's request was modified")
			_, ok := hookguard.FromContext(req.Context())
			require.False(t, ok, "the caller's context was modified")
		})
	}
}

func TestMiddlewareRejectionsNeverCallNext(t *testing.T) {
	p := newProvider(t, "stripe")
	d := sign(t, p, "evt_rej", eventBody("evt_rej"))
	tests := []struct {
		name   string
		opts   []hookguard.Option
		modify func(r *http.Request)
		want   int
	}{
		{"GET", nil, func(r *http.Request) { r.Method = http.MethodGet }, 405},
		{"too large", []hookguard.Option{hookguard.WithMaxBodySize(10)}, func(*http.Request) {}, 413},
		{"no signature", nil, func(r *http.Request) { r.Header.Del("Stripe-Signature") }, 400},
		{"forged body", nil, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"id":"evt_rej","amount":1000000}`))
			r.ContentLength = -1
		}, 401},
		{"rate limited", []hookguard.Option{hookguard.WithRateLimit(1e-9, 1)}, func(*http.Request) {}, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &nextRecorder{}
			h := testkit.Middleware(t, p, append(tt.opts, hookguard.WithClock(clock))...)(next)
			if tt.name == "rate limited" {
				testkit.Serve(h, d.request()) // uses the only token
				next.calls = 0
			}
			req := d.request()
			tt.modify(req)
			require.Equal(t, tt.want, testkit.Serve(h, req).Code)
			require.Zero(t, next.calls, "next was called for a rejected request")
		})
	}
}

func TestMiddlewareDedupe(t *testing.T) {
	p := newProvider(t, "stripe")
	st := testkit.NewFlakyStore()
	next := &nextRecorder{}
	h := testkit.Middleware(t, p, hookguard.WithClock(clock), hookguard.WithStore(st))(next)

	// next fails: the event is released, so the sender's retry reaches it.
	next.status = http.StatusInternalServerError
	d := sign(t, p, "evt_mwd", eventBody("evt_mwd"))
	require.Equal(t, http.StatusInternalServerError, testkit.Serve(h, d.request()).Code)
	// next panics: released too.
	next.status, next.panics = 0, true
	require.Panics(t, func() { testkit.Serve(h, d.request()) }, "panic swallowed")
	next.panics = false
	require.Equal(t, http.StatusOK, testkit.Serve(h, d.request()).Code, "retry")
	// Now committed: a copy is a duplicate and skips next.
	w := testkit.Serve(h, d.request())
	require.Equal(t, http.StatusOK, w.Code, "copy")
	require.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "copy: duplicate header")
	require.Equal(t, 3, next.calls, "next calls")
	require.Equal(t, int64(1), st.Commits.Load(), "commits")
}

func TestMiddlewareWithoutStoreDoesNotDedupe(t *testing.T) {
	p := newProvider(t, "stripe")
	next := &nextRecorder{}
	h := testkit.Middleware(t, p, hookguard.WithClock(clock))(next)
	d := sign(t, p, "evt_nd", eventBody("evt_nd"))
	testkit.Serve(h, d.request())
	testkit.Serve(h, d.request())
	require.Equal(t, 2, next.calls, "next calls")
}

// TestMiddlewareConfigErrors is the regression test for Middleware's
// panics on bad wiring: a nil Verifier, an option with a bad value and the
// queue options that do not apply to it are now errors that Middleware
// returns, before any request, and name what was wrong.
func TestMiddlewareConfigErrors(t *testing.T) {
	p := newProvider(t, "stripe")
	tests := []struct {
		name    string
		v       hookguard.Verifier
		opts    func() []hookguard.Option
		wantErr error
		want    string // text the error must hold
	}{
		{"nil verifier", nil, func() []hookguard.Option { return nil }, hookguard.ErrNilVerifier, "nil Verifier"},
		{"WithMaxBodySize(-1)", p, func() []hookguard.Option { return []hookguard.Option{hookguard.WithMaxBodySize(-1)} },
			hookguard.ErrInvalidOption, "WithMaxBodySize(-1): "},
		{"WithDedupeTTL(0)", p, func() []hookguard.Option { return []hookguard.Option{hookguard.WithDedupeTTL(0)} },
			hookguard.ErrInvalidOption, "WithDedupeTTL(0s): "},
		{"WithStore(nil)", p, func() []hookguard.Option { return []hookguard.Option{hookguard.WithStore(nil)} },
			hookguard.ErrInvalidOption, "WithStore(nil): "},
		{"WithQueue", p, func() []hookguard.Option { return []hookguard.Option{hookguard.WithQueue(&countingQueue{})} },
			hookguard.ErrInvalidOption, "WithQueue(...) applies to New, not to Middleware, which has no queue"},
		{"queue option", p, func() []hookguard.Option {
			return []hookguard.Option{hookguard.WithWorkers(1)}
		}, hookguard.ErrInvalidOption, "WithWorkers(1) applies to New and NewMemoryQueue, not to Middleware, which has no queue"},
		{"queue option with a bad value", p, func() []hookguard.Option {
			return []hookguard.Option{hookguard.WithWorkers(0)}
		}, hookguard.ErrInvalidOption, "WithWorkers(0) applies to New and NewMemoryQueue, not to Middleware"},
		{"WithKeepDedupeOnDeadLetter", p, func() []hookguard.Option { return []hookguard.Option{hookguard.WithKeepDedupeOnDeadLetter()} },
			hookguard.ErrInvalidOption, "WithKeepDedupeOnDeadLetter() applies to New, not to Middleware, which has no queue and no dead letters"},
		{"nil verifier and a bad option", nil, func() []hookguard.Option { return []hookguard.Option{hookguard.WithMaxBodySize(0)} },
			hookguard.ErrInvalidOption, "WithMaxBodySize(0): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mw  func(http.Handler) http.Handler
				err error
			)
			require.NotPanics(t, func() { mw, err = hookguard.Middleware(tt.v, tt.opts()...) }, "Middleware panicked")
			require.ErrorIs(t, err, tt.wantErr, "Middleware")
			require.Nil(t, mw, "Middleware returned a middleware with an error")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestVerifierErrorsAreNotEchoed uses a verifier that fails with an error
// whose text must not reach the sender.
func TestVerifierErrorsAreNotEchoed(t *testing.T) {
	secretish := errors.New("db password=hunter2")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantText   string
	}{
		{"opaque error", secretish, 401, hookguard.ErrVerification.Error()},
		{"wrapped sentinel", errors.Join(secretish, verify.ErrMissingSignature), 400, verify.ErrMissingSignature.Error()},
		{"verify.Error", verify.Fail("acme", verify.ErrTimestampTooOld, "timestamp too old"), 401, "acme: timestamp too old"},
		{"misconfigured", verify.ErrEmptySecret, 500, "hookguard: receiver misconfigured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := failingVerifier{tt.err}
			next := &nextRecorder{}
			w := testkit.Serve(testkit.Middleware(t, v)(next), sign(t, newProvider(t, "stripe"), "x", eventBody("x")).request())
			require.Equal(t, tt.wantStatus, w.Code, "status (body %q)", w.Body)
			require.Equal(t, tt.wantText, strings.TrimSpace(w.Body.String()), "answer text")
			require.NotContains(t, w.Body.String(), "hunter2", "verifier error echoed")
		})
	}
}

type failingVerifier struct{ err error }

func (f failingVerifier) Verify(verify.Request, time.Time) (verify.Delivery, error) {
	return verify.Delivery{}, f.err
}
