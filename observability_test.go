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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
				require.NoError(t, json.Unmarshal([]byte(line), &m), "log line %q", line)
				if m["msg"] == "hookguard: webhook" {
					records = append(records, m)
				}
			}
			require.Len(t, records, len(reqs), "request records in:\n%s", sink.String())
			for i, m := range records {
				assert.Equal(t, wantOutcomes[i], m["outcome"], "record %d outcome", i)
				for _, k := range []string{"provider", "event_id", "type", "status", "duration"} {
					assert.Contains(t, m, k, "record %d lacks %q", i, k)
				}
			}
			assert.Equal(t, "evt_log", records[0]["event_id"], "first record = %v", records[0])
			assert.Equal(t, name, records[0]["provider"], "first record = %v", records[0])
			logs := sink.String()
			secret := secretFor(name)
			for _, s := range []string{secret, strings.TrimPrefix(secret, "whsec_"), `"data":{"n":1}`, base64.StdEncoding.EncodeToString([]byte(secret))} {
				assert.NotContains(t, logs, s, "logs contain a secret or the body")
			}
			for k, vs := range d.header {
				if lk := strings.ToLower(k); strings.Contains(lk, "signature") || strings.Contains(lk, "hmac") {
					for _, v := range vs {
						for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' || r == ' ' }) {
							if len(part) >= 16 {
								assert.NotContains(t, logs, part, "logs contain signature material")
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
			// assert, not require: a worker's goroutine.
			assert.NoError(t, err, "OnHandled(%s) error", e.ID)
			assert.Equal(t, 1, attempt, "OnHandled(%s) attempt", e.ID)
			assert.GreaterOrEqual(t, d, time.Duration(0), "OnHandled(%s) duration", e.ID)
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
	require.Equal(t, want, seen, "what the hooks saw")
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
		if w.Code == http.StatusTooManyRequests {
			assert.NotEmpty(t, w.Header().Get("Retry-After"), "429 without Retry-After")
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
		assert.Equal(t, tt.want, send(tt.id, tt.remote, tt.xff), "%s from %s (XFF %q): status", tt.id, tt.remote, tt.xff)
	}
	shutdown(t, r)
	require.Equal(t, int64(3), rec.Total(), "handled")
}

// urlSigner is a real HMAC scheme over URL + body (as Twilio signs the
// URL), built on verify.HMAC, to check which URL the receiver verifies.
type urlSigner struct{ mac *verify.HMAC }

func newURLSigner(t *testing.T) urlSigner {
	s, err := verify.NewSecret("url-secret")
	require.NoError(t, err)
	h, err := verify.NewHMAC(verify.SHA256, s)
	require.NoError(t, err)
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
			w := testkit.Serve(r, req)
			require.Equal(t, tt.want, w.Code, "status (body %q)", w.Body)
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
		w := testkit.Serve(r, req)
		require.Equal(t, http.StatusOK, w.Code)
		require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "an event without an ID marked duplicate")
	}
	shutdown(t, r)
	require.Equal(t, int64(2), rec.Total(), "handled")
	require.Zero(t, st.Reserves.Load(), "store reserves")
}
