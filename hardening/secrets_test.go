package hardening

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"golang.org/x/time/rate"
)

// haystack collects everything a receiver let out of the process: log
// records, responses (status line, headers, body), errors handed to hooks,
// and the headers handlers and hooks see.
type haystack struct {
	logs logBuffer
	mu   sync.Mutex
	out  []string
}

func (h *haystack) add(where, s string) {
	h.mu.Lock()
	h.out = append(h.out, where+": "+s)
	h.mu.Unlock()
}

func (h *haystack) addResponse(w *httptest.ResponseRecorder) {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ", w.Code)
	for k, vs := range w.Header() {
		fmt.Fprintf(&b, "%s=%s ", k, strings.Join(vs, ","))
	}
	b.WriteString(w.Body.String())
	h.add("response", b.String())
}

func (h *haystack) hooks() hookguard.Hooks {
	ev := func(where string) func(e hookguard.Event) {
		return func(e hookguard.Event) { h.add(where+" event header", fmt.Sprint(e.Header)) }
	}
	return hookguard.Hooks{
		OnAccepted:  ev("OnAccepted"),
		OnDuplicate: ev("OnDuplicate"),
		OnRejected: func(provider string, status int, err error) {
			h.add("OnRejected", fmt.Sprintf("%s %d %v %+v", provider, status, err, err))
		},
		OnHandled: func(e hookguard.Event, attempt int, err error, d time.Duration) {
			h.add("OnHandled", fmt.Sprintf("%v %v", e.Header, err))
		},
		OnDeadLetter:    func(e hookguard.Event, err error) { h.add("OnDeadLetter", fmt.Sprintf("%v %v", e.Header, err)) },
		OnStoreFallback: func(err error) { h.add("OnStoreFallback", fmt.Sprint(err)) },
	}
}

// find returns where needle occurs, if anywhere.
func (h *haystack) find(needle string) string {
	if logs := h.logs.String(); strings.Contains(logs, needle) {
		i := strings.Index(logs, needle)
		return "log: " + logs[max(0, i-80):min(len(logs), i+len(needle)+20)]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.out {
		if strings.Contains(s, needle) {
			return s
		}
	}
	return ""
}

// secretForms returns the secret as configured and its key bytes in hex,
// base64 and base64url, padded or not ("whsec_" secrets are base64 of
// the key).
func secretForms(secret string) []string {
	keys := [][]byte{[]byte(secret)}
	for _, pfx := range []string{"whsec_", "whsk_", "whpk_"} {
		if rest, ok := strings.CutPrefix(secret, pfx); ok {
			if k, err := base64.StdEncoding.DecodeString(rest); err == nil {
				keys = append(keys, k)
			}
			keys = append(keys, []byte(rest))
		}
	}
	var out []string
	for _, k := range keys {
		out = append(out, string(k), hex.EncodeToString(k),
			base64.StdEncoding.EncodeToString(k), base64.RawStdEncoding.EncodeToString(k),
			base64.URLEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k))
	}
	// Drop forms too short to be told apart from ordinary text.
	var long []string
	for _, s := range out {
		if len(s) >= 12 {
			long = append(long, s)
		}
	}
	return long
}

var sigToken = regexp.MustCompile(`[A-Za-z0-9+/_-]{16,}={0,2}`)

// signatureNeedles returns the MAC values in a signature header value:
// every run of 16 or more base64/hex characters.
func signatureNeedles(v string) []string {
	var out []string
	for _, m := range sigToken.FindAllString(v, -1) {
		out = append(out, m, strings.TrimRight(m, "="))
	}
	return out
}

