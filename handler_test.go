package hookguard_test

import (
	"bytes"
	"context"
	"errors"
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
				if w.Code != http.StatusOK {
					t.Fatalf("status = %d (%q), want 200", w.Code, w.Body)
				}
				if w.Header().Get(hookguard.DuplicateHeader) != "" {
					t.Errorf("first delivery marked duplicate")
				}
				shutdown(t, r)
				if n := rec.Times("evt_new"); n != 1 {
					t.Fatalf("handler ran %d times, want 1", n)
				}
				e := got[0]
				if e.Provider != name || e.ID != "evt_new" || !bytes.Equal(e.Body, d.body) || e.Attempt != 1 || !e.ReceivedAt.Equal(t0) {
					t.Errorf("event = %+v", e)
				}
				for k := range e.Header {
					if lk := strings.ToLower(k); strings.Contains(lk, "signature") || strings.Contains(lk, "hmac") {
						t.Errorf("event header %q leaks a signature", k)
					}
				}
			})
			t.Run("duplicate is 200 with header and not handled again", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_dup", eventBody("evt_dup"))
				if w := testkit.Serve(r, d.request()); w.Code != http.StatusOK {
					t.Fatalf("first: status %d", w.Code)
				}
				w := testkit.Serve(r, d.request())
				if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "true" {
					t.Fatalf("second: status %d, %s=%q; want 200, true", w.Code, hookguard.DuplicateHeader, w.Header().Get(hookguard.DuplicateHeader))
				}
				shutdown(t, r)
				if n := rec.Times("evt_dup"); n != 1 {
					t.Fatalf("handler ran %d times, want 1", n)
				}
			})
			t.Run("copy while first is being enqueued is 409, retry after failure passes", func(t *testing.T) {
				rec := testkit.NewCounter()
				g := &gateQueue{inner: testkit.NewMemoryQueue(t, rec), entered: make(chan string), result: make(chan error)}
				g.armed.Store(true)
				r, err := hookguard.New(p, nil, hookguard.WithQueue(g), hookguard.WithClock(clock))
				if err != nil {
					t.Fatal(err)
				}
				d := sign(t, p, "evt_pend", eventBody("evt_pend"))
				first := make(chan *httptest.ResponseRecorder)
				go func() { first <- testkit.Serve(r, d.request()) }()
				select {
				case <-g.entered: // the first copy holds the reservation
				case w := <-first:
					t.Fatalf("first copy answered %d (%q) without reaching the queue", w.Code, w.Body)
				case <-time.After(10 * time.Second):
					t.Fatal("first copy never reached the queue")
				}
				w := testkit.Serve(r, d.request())
				if w.Code != http.StatusConflict || w.Header().Get("Retry-After") == "" {
					t.Fatalf("concurrent copy: status %d, Retry-After %q; want 409 with Retry-After", w.Code, w.Header().Get("Retry-After"))
				}
				g.result <- hookguard.ErrQueueFull
				if w := <-first; w.Code != http.StatusServiceUnavailable {
					t.Fatalf("first copy: status %d, want 503", w.Code)
				}
				if w := testkit.Serve(r, d.request()); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
					t.Fatalf("retry: status %d dup=%q, want a fresh 200", w.Code, w.Header().Get(hookguard.DuplicateHeader))
				}
				shutdown(t, r)
				if err := g.inner.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
				if n := rec.Times("evt_pend"); n != 1 {
					t.Fatalf("handler ran %d times, want 1", n)
				}
			})
			t.Run("GET is 405 with Allow", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_get", eventBody("evt_get"))
				req := d.request()
				req.Method = http.MethodGet
				w := testkit.Serve(r, req)
				if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
					t.Fatalf("status %d Allow %q; want 405 POST", w.Code, w.Header().Get("Allow"))
				}
				shutdown(t, r)
				if rec.Total() != 0 {
					t.Fatal("handler ran")
				}
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
				if w := testkit.Serve(r, req); w.Code != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d, want 413", w.Code)
				}
				if cr.n != 0 {
					t.Errorf("read %d bytes of a body announced too large", cr.n)
				}
				// Unknown length: read stops at limit+1.
				cr = &countingReader{r: bytes.NewReader(big)}
				req = d.request()
				req.Body = io.NopCloser(cr)
				req.ContentLength = -1
				if w := testkit.Serve(r, req); w.Code != http.StatusRequestEntityTooLarge {
					t.Fatalf("chunked: status %d, want 413", w.Code)
				}
				if cr.n > limit+1 {
					t.Errorf("read %d bytes, limit %d", cr.n, limit)
				}
				shutdown(t, r)
				if rec.Total() != 0 {
					t.Fatal("handler ran")
				}
			})
			t.Run("missing signature is 400", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_nosig", eventBody("evt_nosig"))
				req := d.request()
				req.Header.Del(p.Info().SignatureHeader)
				w := testkit.Serve(r, req)
				if w.Code != http.StatusBadRequest {
					t.Fatalf("status %d (%q), want 400", w.Code, w.Body)
				}
				shutdown(t, r)
				if rec.Total() != 0 {
					t.Fatal("handler ran")
				}
			})
			t.Run("malformed signature is 400", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				d := sign(t, p, "evt_badsig", eventBody("evt_badsig"))
				req := d.request()
				req.Header.Set(p.Info().SignatureHeader, "%%%not-a-signature%%%")
				if w := testkit.Serve(r, req); w.Code != http.StatusBadRequest {
					t.Fatalf("status %d (%q), want 400", w.Code, w.Body)
				}
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
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("status %d (%q), want 401", w.Code, w.Body)
				}
				assertNoLeak(t, w, d)
				shutdown(t, r)
				if rec.Total() != 0 {
					t.Fatal("handler ran")
				}
			})
			if p.Info().Timestamped {
				t.Run("timestamp outside window is 401", func(t *testing.T) {
					rec := testkit.NewCounter()
					late := func() time.Time { return t0.Add(time.Hour) }
					r, err := hookguard.New(p, rec, hookguard.WithClock(late))
					if err != nil {
						t.Fatal(err)
					}
					d := sign(t, p, "evt_old", eventBody("evt_old"))
					w := testkit.Serve(r, d.request())
					if w.Code != http.StatusUnauthorized {
						t.Fatalf("status %d (%q), want 401", w.Code, w.Body)
					}
					assertNoLeak(t, w, d)
					shutdown(t, r)
				})
			}
			t.Run("rate limited is 429 with Retry-After", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec, hookguard.WithRateLimit(1, 1))
				if w := testkit.Serve(r, sign(t, p, "evt_rl1", eventBody("evt_rl1")).request()); w.Code != http.StatusOK {
					t.Fatalf("first: %d", w.Code)
				}
				w := testkit.Serve(r, sign(t, p, "evt_rl2", eventBody("evt_rl2")).request())
				if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
					t.Fatalf("second: status %d Retry-After %q; want 429, 1", w.Code, w.Header().Get("Retry-After"))
				}
				shutdown(t, r)
				if rec.Total() != 1 {
					t.Fatalf("handler ran %d times, want 1", rec.Total())
				}
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
				if w := testkit.Serve(r, sign(t, p, "evt_block", eventBody("evt_block")).request()); w.Code != http.StatusOK {
					t.Fatalf("first: %d", w.Code)
				}
				<-started
				d := sign(t, p, "evt_full", eventBody("evt_full"))
				w := testkit.Serve(r, d.request())
				if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" {
					t.Fatalf("full: status %d Retry-After %q; want 503, 5", w.Code, w.Header().Get("Retry-After"))
				}
				close(release)
				<-done // the slot is free once OnHandled of a success runs
				w = testkit.Serve(r, d.request())
				if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
					t.Fatalf("retry after room: status %d dup %q, want fresh 200", w.Code, w.Header().Get(hookguard.DuplicateHeader))
				}
				shutdown(t, r)
				if rec.Times("evt_full") != 1 {
					t.Fatalf("evt_full handled %d times, want 1", rec.Times("evt_full"))
				}
			})
			t.Run("shutting down is 503", func(t *testing.T) {
				rec := testkit.NewCounter()
				r := mustNew(t, p, rec)
				shutdown(t, r)
				w := testkit.Serve(r, sign(t, p, "evt_late", eventBody("evt_late")).request())
				if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
					t.Fatalf("status %d, want 503 with Retry-After", w.Code)
				}
			})
			t.Run("fail-closed store down is 503 and enqueues nothing", func(t *testing.T) {
				rec := testkit.NewCounter()
				st := testkit.NewFlakyStore()
				st.Down.Store(true)
				r := mustNew(t, p, rec, hookguard.WithStore(st), hookguard.WithFailClosed())
				d := sign(t, p, "evt_fc", eventBody("evt_fc"))
				if w := testkit.Serve(r, d.request()); w.Code != http.StatusServiceUnavailable {
					t.Fatalf("status %d, want 503", w.Code)
				}
				st.Down.Store(false)
				if w := testkit.Serve(r, d.request()); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
					t.Fatalf("after recovery: status %d, want fresh 200", w.Code)
				}
				shutdown(t, r)
				if rec.Times("evt_fc") != 1 {
					t.Fatalf("handled %d times, want 1", rec.Times("evt_fc"))
				}
			})
		})
	}
}

