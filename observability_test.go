package hookguard_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/verify"
)

// syncBuffer is a log sink safe for the queue's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogOneRecordPerRequestWithoutSecrets logs at debug level through
// every outcome and checks that each request left exactly one record with
// the documented fields, and that no secret, signature or body was logged.
func TestLogOneRecordPerRequestWithoutSecrets(t *testing.T) {
	for _, name := range pipelinePresets {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			var sink syncBuffer
			logger := slog.New(slog.NewJSONHandler(&sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
			rec := testkit.NewCounter()
			r := mustNew(t, p, rec, hookguard.WithLogger(logger), hookguard.WithMaxBodySize(4096))
			d := sign(t, p, "evt_log", eventBody("evt_log"))
			forged := d.request()
			forged.Body = io.NopCloser(strings.NewReader(string(eventBody("evt_lof"))))
			get := d.request()
			get.Method = http.MethodGet
			reqs := []*http.Request{d.request(), d.request(), forged, get}
			wantOutcomes := []string{"accepted", "duplicate", "rejected", "rejected"}
			for _, req := range reqs {
				testkit.Serve(r, req)
			}
			shutdown(t, r)
			var records []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(sink.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if m["msg"] == "hookguard: webhook" {
					records = append(records, m)
				}
			}
			if len(records) != len(reqs) {
				t.Fatalf("%d request records, want %d:\n%s", len(records), len(reqs), sink.String())
			}
			for i, m := range records {
				if m["outcome"] != wantOutcomes[i] {
					t.Errorf("record %d outcome = %v, want %s", i, m["outcome"], wantOutcomes[i])
				}
				for _, k := range []string{"provider", "event_id", "type", "status", "duration"} {
					if _, ok := m[k]; !ok {
						t.Errorf("record %d lacks %q", i, k)
					}
				}
			}
			if records[0]["event_id"] != "evt_log" || records[0]["provider"] != name {
				t.Errorf("first record = %v", records[0])
			}
			logs := sink.String()
			secret := secretFor(name)
			for _, s := range []string{secret, strings.TrimPrefix(secret, "whsec_"), `"data":{"n":1}`, base64.StdEncoding.EncodeToString([]byte(secret))} {
				if strings.Contains(logs, s) {
					t.Errorf("logs contain %q", s)
				}
			}
			for k, vs := range d.header {
				if lk := strings.ToLower(k); strings.Contains(lk, "signature") || strings.Contains(lk, "hmac") {
					for _, v := range vs {
						for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' || r == ' ' }) {
							if len(part) >= 16 && strings.Contains(logs, part) {
								t.Errorf("logs contain signature material %q", part)
							}
						}
					}
				}
			}
		})
	}
}

func TestHooksSeeEveryOutcome(t *testing.T) {
	p := newProvider(t, "stripe")
	var mu sync.Mutex
	var seen []string
	note := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	handled := make(chan struct{})
	rec := testkit.NewCounter()
	r := mustNew(t, p, rec, hookguard.WithHooks(hookguard.Hooks{
		OnAccepted:  func(e hookguard.Event) { note("accepted " + e.ID) },
		OnDuplicate: func(e hookguard.Event) { note("duplicate " + e.ID) },
		OnRejected:  func(provider string, status int, err error) { note("rejected " + http.StatusText(status)) },
		OnHandled: func(e hookguard.Event, attempt int, err error, d time.Duration) {
			if err != nil || attempt != 1 || d < 0 {
				t.Errorf("OnHandled(%s, %d, %v, %v)", e.ID, attempt, err, d)
			}
			close(handled)
		},
	}))
	d := sign(t, p, "evt_hooks", eventBody("evt_hooks"))
	testkit.Serve(r, d.request())
	<-handled
	testkit.Serve(r, d.request())
	bad := d.request()
	bad.Header.Del("Stripe-Signature")
	testkit.Serve(r, bad)
	shutdown(t, r)
	want := []string{"accepted evt_hooks", "duplicate evt_hooks", "rejected Bad Request"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("hooks saw %q, want %q", seen, want)
	}
}