// TestNoSecretOrSignatureLeaks is plan test 30 (c) and catalogue entries
// A6 and A18: across every preset and every rejection path (missing,
// malformed, truncated and wrong signatures, wrong secret, stale and
// future timestamps, oversized body, wrong method, duplicate, in-flight
// copy, full queue, failed store, rate limit, middleware), no configured
// secret (raw, hex, base64, base64url) and no expected signature the
// verifier computed appears in any log record (debug level, text and
// JSON), response status, header or body, hook error, or in the headers
// handed to handlers and hooks; and no body appears in a log record.
func TestNoSecretOrSignatureLeaks(t *testing.T) {
	var pathsMu sync.Mutex
	paths := map[string]int{}
	for _, ps := range allPresets(t) {
		t.Run(ps.name, func(t *testing.T) {
			hs := &haystack{}
			var needles []string
			needles = append(needles, secretForms(ps.secret)...)
			header := ps.p.Info().SignatureHeader
			marker := "BODYMARKER" + strings.Repeat("q", 8) + ps.name
			body := func(id string) []byte {
				if ps.name == "twilio" {
					// Twilio signs the URL and the sorted form fields.
					return fmt.Appendf(nil, "MessageSid=%s&Body=%s", id, marker)
				}
				return fmt.Appendf(nil, `{"id":%q,"event_id":%q,"type":"x","m":%q}`, id, id, marker)
			}
			sign := func(t testing.TB, p providers.Provider, id string, b []byte, at time.Time) signed {
				t.Helper()
				return signCT(t, p, id, b, at, contentTypeFor(ps.name))
			}
			// expect records the signature the verifier computes for a
			// delivery of id and body at ts: what an oracle would leak.
			expect := func(id string, b []byte, ts time.Time) {
				h, err := ps.p.Sign(providers.Outgoing{Body: b, ID: id, Type: "push", Timestamp: ts, URL: hookURL, ContentType: contentTypeFor(ps.name)})
				if err != nil {
					t.Fatal(err)
				}
				for k, vs := range h {
					if strings.EqualFold(k, header) || strings.Contains(strings.ToLower(k), "signature") || strings.EqualFold(k, "Authorization") {
						for _, v := range vs {
							needles = append(needles, signatureNeedles(v)...)
						}
					}
				}
			}
			logger := hs.logs.logger()
			gate := make(chan struct{})
			var gateOnce sync.Once
			openGate := func() { gateOnce.Do(func() { close(gate) }) }
			defer openGate()
			blocking := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
				select {
				case <-gate:
				case <-ctx.Done():
				}
				return nil
			})
			base := []hookguard.Option{hookguard.WithLogger(logger), hookguard.WithHooks(hs.hooks()), hookguard.WithClock(fixedClock), hookguard.WithMaxBodySize(64 << 10)}
			with := func(extra ...hookguard.Option) []hookguard.Option {
				return append(append([]hookguard.Option{}, base...), extra...)
			}

			main := newReceiver(t, ps.p, testkit.NewCounter(), base...)
			send := func(path string, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
				w := testkit.Serve(h, r)
				hs.addResponse(w)
				pathsMu.Lock()
				paths[path]++
				pathsMu.Unlock()
				return w
			}
			resend := func(path string, h http.Handler, s signed) *httptest.ResponseRecorder {
				return send(path, h, s.request())
			}

			// Accepted and duplicate.
			ok := sign(t, ps.p, "evt_ok", body("evt_ok"), t0)
			expect("evt_ok", ok.body, t0)
			verifies := resend("accepted", main, ok).Code == http.StatusOK
			deduped := resend("duplicate", main, ok).Header().Get(hookguard.DuplicateHeader) == "true"
			if !verifies {
				// Presets whose signed content needs fields of their
				// own (Linear, Mailgun): the rejection paths still run.
				t.Logf("%s does not verify a generic body; sweeping its rejection paths only", ps.name)
			}

			// Signature header missing, malformed, truncated, one char
			// more, upper-cased.
			v := ok.header.Get(header)
			for i, bad := range []string{"", "garbage", "v1,", "sha256=", "t=1,v1=00", v[:len(v)/2], v + "0", strings.ToUpper(v)} {
				s := signed{body: ok.body, header: ok.header.Clone()}
				if bad == "" {
					s.header.Del(header)
				} else {
					s.header.Set(header, bad)
				}
				resend(fmt.Sprintf("bad signature %d", i), main, s)
			}
			// Tampered body: the verifier computes the MAC of the new
			// body, which must not come back.
			tampered := signed{body: body("evt_tamper"), header: ok.header.Clone()}
			expect("evt_ok", tampered.body, t0)
			expect("evt_tamper", tampered.body, t0)
			resend("tampered body", main, tampered)
			// Signed with another secret.
			otherSecret, _ := testsecret.For(ps.name)
			other, err := providers.New(ps.name, otherSecret)
			if err != nil {
				t.Fatal(err)
			}
			wrong := sign(t, other, "evt_wrong", body("evt_wrong"), t0)
			expect("evt_wrong", wrong.body, t0)
			resend("wrong secret", main, wrong)
			// Stale and future timestamps.
			for _, off := range []time.Duration{-time.Hour, time.Hour} {
				id := fmt.Sprintf("evt_ts%d", off/time.Second)
				s := sign(t, ps.p, id, body(id), t0.Add(off))
				expect(id, s.body, t0.Add(off))
				resend("stale or future timestamp", main, s)
			}
			// Oversized body, wrong method.
			huge := sign(t, ps.p, "evt_huge", append(body("evt_huge"), make([]byte, 65<<10)...), t0)
			expect("evt_huge", huge.body, t0)
			resend("body too large", main, huge)
			for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
				r := ok.request()
				r.Method = m
				send("method", main, r)
			}

			// Full queue: capacity 1, one worker held by the gate.
			qfull := newReceiver(t, ps.p, blocking, with(hookguard.WithCapacity(1), hookguard.WithWorkers(1))...)
			for i := range 3 {
				id := fmt.Sprintf("evt_q%d", i)
				s := sign(t, ps.p, id, body(id), t0)
				expect(id, s.body, t0)
				resend("queue full", qfull, s)
			}
			// Failed store, fail-closed.
			down := &failingStore{}
			closed := newReceiver(t, ps.p, testkit.NewCounter(), with(hookguard.WithStore(down), hookguard.WithFailClosed())...)
			resend("store down", closed, ok)
			// Failed store, fail-open.
			open := newReceiver(t, ps.p, testkit.NewCounter(), with(hookguard.WithStore(down))...)
			resend("store fallback", open, ok)
			// Rate limit.
			limited := newReceiver(t, ps.p, testkit.NewCounter(), with(hookguard.WithRateLimit(rate.Every(time.Hour), 1))...)
			resend("rate limit", limited, ok)
			resend("rate limit", limited, ok)
			// In-flight copy: the first enqueue waits on the gate.
			if verifies && deduped {
				// (Presets whose deliveries carry no event ID, such as
				// HubSpot's and SendGrid's batches, are not deduped.)
				inFlight(t, ps, ok, with, resend)
			}
			// Middleware.
			mw := testkit.Middleware(t, ps.p, base...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				e, _ := hookguard.FromContext(r.Context())
				hs.add("middleware next header", fmt.Sprint(r.Header.Get(header) == "", e.Header))
			}))
			resend("middleware accepted", mw, ok)
			resend("middleware tampered", mw, tampered)
			resend("middleware wrong secret", mw, wrong)
			openGate()
			if len(needles) < 5 {
				t.Fatalf("only %d needles: the sweep would find nothing", len(needles))
			}
			// The scan can fail: the needles do occur in what was sent.
			// (Only for HMAC schemes that sign into a header: an
			// asymmetric signature is randomised and public, and there
			// is no expected value to leak.)
			if strings.Contains(ps.p.Info().Algorithm, "HMAC") && !strings.HasPrefix(header, "body") && !strings.Contains(fmt.Sprint(ok.header), needles[len(needles)-1]) && !strings.Contains(fmt.Sprint(huge.header), needles[len(needles)-1]) {
				found := false
				for _, n := range needles {
					if strings.Contains(fmt.Sprint(ok.header, wrong.header, huge.header, tampered.header), n) {
						found = true
						break
					}
				}
				if !found {
					t.Fatalf("%s: no needle occurs in the requests sent: the needles are wrong", ps.name)
				}
			}
			for _, n := range needles {
				if where := hs.find(n); where != "" {
					t.Errorf("secret or computed signature %.12q... leaked in %s", n, where)
				}
			}
			if where := hs.find(marker); where != "" && strings.HasPrefix(where, "log") {
				t.Errorf("a request body was logged: %s", where)
			}
		})
	}
	t.Logf("requests per path over all presets: %v", paths)
}