func mustNew(t testing.TB, v hookguard.Verifier, h hookguard.Handler, opts ...hookguard.Option) *hookguard.Receiver {
	t.Helper()
	r, err := hookguard.New(v, h, append([]hookguard.Option{hookguard.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
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
				if len(part) >= 16 && strings.Contains(answer, part) {
					t.Errorf("answer %q echoes signature material %q", answer, part)
				}
			}
		}
	}
	if strings.Contains(answer, string(d.body)) {
		t.Errorf("answer echoes the body")
	}
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
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") {
		t.Fatalf("status %d body %q; want 200 echoing the challenge", w.Code, w.Body)
	}
	// A forged handshake is not answered.
	req := d.request()
	req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	if w := testkit.Serve(r, req); w.Code != http.StatusUnauthorized {
		t.Fatalf("forged handshake: status %d, want 401", w.Code)
	}
	shutdown(t, r)
	if rec.Total() != 0 || st.Reserves.Load() != 0 {
		t.Fatalf("handshake handled %d times, %d store reserves; want none", rec.Total(), st.Reserves.Load())
	}
	if len(handshakes) != 1 || handshakes[0] != "slack" {
		t.Fatalf("OnHandshake calls = %v", handshakes)
	}
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
		if w := testkit.Serve(mux, req); w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", name, w.Code)
		}
		get := httptest.NewRequest(http.MethodGet, "/webhooks/"+name, nil)
		if w := testkit.Serve(mux, get); w.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%s GET: status %d, want 405", name, w.Code)
		}
	}
	// A GitHub delivery sent to the Stripe route does not verify.
	d := sign(t, newProvider(t, "github"), "evt_x", eventBody("evt_x"))
	req := d.request()
	req.URL.Path = "/webhooks/stripe"
	if w := testkit.Serve(mux, req); w.Code != http.StatusBadRequest {
		t.Fatalf("cross-provider: status %d, want 400", w.Code)
	}
	for _, r := range rs {
		shutdown(t, r)
	}
	for name, rec := range recs {
		if rec.Times("evt_mux") != 1 {
			t.Errorf("%s handled %d times", name, rec.Times("evt_mux"))
		}
	}
}

