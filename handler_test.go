package hookguard_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReceiverStatusTable drives every row of the status table end to end,
// for each of the pipelinePresets.
func TestReceiverStatusTable(t *testing.T) {
	for _, name := range pipelinePresets {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			t.Run("new event is 200 and handled once", func(t *testing.T) {
				rec := testkit.NewCounter()
				var got []hookguard.Event
				var mu sync.Mutex
				rec.Fn = func(_ context.Context, e hookguard.Event) error {
					mu.Lock()
					got = append(got, e)
					mu.Unlock()
					return nil
				}
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_new", eventBody("evt_new"))
				w := testkit.Serve(r, d.request())
				require.Equal(t, http.StatusOK, w.Code, "body %q", w.Body)
				assert.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "first delivery marked duplicate")
				shutdown(t, r)
				require.Equal(t, 1, rec.Times("evt_new"), "handler runs")
				e := got[0]
				assert.Equal(t, name, e.Provider, "event = %+v", e)
				assert.Equal(t, "evt_new", e.ID, "event = %+v", e)
				assert.Equal(t, d.body, e.Body, "event = %+v", e)
				assert.Equal(t, 1, e.Attempt, "event = %+v", e)
				assert.True(t, e.ReceivedAt.Equal(t0), "ReceivedAt = %v, want %v", e.ReceivedAt, t0)
				for k := range e.Header {
					lk := strings.ToLower(k)
					assert.NotContains(t, lk, "signature", "event header %q leaks a signature", k)
					assert.NotContains(t, lk, "hmac", "event header %q leaks a signature", k)
				}
			})
			t.Run("duplicate is 200 with header and not handled again", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_dup", eventBody("evt_dup"))
				require.Equal(t, http.StatusOK, testkit.Serve(r, d.request()).Code, "first")
				w := testkit.Serve(r, d.request())
				require.Equal(t, http.StatusOK, w.Code, "second")
				require.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "second: %s", hookguard.DuplicateHeader)
				shutdown(t, r)
				require.Equal(t, 1, rec.Times("evt_dup"), "handler runs")
			})
			t.Run("copy while first is being enqueued is 409, retry after failure passes", func(t *testing.T) {
				rec := testkit.NewCounter()
				g := &gateQueue{inner: testkit.NewMemoryQueue(t, rec), entered: make(chan string), result: make(chan error)}
				g.armed.Store(true)
				r, err := hookguard.New(p, nil, hookguard.WithQueue(g), hookguard.WithClock(clock))
				require.NoError(t, err)
				d := sign(t, p, "evt_pend", eventBody("evt_pend"))
				first := make(chan *httptest.ResponseRecorder)
				go func() { first <- testkit.Serve(r, d.request()) }()
				select {
				case <-g.entered: // the first copy holds the reservation
				case w := <-first:
					require.Failf(t, "first copy answered without reaching the queue", "status %d (%q)", w.Code, w.Body)
				case <-time.After(10 * time.Second):
					require.Fail(t, "first copy never reached the queue")
				}
				w := testkit.Serve(r, d.request())
				require.Equal(t, http.StatusConflict, w.Code, "concurrent copy")
				require.NotEmpty(t, w.Header().Get("Retry-After"), "concurrent copy: want 409 with Retry-After")
				g.result <- hookguard.ErrQueueFull
				require.Equal(t, http.StatusServiceUnavailable, (<-first).Code, "first copy")
				w = testkit.Serve(r, d.request())
				require.Equal(t, http.StatusOK, w.Code, "retry")
				require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "retry: want a fresh 200")
				shutdown(t, r)
				require.NoError(t, g.inner.Shutdown(context.Background()))
				require.Equal(t, 1, rec.Times("evt_pend"), "handler runs")
			})
			t.Run("GET is 405 with Allow", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_get", eventBody("evt_get"))
				req := d.request()
				req.Method = http.MethodGet
				w := testkit.Serve(r, req)
				require.Equal(t, http.StatusMethodNotAllowed, w.Code)
				require.Equal(t, "POST", w.Header().Get("Allow"))
				shutdown(t, r)
				require.Zero(t, rec.Total(), "handler ran")
			})
			t.Run("body over limit is 413 and not read past it", func(t *testing.T) {
				const limit = 64
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec, hookguard.WithMaxBodySize(limit))
				big := eventBody("evt_big" + strings.Repeat("x", 200))
				d := sign(t, p, "evt_big", big)
				// Announced length over the limit: nothing is read.
				cr := &countingReader{r: bytes.NewReader(big)}
				req := d.request()
				req.Body = io.NopCloser(cr)
				require.Equal(t, http.StatusRequestEntityTooLarge, testkit.Serve(r, req).Code)
				assert.Zero(t, cr.n, "bytes read of a body announced too large")
				// Unknown length: read stops at limit+1.
				cr = &countingReader{r: bytes.NewReader(big)}
				req = d.request()
				req.Body = io.NopCloser(cr)
				req.ContentLength = -1
				require.Equal(t, http.StatusRequestEntityTooLarge, testkit.Serve(r, req).Code, "chunked")
				assert.LessOrEqual(t, cr.n, limit+1, "bytes read, limit %d", limit)
				shutdown(t, r)
				require.Zero(t, rec.Total(), "handler ran")
			})
			t.Run("missing signature is 400", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_nosig", eventBody("evt_nosig"))
				req := d.request()
				req.Header.Del(p.Info().SignatureHeader)
				w := testkit.Serve(r, req)
				require.Equal(t, http.StatusBadRequest, w.Code, "body %q", w.Body)
				shutdown(t, r)
				require.Zero(t, rec.Total(), "handler ran")
			})
			t.Run("malformed signature is 400", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_badsig", eventBody("evt_badsig"))
				req := d.request()
				req.Header.Set(p.Info().SignatureHeader, "%%%not-a-signature%%%")
				w := testkit.Serve(r, req)
				require.Equal(t, http.StatusBadRequest, w.Code, "body %q", w.Body)
				shutdown(t, r)
			})
			t.Run("mismatch is 401 and never echoes the signature", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_forged", eventBody("evt_forged"))
				req := d.request()
				forged := bytes.Replace(d.body, []byte(`"n":1`), []byte(`"n":2`), 1)
				req.Body = io.NopCloser(bytes.NewReader(forged))
				w := testkit.Serve(r, req)
				require.Equal(t, http.StatusUnauthorized, w.Code, "body %q", w.Body)
				assertNoLeak(t, w, d)
				shutdown(t, r)
				require.Zero(t, rec.Total(), "handler ran")
			})
			if p.Info().Timestamped {
				t.Run("timestamp outside window is 401", func(t *testing.T) {
					rec := testkit.NewCounter()
					late := func() time.Time { return t0.Add(time.Hour) }
					r, err := hookguard.New(p, rec, hookguard.WithClock(late))
					require.NoError(t, err)
					d := sign(t, p, "evt_old", eventBody("evt_old"))
					w := testkit.Serve(r, d.request())
					require.Equal(t, http.StatusUnauthorized, w.Code, "body %q", w.Body)
					assertNoLeak(t, w, d)
					shutdown(t, r)
				})
			}
			t.Run("rate limited is 429 with Retry-After", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec, hookguard.WithRateLimit(1, 1))
				require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "evt_rl1", eventBody("evt_rl1")).request()).Code, "first")
				w := testkit.Serve(r, sign(t, p, "evt_rl2", eventBody("evt_rl2")).request())
				require.Equal(t, http.StatusTooManyRequests, w.Code, "second")
				require.Equal(t, "1", w.Header().Get("Retry-After"), "second: Retry-After")
				shutdown(t, r)
				require.Equal(t, int64(1), rec.Total(), "handler runs")
			})
			t.Run("queue full is 503 and not marked seen", func(t *testing.T) {
				rec := testkit.NewCounter()
				release := make(chan struct{})
				started := make(chan struct{}, 1)
				done := make(chan struct{}, 1)
				rec.Fn = func(ctx context.Context, e hookguard.Event) error {
					if e.ID == "evt_block" {
						started <- struct{}{}
						<-release
					}
					return nil
				}
				r := mustNew(t, p, rec,
					hookguard.WithCapacity(1), hookguard.WithWorkers(1),
					hookguard.WithHooks(hookguard.Hooks{OnHandled: func(e hookguard.Event, _ int, _ error, _ time.Duration) {
						if e.ID == "evt_block" {
							done <- struct{}{}
						}
					}}))
				require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "evt_block", eventBody("evt_block")).request()).Code, "first")
				<-started
				d := sign(t, p, "evt_full", eventBody("evt_full"))
				w := testkit.Serve(r, d.request())
				require.Equal(t, http.StatusServiceUnavailable, w.Code, "full")
				require.Equal(t, "5", w.Header().Get("Retry-After"), "full: Retry-After")
				close(release)
				<-done // the slot is free once OnHandled of a success runs
				w = testkit.Serve(r, d.request())
				require.Equal(t, http.StatusOK, w.Code, "retry after room")
				require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "retry after room: want fresh 200")
				shutdown(t, r)
				require.Equal(t, 1, rec.Times("evt_full"), "evt_full handled")
			})
			t.Run("shutting down is 503", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				shutdown(t, r)
				w := testkit.Serve(r, sign(t, p, "evt_late", eventBody("evt_late")).request())
				require.Equal(t, http.StatusServiceUnavailable, w.Code)
				require.NotEmpty(t, w.Header().Get("Retry-After"), "want 503 with Retry-After")
			})
			t.Run("fail-closed store down is 503 and enqueues nothing", func(t *testing.T) {
				rec := testkit.NewCounter()
				st := testkit.NewFlakyStore()
				st.Down.Store(true)
				r := mustNew(t, p, rec, hookguard.WithStore(st), hookguard.WithFailClosed())
				d := sign(t, p, "evt_fc", eventBody("evt_fc"))
				require.Equal(t, http.StatusServiceUnavailable, testkit.Serve(r, d.request()).Code)
				st.Down.Store(false)
				w := testkit.Serve(r, d.request())
				require.Equal(t, http.StatusOK, w.Code, "after recovery")
				require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "after recovery: want fresh 200")
				shutdown(t, r)
				require.Equal(t, 1, rec.Times("evt_fc"), "handled")
			})
		})
	}
}