// inFlight sends ok twice to a receiver whose first enqueue waits: the
// second copy meets the reservation of the first (409), then the first
// fails with an error that names a backend (503, generic text).
func inFlight(t *testing.T, ps preset, ok signed, with func(...hookguard.Option) []hookguard.Option,
	resend func(string, http.Handler, signed) *httptest.ResponseRecorder) {
	t.Helper()
	gq := &gatedQueue{inner: testkit.NewMemoryQueue(t, testkit.NewCounter()), entered: make(chan struct{}), release: make(chan error, 1)}
	t.Cleanup(func() { _ = gq.inner.Shutdown(context.Background()) })
	pending := newReceiver(t, ps.p, nil, with(hookguard.WithQueue(gq))...)
	done := make(chan int, 1)
	go func() { done <- resend("in flight (first)", pending, ok).Code }()
	select {
	case <-gq.entered:
	case code := <-done:
		t.Fatalf("first copy answered %d before reaching the queue", code)
	case <-time.After(10 * time.Second):
		t.Fatal("first copy never reached the queue")
	}
	if w := resend("in flight copy", pending, ok); w.Code != http.StatusConflict {
		t.Errorf("%s: copy while the first is in flight: status %d, want 409", ps.name, w.Code)
	}
	gq.release <- fmt.Errorf("queue backend redis://admin:hunter2@10.0.0.7 says: %s", "unavailable")
	if code := <-done; code != http.StatusServiceUnavailable {
		t.Errorf("first copy after its enqueue failed: status %d, want 503", code)
	}
}

// failingStore is a dedupe.Store that is down.
type failingStore struct{}

func (*failingStore) Reserve(context.Context, string, string, time.Duration) (dedupe.Status, error) {
	return 0, errStoreDown
}
func (*failingStore) Commit(context.Context, string, string, time.Duration) error {
	return errStoreDown
}
func (*failingStore) Release(context.Context, string, string) error { return errStoreDown }
func (*failingStore) Forget(context.Context, string) error          { return errStoreDown }

var errStoreDown = fmt.Errorf("store: dial tcp 127.0.0.1:6379: connection refused")

// gatedQueue wraps a MemoryQueue: the first Enqueue announces itself on
// entered and returns what release sends (nil: enqueue for real).
type gatedQueue struct {
	inner   *hookguard.MemoryQueue
	once    sync.Once
	entered chan struct{}
	release chan error
}

func (g *gatedQueue) Enqueue(ctx context.Context, e hookguard.Event) error {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		if err := <-g.release; err != nil {
			return err
		}
	}
	return g.inner.Enqueue(ctx, e)
}
