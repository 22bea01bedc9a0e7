package hookguard_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// Handshakes of the presets, end to end: a real HTTP server runs a
// Receiver (or the Middleware), the provider's handshake request goes over
// the wire, and the test checks the answer and that nothing reached the
// handler.

// hsServer serves a Receiver for p on an httptest server whose URL is also
// the receiver's public URL, and counts handled events.
type hsServer struct {
	srv     *httptest.Server
	r       *hookguard.Receiver
	handled atomic.Int64
	down    bool
}

func newHSServer(t *testing.T, p providers.Provider) *hsServer {
	t.Helper()
	s := &hsServer{}
	s.srv = httptest.NewUnstartedServer(nil)
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	r, err := hookguard.New(p, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		s.handled.Add(1)
		return nil
	}), hookguard.WithClock(clock), hookguard.WithPublicURL(s.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	s.srv.Config.Handler = r
	s.r = r
	t.Cleanup(func() {
		if !s.down {
			shutdown(t, r)
		}
	})
	return s
}

type hsAnswer struct {
	status  int
	ctype   string
	nosniff string
	allow   string
	body    string
}

func (s *hsServer) do(t *testing.T, method, path string, h http.Header, body []byte) hsAnswer {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	return hsAnswer{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), nosniff: res.Header.Get("X-Content-Type-Options"), allow: res.Header.Get("Allow"), body: string(b)}
}