func mustNew(t testing.TB, v hookguard.Verifier, h hookguard.Handler, opts ...hookguard.Option) *hookguard.Receiver {
	t.Helper()
	r, err := hookguard.New(v, h, append([]hookguard.Option{hookguard.WithClock(clock)}, opts...)...)
	require.NoError(t, err, "New")
	return r
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// assertNoLeak fails if the answer contains any signature header value
// (or a part of it) or the body.
func assertNoLeak(t *testing.T, w *httptest.ResponseRecorder, d delivery) {
	t.Helper()
	answer := w.Body.String()
	for k, vs := range w.Header() {
		answer += k + ":" + strings.Join(vs, ",") + "\n"
	}
	for k, vs := range d.header {
		lk := strings.ToLower(k)
		if !strings.Contains(lk, "signature") && !strings.Contains(lk, "hmac") {
			continue
		}
		for _, v := range vs {
			for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' || r == ' ' }) {
				if len(part) >= 16 {
					assert.NotContains(t, answer, part, "answer echoes signature material")
				}
			}
		}
	}
	assert.NotContains(t, answer, string(d.body), "answer echoes the body")
}

func TestSlackHandshake(t *testing.T) {
	p := newProvider(t, "slack")
	rec := testkit.NewCounter()
	st := testkit.NewFlakyStore()
	var handshakes []string
	r := mustNew(t, p, rec, hookguard.WithStore(st), hookguard.WithHooks(hookguard.Hooks{
		OnHandshake: func(provider string) { handshakes = append(handshakes, provider) },
	}))
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	d := sign(t, p, "", body)
	w := testkit.Serve(r, d.request())
	require.Equal(t, http.StatusOK, w.Code, "body %q", w.Body)
	require.Contains(t, w.Body.String(), "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "want 200 echoing the challenge")
	// A forged handshake is not answered.
	req := d.request()
	req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	require.Equal(t, http.StatusUnauthorized, testkit.Serve(r, req).Code, "forged handshake")
	shutdown(t, r)
	require.Zero(t, rec.Total(), "handshake handled")
	require.Zero(t, st.Reserves.Load(), "store reserves for a handshake")
	require.Equal(t, []string{"slack"}, handshakes, "OnHandshake calls")
}

// TestServeMuxPattern mounts receivers under Go 1.22 method patterns.
func TestServeMuxPattern(t *testing.T) {
	mux := http.NewServeMux()
	recs := map[string]*testkit.Counter{}
	var rs []*hookguard.Receiver
	for _, name := range []string{"github", "stripe"} {
		rec := testkit.NewCounter()
		recs[name] = rec
		r := mustNew(t, newProvider(t, name), rec)
		rs = append(rs, r)
		mux.Handle("POST /webhooks/"+name, r)
	}
	for _, name := range []string{"github", "stripe"} {
		d := sign(t, newProvider(t, name), "evt_mux", eventBody("evt_mux"))
		req := d.request()
		req.URL.Path = "/webhooks/" + name
		require.Equal(t, http.StatusOK, testkit.Serve(mux, req).Code, name)
		get := httptest.NewRequest(http.MethodGet, "/webhooks/"+name, nil)
		require.Equal(t, http.StatusMethodNotAllowed, testkit.Serve(mux, get).Code, "%s GET", name)
	}
	// A GitHub delivery sent to the Stripe route does not verify.
	d := sign(t, newProvider(t, "github"), "evt_x", eventBody("evt_x"))
	req := d.request()
	req.URL.Path = "/webhooks/stripe"
	require.Equal(t, http.StatusBadRequest, testkit.Serve(mux, req).Code, "cross-provider")
	for _, r := range rs {
		shutdown(t, r)
	}
	for name, rec := range recs {
		assert.Equal(t, 1, rec.Times("evt_mux"), "%s handled", name)
	}
}

func TestReplayUnderFreshIDIsDuplicate(t *testing.T) {
	for _, name := range []string{"github", "shopify"} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			rec := testkit.NewCounter()
			r := mustNew(t, p, rec)
			body := eventBody("same")
			require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "id-1", body).request()).Code)
			// The attacker replays the signed body under a new, unsigned ID.
			w := testkit.Serve(r, sign(t, p, "id-2", body).request())
			require.Equal(t, http.StatusOK, w.Code, "replay")
			require.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "replay: want duplicate")
			shutdown(t, r)
			require.Equal(t, int64(1), rec.Total(), "handled")
		})
	}
	t.Run("content dedupe off", func(t *testing.T) {
		p := newProvider(t, "github")
		rec := testkit.NewCounter()
		r := mustNew(t, p, rec, hookguard.WithContentDedupe(false))
		body := eventBody("same")
		testkit.Serve(r, sign(t, p, "id-1", body).request())
		w := testkit.Serve(r, sign(t, p, "id-2", body).request())
		require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "content dedupe ran although disabled")
		shutdown(t, r)
		require.Equal(t, int64(2), rec.Total(), "handled")
	})
}