func TestPerIPRateLimitBehindProxy(t *testing.T) {
	p := newProvider(t, "stripe")
	rec := testkit.NewCounter()
	r := mustNew(t, p, rec, hookguard.WithPerIPRateLimit(1, 1), hookguard.WithTrustedProxies("10.0.0.0/8"))
	send := func(id, remote, xff string) int {
		req := sign(t, p, id, eventBody(id)).request()
		req.RemoteAddr = remote
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		w := testkit.Serve(r, req)
		if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		return w.Code
	}
	tests := []struct {
		id, remote, xff string
		want            int
	}{
		{"a1", "10.0.0.1:1", "198.51.100.1", 200},
		{"a2", "10.0.0.2:1", "198.51.100.1", 429},              // same client through another proxy
		{"a3", "10.0.0.1:1", "203.0.113.5, 198.51.100.1", 429}, // a spoofed left entry does not help
		{"b1", "10.0.0.1:1", "198.51.100.2", 200},              // another client
		{"c1", "203.0.113.9:1", "198.51.100.3", 200},           // direct client: its own address
		{"c2", "203.0.113.9:2", "198.51.100.4", 429},           // XFF from an untrusted peer is ignored
	}
	for _, tt := range tests {
		if got := send(tt.id, tt.remote, tt.xff); got != tt.want {
			t.Errorf("%s from %s (XFF %q): status %d, want %d", tt.id, tt.remote, tt.xff, got, tt.want)
		}
	}
	shutdown(t, r)
	if rec.Total() != 3 {
		t.Fatalf("handled %d, want 3", rec.Total())
	}
}

// urlSigner is a real HMAC scheme over URL + body (as Twilio signs the
// URL), built on verify.HMAC, to check which URL the receiver verifies.
type urlSigner struct{ mac *verify.HMAC }

func newURLSigner(t *testing.T) urlSigner {
	s, err := verify.NewSecret("url-secret")
	if err != nil {
		t.Fatal(err)
	}
	h, err := verify.NewHMAC(verify.SHA256, s)
	if err != nil {
		t.Fatal(err)
	}
	return urlSigner{h}
}

func (u urlSigner) sign(url string, body []byte) string {
	m := verify.Message{Prefix: [4]string{url}, Body: body}
	return base64.StdEncoding.EncodeToString(u.mac.AppendSum(nil, 0, &m))
}

func (u urlSigner) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	var sigs verify.Signatures
	if !sigs.Add(verify.Base64, req.Header.Get("X-Url-Signature")) {
		return verify.Delivery{}, verify.Fail("urlsig", verify.ErrMissingSignature, "missing X-Url-Signature")
	}
	m := verify.Message{Prefix: [4]string{req.URL}, Body: req.Body}
	if _, err := u.mac.Match(&m, &sigs, nil); err != nil {
		return verify.Delivery{}, verify.Fail("urlsig", err, "X-Url-Signature does not match")
	}
	return verify.Delivery{Provider: "urlsig", ID: req.Header.Get("X-Id")}, nil
}

func TestPublicURL(t *testing.T) {
	u := newURLSigner(t)
	body := []byte(`{"x":1}`)
	tests := []struct {
		name     string
		opts     []hookguard.Option
		signedAt string
		want     int
	}{
		{"default https + Host + path and query", nil, "https://example.com/hooks/in?tenant=7", 200},
		{"default rejects http", nil, "http://example.com/hooks/in?tenant=7", 401},
		{"public URL behind a proxy", []hookguard.Option{hookguard.WithPublicURL("https://hooks.example.org/")}, "https://hooks.example.org/hooks/in?tenant=7", 200},
		{"public URL set, internal host signed", []hookguard.Option{hookguard.WithPublicURL("https://hooks.example.org")}, "https://example.com/hooks/in?tenant=7", 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testkit.NewCounter()
			r := mustNew(t, u, rec, tt.opts...)
			req := delivery{body: body, header: http.Header{
				"X-Url-Signature": {u.sign(tt.signedAt, body)},
				"X-Id":            {string(rune('a' + i))},
			}}.request()
			req.URL.Path, req.URL.RawQuery, req.RequestURI = "/hooks/in", "tenant=7", "/hooks/in?tenant=7"
			req.Host = "example.com"
			if w := testkit.Serve(r, req); w.Code != tt.want {
				t.Fatalf("status %d (%q), want %d", w.Code, w.Body, tt.want)
			}
			shutdown(t, r)
		})
	}
}

func TestEventWithoutIDIsNotDeduped(t *testing.T) {
	u := newURLSigner(t)
	rec := testkit.NewCounter()
	st := testkit.NewFlakyStore()
	r := mustNew(t, u, rec, hookguard.WithStore(st))
	body := []byte(`{"no":"id"}`)
	for range 2 {
		req := delivery{body: body, header: http.Header{"X-Url-Signature": {u.sign("https://example.com/hooks", body)}}}.request()
		req.URL.Path, req.RequestURI, req.Host = "/hooks", "/hooks", "example.com"
		if w := testkit.Serve(r, req); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
			t.Fatalf("status %d", w.Code)
		}
	}
	shutdown(t, r)
	if rec.Total() != 2 || st.Reserves.Load() != 0 {
		t.Fatalf("handled %d, reserves %d; want 2, 0", rec.Total(), st.Reserves.Load())
	}
}