func TestReplayUnderFreshIDIsDuplicate(t *testing.T) {
	for _, name := range []string{"github", "shopify"} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			rec := testkit.NewCounter()
			r := mustNew(t, p, rec)
			body := eventBody("same")
			if w := testkit.Serve(r, sign(t, p, "id-1", body).request()); w.Code != http.StatusOK {
				t.Fatal(w.Code)
			}
			// The attacker replays the signed body under a new, unsigned ID.
			w := testkit.Serve(r, sign(t, p, "id-2", body).request())
			if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "true" {
				t.Fatalf("replay: status %d dup %q; want duplicate", w.Code, w.Header().Get(hookguard.DuplicateHeader))
			}
			shutdown(t, r)
			if rec.Total() != 1 {
				t.Fatalf("handled %d times, want 1", rec.Total())
			}
		})
	}
	t.Run("content dedupe off", func(t *testing.T) {
		p := newProvider(t, "github")
		rec := testkit.NewCounter()
		r := mustNew(t, p, rec, hookguard.WithContentDedupe(false))
		body := eventBody("same")
		testkit.Serve(r, sign(t, p, "id-1", body).request())
		if w := testkit.Serve(r, sign(t, p, "id-2", body).request()); w.Header().Get(hookguard.DuplicateHeader) != "" {
			t.Fatal("content dedupe ran although disabled")
		}
		shutdown(t, r)
		if rec.Total() != 2 {
			t.Fatalf("handled %d times, want 2", rec.Total())
		}
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
			if !errors.Is(err, testkit.ErrStoreDown) {
				t.Errorf("fallback error %v", err)
			}
			mu.Lock()
			fallbacks++
			mu.Unlock()
		},
	}))
	d := sign(t, p, "evt_fb", eventBody("evt_fb"))
	if w := testkit.Serve(r, d.request()); w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 through the local fallback", w.Code)
	}
	// The local store still dedupes while the shared one is down.
	if w := testkit.Serve(r, d.request()); w.Header().Get(hookguard.DuplicateHeader) != "true" {
		t.Fatalf("second copy: status %d, not a duplicate", w.Code)
	}
	shutdown(t, r)
	if rec.Times("evt_fb") != 1 || fallbacks == 0 {
		t.Fatalf("handled %d times, %d fallbacks", rec.Times("evt_fb"), fallbacks)
	}
}