func TestStoreFallback(t *testing.T) {
	p := newProvider(t, "stripe")
	rec := testkit.NewCounter()
	st := testkit.NewFlakyStore()
	st.Down.Store(true)
	var fallbacks int
	var mu sync.Mutex
	r := mustNew(t, p, rec, hookguard.WithStore(st), hookguard.WithHooks(hookguard.Hooks{
		OnStoreFallback: func(err error) {
			assert.ErrorIs(t, err, testkit.ErrStoreDown, "fallback error")
			mu.Lock()
			fallbacks++
			mu.Unlock()
		},
	}))
	d := sign(t, p, "evt_fb", eventBody("evt_fb"))
	require.Equal(t, http.StatusOK, testkit.Serve(r, d.request()).Code, "want 200 through the local fallback")
	// The local store still dedupes while the shared one is down.
	w := testkit.Serve(r, d.request())
	require.Equal(t, "true", w.Header().Get(hookguard.DuplicateHeader), "second copy: status %d, not a duplicate", w.Code)
	shutdown(t, r)
	require.Equal(t, 1, rec.Times("evt_fb"), "handled")
	require.NotZero(t, fallbacks, "fallbacks")
}

func TestEndpointScopesKeys(t *testing.T) {
	p := newProvider(t, "stripe")
	st := testkit.NewFlakyStore()
	recA, recB := testkit.NewCounter(), testkit.NewCounter()
	a := mustNew(t, p, recA, hookguard.WithStore(st), hookguard.WithEndpoint("a"))
	b := mustNew(t, p, recB, hookguard.WithStore(st), hookguard.WithEndpoint("b"))
	d := sign(t, p, "evt_scope", eventBody("evt_scope"))
	for _, r := range []*hookguard.Receiver{a, b} {
		w := testkit.Serve(r, d.request())
		require.Equal(t, http.StatusOK, w.Code)
		require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "endpoints must not share IDs")
	}
	shutdown(t, a)
	shutdown(t, b)
	require.Equal(t, int64(1), recA.Total(), "each endpoint must handle its copy once")
	require.Equal(t, int64(1), recB.Total(), "each endpoint must handle its copy once")
}

