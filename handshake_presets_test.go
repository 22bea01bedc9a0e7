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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
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
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := s.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	return hsAnswer{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), nosniff: res.Header.Get("X-Content-Type-Options"), allow: res.Header.Get("Allow"), body: string(b)}
}

func hsProvider(t *testing.T, name string, opts ...providers.Option) providers.Provider {
	t.Helper()
	secret, err := testsecret.For(name)
	require.NoError(t, err)
	p, err := providers.New(name, secret, opts...)
	require.NoError(t, err)
	return p
}

func hsSign(t *testing.T, p providers.Provider, body, url string) http.Header {
	t.Helper()
	h, err := p.Sign(providers.Outgoing{Body: []byte(body), Timestamp: t0, URL: url})
	require.NoError(t, err)
	return h
}

func TestHandshakeDiscordPing(t *testing.T) {
	p := hsProvider(t, "discord")
	s := newHSServer(t, p)
	ping := `{"application_id":"1170000000000000000","id":"1180000000000000003","token":"tok","type":1,"version":1}`
	a := s.do(t, http.MethodPost, "/discord", hsSign(t, p, ping, ""), []byte(ping))
	assert.Equal(t, hsAnswer{status: http.StatusOK, ctype: "application/json", body: `{"type":1}`},
		hsAnswer{status: a.status, ctype: a.ctype, body: a.body}, "PING answer")
	evPing := `{"version":1,"application_id":"1170000000000000000","type":0}`
	a = s.do(t, http.MethodPost, "/discord", hsSign(t, p, evPing, ""), []byte(evPing))
	assert.Equal(t, http.StatusNoContent, a.status, "webhook-event PING")
	assert.Empty(t, a.body, "webhook-event PING: want 204 and no body")
	// Discord's security check: a PING with an invalid signature must be
	// refused with 401, or Discord removes the endpoint.
	h := hsSign(t, p, ping, "")
	h.Set("X-Signature-Ed25519", strings.Repeat("ab", 64))
	a = s.do(t, http.MethodPost, "/discord", h, []byte(ping))
	assert.Equal(t, http.StatusUnauthorized, a.status, "forged PING")
	a = s.do(t, http.MethodGet, "/discord", nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, a.status, "GET")
	assert.Equal(t, "POST", a.allow, "GET: Allow")
	shutdownAfter(t, s, 0)
}

func TestHandshakeMetaSubscribe(t *testing.T) {
	for _, name := range []string{"meta", "whatsapp", "instagram"} {
		t.Run(name, func(t *testing.T) {
			p := hsProvider(t, name, providers.WithVerifyToken("s3cr3t-verify"))
			s := newHSServer(t, p)
			q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1158201444"}, "hub.verify_token": {"s3cr3t-verify"}}
			a := s.do(t, http.MethodGet, "/meta?"+q.Encode(), nil, nil)
			assert.Equal(t, http.StatusOK, a.status, "subscribe")
			assert.Equal(t, "1158201444", a.body, "subscribe")
			assert.True(t, strings.HasPrefix(a.ctype, "text/plain"), "subscribe: Content-Type %q", a.ctype)
			assert.Equal(t, "nosniff", a.nosniff, "subscribe")
			q.Set("hub.verify_token", "guess")
			a = s.do(t, http.MethodGet, "/meta?"+q.Encode(), nil, nil)
			assert.Equal(t, http.StatusUnauthorized, a.status, "wrong verify token")
			assert.NotContains(t, a.body, "1158201444", "wrong verify token: want 401 without the challenge")
			a = s.do(t, http.MethodGet, "/meta", nil, nil)
			assert.Equal(t, http.StatusBadRequest, a.status, "bare GET")
			body := `{"object":"` + name + `","entry":[]}`
			a = s.do(t, http.MethodPost, "/meta", hsSign(t, p, body, ""), []byte(body))
			assert.Equal(t, http.StatusOK, a.status, "signed event: body %q", a.body)
			shutdownAfter(t, s, 1)
		})
	}
}

