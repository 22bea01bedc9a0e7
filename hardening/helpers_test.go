package hardening

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// t0 is the fixed time tests sign at, and the receivers' clock where a
// test pins it.
var t0 = time.Unix(1700000000, 0)

func fixedClock() time.Time { return t0 }

// preset is one provider preset with the secret it was built from.
type preset struct {
	name   string
	secret string
	p      providers.Provider
}

// allPresets returns every preset of package providers with a fresh
// secret, so that tests sweep presets added later too.
func allPresets(t testing.TB, opts ...providers.Option) []preset {
	t.Helper()
	var out []preset
	for _, name := range providers.Names() {
		secret, err := testsecret.For(name)
		if err != nil {
			t.Fatalf("TestSecret(%q): %v", name, err)
		}
		p, err := providers.New(name, secret, opts...)
		if err != nil {
			t.Fatalf("providers.New(%q): %v", name, err)
		}
		out = append(out, preset{name: name, secret: secret, p: p})
	}
	if len(out) < 6 {
		t.Fatalf("providers.Names() = %d presets, want at least the six documented ones", len(out))
	}
	return out
}

// eventBody is a JSON body from which every preset reads id as the event
// ID: Stripe "id", Slack "event_id"; the others take the ID from a header.
func eventBody(id string, pad int) []byte {
	return fmt.Appendf(nil, `{"id":%q,"event_id":%q,"type":"event_callback","event":{"type":"message"},"pad":%q}`,
		id, id, bytes.Repeat([]byte{'x'}, pad))
}

// signed is one signed request, re-sendable as often as needed.
type signed struct {
	id     string
	body   []byte
	header http.Header
}

// hookURL is the URL every request is signed for and sent to by
// httptest.NewRequest (schemes such as Twilio's sign it).
const hookURL = "https://example.com/hook"

func sign(t testing.TB, p providers.Provider, id string, body []byte, at time.Time) signed {
	t.Helper()
	return signCT(t, p, id, body, at, "")
}

// contentTypeFor is the content type of the bodies tests send to a preset.
func contentTypeFor(name string) string {
	if name == "twilio" {
		return "application/x-www-form-urlencoded"
	}
	return ""
}

func signCT(t testing.TB, p providers.Provider, id string, body []byte, at time.Time, ct string) signed {
	t.Helper()
	h, err := p.Sign(providers.Outgoing{Body: body, ID: id, Type: "push", Timestamp: at, URL: hookURL, ContentType: ct})
	if err != nil {
		t.Fatalf("%s.Sign: %v", p.Name(), err)
	}
	return signed{id: id, body: body, header: h}
}

// request builds an httptest request of s, as if it arrived over TLS:
// shared-token presets (GitLab, Postmark, Okta) refuse plain HTTP from a
// non-loopback peer before verifying, and these tests are about what
// happens after that check (the root package tests the check itself).
func (s signed) request() *http.Request {
	r := testkit.NewPost("/hook", s.body, s.header)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	return r
}

// post sends s to url over a real connection.
func (s signed) post(t testing.TB, c *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range s.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

// newReceiver builds a Receiver and shuts it down when the test ends.
func newReceiver(t testing.TB, v hookguard.Verifier, h hookguard.Handler, opts ...hookguard.Option) *hookguard.Receiver {
	t.Helper()
	r, err := hookguard.New(v, h, opts...)
	if err != nil {
		t.Fatalf("hookguard.New: %v", err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	return r
}

// shutdown drains a receiver, failing the test if it cannot.
func shutdown(t testing.TB, r *hookguard.Receiver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// logBuffer collects everything a slog.Logger writes, at debug level, as
// text and as JSON, so that tests can scan it for secrets.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logger returns a logger that writes every record, at any level, to l
// in both the text and the JSON format.
func (l *logBuffer) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}
	return slog.New(multiHandler{slog.NewTextHandler(l, opts), slog.NewJSONHandler(l, opts)})
}

type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	for _, h := range m {
		if h.Enabled(ctx, lv) {
			return true
		}
	}
	return false
}

func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}

func (m multiHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (m multiHandler) WithGroup(name string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(name)
	}
	return out
}

// httptestServer serves h on loopback with the recommended server settings
// until the test ends, and returns the URL to post to.
func httptestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	rs := recommendedServer(h)
	srv.Config = rs
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/hook"
}