func TestNewErrors(t *testing.T) {
	p := newProvider(t, "stripe")
	rec := testkit.NewCounter()
	q := testkit.NewMemoryQueue(t, rec)
	defer q.Shutdown(context.Background())
	tests := []struct {
		name string
		v    hookguard.Verifier
		h    hookguard.Handler
		opts []hookguard.Option
		want error
	}{
		{"nil verifier", nil, rec, nil, hookguard.ErrNilVerifier},
		{"nil handler", p, nil, nil, hookguard.ErrNilHandler},
		{"handler and queue", p, rec, []hookguard.Option{hookguard.WithQueue(q)}, hookguard.ErrInvalidOption},
		{"queue options with queue", p, nil, []hookguard.Option{hookguard.WithQueue(q), hookguard.WithWorkers(1)}, hookguard.ErrInvalidOption},
		{"zero body", p, rec, []hookguard.Option{hookguard.WithMaxBodySize(0)}, hookguard.ErrInvalidOption},
		{"bad proxy", p, rec, []hookguard.Option{hookguard.WithTrustedProxies("10.0.0.0/33")}, hookguard.ErrInvalidOption},
		{"bad public url", p, rec, []hookguard.Option{hookguard.WithPublicURL("hooks.example.com")}, hookguard.ErrInvalidOption},
		{"endpoint with colon", p, rec, []hookguard.Option{hookguard.WithEndpoint("a:b")}, hookguard.ErrInvalidOption},
		{"nil store", p, rec, []hookguard.Option{hookguard.WithStore(nil)}, hookguard.ErrInvalidOption},
		{"zero rate", p, rec, []hookguard.Option{hookguard.WithRateLimit(0, 1)}, hookguard.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := hookguard.New(tt.v, tt.h, tt.opts...)
			require.ErrorIs(t, err, tt.want, "New()")
			require.Nil(t, r, "New returned a Receiver with an error")
		})
	}
	r, err := hookguard.New(p, nil, hookguard.WithQueue(q))
	require.NoError(t, err, "New with WithQueue and nil handler")
	require.NoError(t, r.Shutdown(context.Background()))
}