func hsProvider(t *testing.T, name string, opts ...providers.Option) providers.Provider {
	t.Helper()
	secret, err := testsecret.For(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.New(name, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func hsSign(t *testing.T, p providers.Provider, body, url string) http.Header {
	t.Helper()
	h, err := p.Sign(providers.Outgoing{Body: []byte(body), Timestamp: t0, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandshakeDiscordPing(t *testing.T) {
	p := hsProvider(t, "discord")
	s := newHSServer(t, p)
	ping := `{"application_id":"1170000000000000000","id":"1180000000000000003","token":"tok","type":1,"version":1}`
	a := s.do(t, http.MethodPost, "/discord", hsSign(t, p, ping, ""), []byte(ping))
	if a.status != http.StatusOK || a.body != `{"type":1}` || a.ctype != "application/json" {
		t.Errorf("PING answered %d %q %q; want 200 {\"type\":1} application/json", a.status, a.ctype, a.body)
	}
	evPing := `{"version":1,"application_id":"1170000000000000000","type":0}`
	a = s.do(t, http.MethodPost, "/discord", hsSign(t, p, evPing, ""), []byte(evPing))
	if a.status != http.StatusNoContent || a.body != "" {
		t.Errorf("webhook-event PING answered %d %q; want 204 and no body", a.status, a.body)
	}
	// Discord's security check: a PING with an invalid signature must be
	// refused with 401, or Discord removes the endpoint.
	h := hsSign(t, p, ping, "")
	h.Set("X-Signature-Ed25519", strings.Repeat("ab", 64))
	if a = s.do(t, http.MethodPost, "/discord", h, []byte(ping)); a.status != http.StatusUnauthorized {
		t.Errorf("forged PING answered %d, want 401", a.status)
	}
	if a = s.do(t, http.MethodGet, "/discord", nil, nil); a.status != http.StatusMethodNotAllowed || a.allow != "POST" {
		t.Errorf("GET answered %d Allow %q; want 405 POST", a.status, a.allow)
	}
	shutdownAfter(t, s, 0)
}

func TestHandshakeMetaSubscribe(t *testing.T) {
	for _, name := range []string{"meta", "whatsapp", "instagram"} {
		t.Run(name, func(t *testing.T) {
			p := hsProvider(t, name, providers.WithVerifyToken("s3cr3t-verify"))
			s := newHSServer(t, p)
			q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1158201444"}, "hub.verify_token": {"s3cr3t-verify"}}
			a := s.do(t, http.MethodGet, "/meta?"+q.Encode(), nil, nil)
			if a.status != http.StatusOK || a.body != "1158201444" || !strings.HasPrefix(a.ctype, "text/plain") || a.nosniff != "nosniff" {
				t.Errorf("subscribe answered %d %q %q nosniff=%q", a.status, a.ctype, a.body, a.nosniff)
			}
			q.Set("hub.verify_token", "guess")
			if a = s.do(t, http.MethodGet, "/meta?"+q.Encode(), nil, nil); a.status != http.StatusUnauthorized || strings.Contains(a.body, "1158201444") {
				t.Errorf("wrong verify token answered %d %q; want 401 without the challenge", a.status, a.body)
			}
			if a = s.do(t, http.MethodGet, "/meta", nil, nil); a.status != http.StatusBadRequest {
				t.Errorf("bare GET answered %d, want 400", a.status)
			}
			body := `{"object":"` + name + `","entry":[]}`
			if a = s.do(t, http.MethodPost, "/meta", hsSign(t, p, body, ""), []byte(body)); a.status != http.StatusOK {
				t.Errorf("signed event answered %d %q", a.status, a.body)
			}
			shutdownAfter(t, s, 1)
		})
	}
}

func TestHandshakeDropboxChallenge(t *testing.T) {
	p := hsProvider(t, "dropbox")
	s := newHSServer(t, p)
	a := s.do(t, http.MethodGet, "/dropbox?challenge=%3Cb%3Eabc", nil, nil)
	if a.status != http.StatusOK || a.body != "<b>abc" || !strings.HasPrefix(a.ctype, "text/plain") || a.nosniff != "nosniff" {
		t.Errorf("challenge answered %d %q %q nosniff=%q; want the challenge as text/plain with nosniff", a.status, a.ctype, a.body, a.nosniff)
	}
	if a = s.do(t, http.MethodGet, "/dropbox", nil, nil); a.status != http.StatusBadRequest {
		t.Errorf("GET without challenge answered %d", a.status)
	}
	shutdownAfter(t, s, 0)
}

func TestHandshakeOktaVerification(t *testing.T) {
	p, err := providers.New("okta", "my-shared-secret")
	if err != nil {
		t.Fatal(err)
	}
	s := newHSServer(t, p)
	h := http.Header{"Authorization": {"my-shared-secret"}, "X-Okta-Verification-Challenge": {"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}}
	a := s.do(t, http.MethodGet, "/okta", h, nil)
	if a.status != http.StatusOK || a.body != `{"verification":"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}` || a.ctype != "application/json" {
		t.Errorf("verification answered %d %q %q", a.status, a.ctype, a.body)
	}
	h.Set("Authorization", "wrong")
	if a = s.do(t, http.MethodGet, "/okta", h, nil); a.status != http.StatusUnauthorized || strings.Contains(a.body, "Me_rShK8") {
		t.Errorf("wrong secret answered %d %q", a.status, a.body)
	}
	shutdownAfter(t, s, 0)
}

func TestHandshakeZoomURLValidation(t *testing.T) {
	const secret = "zoom-secret-token"
	p, err := providers.New("zoom", secret)
	if err != nil {
		t.Fatal(err)
	}
	s := newHSServer(t, p)
	body := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1700000000000,"event":"endpoint.url_validation"}`
	a := s.do(t, http.MethodPost, "/zoom", hsSign(t, p, body, ""), []byte(body))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	want := `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"` + hex.EncodeToString(mac.Sum(nil)) + `"}`
	if a.status != http.StatusOK || a.body != want || a.ctype != "application/json" {
		t.Errorf("url_validation answered %d %q %q; want %s", a.status, a.ctype, a.body, want)
	}
	// An unsigned validation request is refused: nobody but Zoom may
	// learn an encryptedToken.
	if a = s.do(t, http.MethodPost, "/zoom", http.Header{"X-Zm-Request-Timestamp": {"1700000000"}}, []byte(body)); a.status != http.StatusBadRequest || strings.Contains(a.body, "encryptedToken") {
		t.Errorf("unsigned url_validation answered %d %q", a.status, a.body)
	}
	shutdownAfter(t, s, 0)
}

func TestHandshakeTwitchVerification(t *testing.T) {
	p := hsProvider(t, "twitch")
	s := newHSServer(t, p)
	body := `{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2"}}`
	h := hsSign(t, p, body, "")
	if got := h.Get("Twitch-Eventsub-Message-Type"); got != "webhook_callback_verification" {
		t.Fatalf("Sign set message type %q", got)
	}
	a := s.do(t, http.MethodPost, "/twitch", h, []byte(body))
	if a.status != http.StatusOK || a.body != "pogchamp-kappa-360noscope-vohiyo" || !strings.HasPrefix(a.ctype, "text/plain") {
		t.Errorf("verification answered %d %q %q", a.status, a.ctype, a.body)
	}
	tampered := strings.Replace(body, "pogchamp", "p0gchamp", 1)
	if a = s.do(t, http.MethodPost, "/twitch", h, []byte(tampered)); a.status != http.StatusUnauthorized {
		t.Errorf("tampered challenge answered %d %q", a.status, a.body)
	}
	shutdownAfter(t, s, 0)
}

// TestHandshakeMiddleware checks that the Middleware answers a handshake
// itself and never calls the next handler for it.
func TestHandshakeMiddleware(t *testing.T) {
	p := hsProvider(t, "dropbox")
	var called atomic.Int64
	h := testkit.Middleware(t, p, hookguard.WithClock(clock))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called.Add(1)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/dropbox?challenge=xyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "xyz" || called.Load() != 0 {
		t.Errorf("middleware answered %d %q and called next %d times", res.StatusCode, b, called.Load())
	}
}

// TestURLSigningPresetsBehindProxy checks that Twilio, Square and HubSpot,
// which sign the URL, verify when the receiver knows the public URL, and
// fail when it does not.
func TestURLSigningPresetsBehindProxy(t *testing.T) {
	bodies := map[string]struct{ body, ctype string }{
		"square":  {`{"merchant_id":"M","type":"payment.created","event_id":"e-1","data":{}}`, ""},
		"hubspot": {`[{"eventId":7,"subscriptionType":"contact.creation"}]`, ""},
		"twilio":  {"MessageSid=SM1&MessageStatus=delivered", "application/x-www-form-urlencoded"},
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			p := hsProvider(t, name)
			s := newHSServer(t, p)
			sign := func(u string) http.Header {
				h, err := p.Sign(providers.Outgoing{Body: []byte(b.body), Timestamp: t0, URL: u, ContentType: b.ctype})
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			if a := s.do(t, http.MethodPost, "/hooks/"+name+"?tenant=7", sign(s.srv.URL+"/hooks/"+name+"?tenant=7"), []byte(b.body)); a.status != http.StatusOK {
				t.Errorf("signed for the public URL: %d %q", a.status, a.body)
			}
			other := "https://internal.example:8443/hooks/" + name + "?tenant=7"
			if a := s.do(t, http.MethodPost, "/hooks/"+name+"?tenant=7", sign(other), []byte(b.body)); a.status != http.StatusUnauthorized {
				t.Errorf("signed for another URL: %d %q", a.status, a.body)
			}
		})
	}
}

// shutdownAfter stops the server, drains the receiver's queue and checks
// that the handler ran want times.
func shutdownAfter(t *testing.T, s *hsServer, want int64) {
	t.Helper()
	s.srv.Close()
	shutdown(t, s.r)
	s.down = true
	if n := s.handled.Load(); n != want {
		t.Errorf("handler ran %d times, want %d", n, want)
	}
}