func TestEndpointScopesKeys(t *testing.T) {
	p := newProvider(t, "stripe")
	st := testkit.NewFlakyStore()
	recA, recB := testkit.NewCounter(), testkit.NewCounter()
	a := mustNew(t, p, recA, hookguard.WithStore(st), hookguard.WithEndpoint("a"))
	b := mustNew(t, p, recB, hookguard.WithStore(st), hookguard.WithEndpoint("b"))
	d := sign(t, p, "evt_scope", eventBody("evt_scope"))
	for _, r := range []*hookguard.Receiver{a, b} {
		if w := testkit.Serve(r, d.request()); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
			t.Fatalf("status %d dup %q; endpoints must not share IDs", w.Code, w.Header().Get(hookguard.DuplicateHeader))
		}
	}
	shutdown(t, a)
	shutdown(t, b)
	if recA.Total() != 1 || recB.Total() != 1 {
		t.Fatal("each endpoint must handle its copy once")
	}
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
			if !errors.Is(err, tt.want) {
				t.Fatalf("New() error = %v, want %v", err, tt.want)
			}
			if r != nil {
				t.Fatal("New returned a Receiver with an error")
			}
		})
	}
	r, err := hookguard.New(p, nil, hookguard.WithQueue(q))
	if err != nil {
		t.Fatalf("New with WithQueue and nil handler: %v", err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
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
	if len(got) != len(want) {
		t.Fatalf("got %d rejections, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].status != w.status || !errors.Is(got[i].err, w.err) {
			t.Errorf("rejection %d = %d %v, want %d %v", i, got[i].status, got[i].err, w.status, w.err)
		}
	}
	if got[2].provider != "stripe" || !errors.Is(got[2].err, hookguard.ErrVerification) {
		t.Errorf("verification rejection = %+v", got[2])
	}
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
				if w.Code != tt.want {
					t.Fatalf("status %d, want %d", w.Code, tt.want)
				}
				if d := time.Since(start); d < 2*time.Second || d > 3*time.Second {
					t.Fatalf("answered after %v of fake time, want the 2s bound", d)
				}
				shutdown(t, r)
				if rec.Total() != tt.wantHandled {
					t.Fatalf("handled %d times, want %d", rec.Total(), tt.wantHandled)
				}
			})
		})
	}
}