// TestRejectedHook checks that every refusal reaches OnRejected with an
// error that matches the documented sentinels.
func TestRejectedHook(t *testing.T) {
	p := newProvider(t, "stripe")
	type rejection struct {
		provider string
		status   int
		err      error
	}
	var got []rejection
	rec := testkit.NewCounter()
	r := mustNew(t, p, rec, hookguard.WithMaxBodySize(1024), hookguard.WithHooks(hookguard.Hooks{
		OnRejected: func(provider string, status int, err error) { got = append(got, rejection{provider, status, err}) },
	}))
	defer shutdown(t, r)
	d := sign(t, p, "evt_h", eventBody("evt_h"))

	get := d.request()
	get.Method = http.MethodGet
	testkit.Serve(r, get)
	big := d.request()
	big.ContentLength = 4096
	testkit.Serve(r, big)
	bad := d.request()
	bad.Header.Set("Stripe-Signature", "t=1700000000,v1="+strings.Repeat("ab", 32))
	testkit.Serve(r, bad)

	want := []struct {
		status int
		err    error
	}{
		{405, hookguard.ErrMethodNotAllowed},
		{413, hookguard.ErrBodyTooLarge},
		{401, verify.ErrSignatureMismatch},
	}
	require.Len(t, got, len(want), "rejections")
	for i, w := range want {
		assert.Equal(t, w.status, got[i].status, "rejection %d status", i)
		assert.ErrorIs(t, got[i].err, w.err, "rejection %d", i)
	}
	assert.Equal(t, "stripe", got[2].provider, "verification rejection")
	assert.ErrorIs(t, got[2].err, hookguard.ErrVerification, "verification rejection")
}

// slowStore blocks every call until its context ends, like a store behind
// a dead network link.
type slowStore struct{ calls atomic.Int64 }

func (s *slowStore) Reserve(ctx context.Context, key, token string, ttl time.Duration) (dedupe.Status, error) {
	s.calls.Add(1)
	<-ctx.Done()
	return 0, ctx.Err()
}

func (s *slowStore) Commit(ctx context.Context, key, token string, ttl time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *slowStore) Release(ctx context.Context, key, token string) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *slowStore) Forget(ctx context.Context, key string) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestAckTimeoutBoundsSlowStore(t *testing.T) {
	tests := []struct {
		name        string
		opts        []hookguard.Option
		want        int
		wantHandled int64
	}{
		{"fallback", nil, http.StatusOK, 1},
		{"fail closed", []hookguard.Option{hookguard.WithFailClosed()}, http.StatusServiceUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newProvider(t, "stripe")
				rec := testkit.NewCounter()
				st := &slowStore{}
				r := mustNew(t, p, rec, append(tt.opts, hookguard.WithStore(st), hookguard.WithAckTimeout(2*time.Second))...)
				start := time.Now()
				w := testkit.Serve(r, sign(t, p, "evt_slow", eventBody("evt_slow")).request())
				require.Equal(t, tt.want, w.Code)
				d := time.Since(start)
				require.GreaterOrEqual(t, d, 2*time.Second, "answered after %v of fake time, want the 2s bound", d)
				require.LessOrEqual(t, d, 3*time.Second, "answered after %v of fake time, want the 2s bound", d)
				shutdown(t, r)
				require.Equal(t, tt.wantHandled, rec.Total(), "handled")
			})
		})
	}
}