func TestHandshakeDropboxChallenge(t *testing.T) {
	p := hsProvider(t, "dropbox")
	s := newHSServer(t, p)
	a := s.do(t, http.MethodGet, "/dropbox?challenge=%3Cb%3Eabc", nil, nil)
	assert.Equal(t, http.StatusOK, a.status, "challenge")
	assert.Equal(t, "<b>abc", a.body, "challenge")
	assert.True(t, strings.HasPrefix(a.ctype, "text/plain"), "challenge: Content-Type %q, want text/plain", a.ctype)
	assert.Equal(t, "nosniff", a.nosniff, "challenge")
	a = s.do(t, http.MethodGet, "/dropbox", nil, nil)
	assert.Equal(t, http.StatusBadRequest, a.status, "GET without challenge")
	shutdownAfter(t, s, 0)
}

func TestHandshakeOktaVerification(t *testing.T) {
	p, err := providers.New("okta", "my-shared-secret")
	require.NoError(t, err)
	s := newHSServer(t, p)
	h := http.Header{"Authorization": {"my-shared-secret"}, "X-Okta-Verification-Challenge": {"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}}
	a := s.do(t, http.MethodGet, "/okta", h, nil)
	assert.Equal(t, hsAnswer{status: http.StatusOK, ctype: "application/json", body: `{"verification":"Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}`},
		hsAnswer{status: a.status, ctype: a.ctype, body: a.body}, "verification answer")
	h.Set("Authorization", "wrong")
	a = s.do(t, http.MethodGet, "/okta", h, nil)
	assert.Equal(t, http.StatusUnauthorized, a.status, "wrong secret")
	assert.NotContains(t, a.body, "Me_rShK8", "wrong secret")
	shutdownAfter(t, s, 0)
}

func TestHandshakeZoomURLValidation(t *testing.T) {
	const secret = "zoom-secret-token"
	p, err := providers.New("zoom", secret)
	require.NoError(t, err)
	s := newHSServer(t, p)
	body := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1700000000000,"event":"endpoint.url_validation"}`
	a := s.do(t, http.MethodPost, "/zoom", hsSign(t, p, body, ""), []byte(body))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	want := `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"` + hex.EncodeToString(mac.Sum(nil)) + `"}`
	assert.Equal(t, hsAnswer{status: http.StatusOK, ctype: "application/json", body: want},
		hsAnswer{status: a.status, ctype: a.ctype, body: a.body}, "url_validation answer")
	// An unsigned validation request is refused: nobody but Zoom may
	// learn an encryptedToken.
	a = s.do(t, http.MethodPost, "/zoom", http.Header{"X-Zm-Request-Timestamp": {"1700000000"}}, []byte(body))
	assert.Equal(t, http.StatusBadRequest, a.status, "unsigned url_validation")
	assert.NotContains(t, a.body, "encryptedToken", "unsigned url_validation")
	shutdownAfter(t, s, 0)
}

func TestHandshakeTwitchVerification(t *testing.T) {
	p := hsProvider(t, "twitch")
	s := newHSServer(t, p)
	body := `{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2"}}`
	h := hsSign(t, p, body, "")
	require.Equal(t, "webhook_callback_verification", h.Get("Twitch-Eventsub-Message-Type"), "message type set by Sign")
	a := s.do(t, http.MethodPost, "/twitch", h, []byte(body))
	assert.Equal(t, http.StatusOK, a.status, "verification")
	assert.Equal(t, "pogchamp-kappa-360noscope-vohiyo", a.body, "verification")
	assert.True(t, strings.HasPrefix(a.ctype, "text/plain"), "verification: Content-Type %q", a.ctype)
	tampered := strings.Replace(body, "pogchamp", "p0gchamp", 1)
	a = s.do(t, http.MethodPost, "/twitch", h, []byte(tampered))
	assert.Equal(t, http.StatusUnauthorized, a.status, "tampered challenge: body %q", a.body)
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
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "middleware answer")
	assert.Equal(t, "xyz", string(b), "middleware answer")
	assert.Zero(t, called.Load(), "middleware called next")
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
				require.NoError(t, err)
				return h
			}
			a := s.do(t, http.MethodPost, "/hooks/"+name+"?tenant=7", sign(s.srv.URL+"/hooks/"+name+"?tenant=7"), []byte(b.body))
			assert.Equal(t, http.StatusOK, a.status, "signed for the public URL: body %q", a.body)
			other := "https://internal.example:8443/hooks/" + name + "?tenant=7"
			a = s.do(t, http.MethodPost, "/hooks/"+name+"?tenant=7", sign(other), []byte(b.body))
			assert.Equal(t, http.StatusUnauthorized, a.status, "signed for another URL: body %q", a.body)
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
	assert.Equal(t, want, s.handled.Load(), "handler runs")
}
