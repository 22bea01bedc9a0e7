package hookguard_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ hookguard.SharedTokenVerifier = (*providers.Preset)(nil)

// countingVerifier is a preset that counts its Verify calls; embedding
// keeps the preset's Name, SharedToken, Methods and ReadsURL.
type countingVerifier struct {
	*providers.Preset
	calls atomic.Int64
}

func (v *countingVerifier) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	v.calls.Add(1)
	return v.Preset.Verify(req, now)
}

func newCounting(t testing.TB, name string) *countingVerifier {
	t.Helper()
	secret := secretFor(name)
	if name == "postmark" {
		secret = "hooks:" + secret // basic-auth credentials
	}
	p, err := providers.New(name, secret)
	require.NoError(t, err, "providers.New(%q)", name)
	return &countingVerifier{Preset: p}
}

// rejection is what Hooks.OnRejected reported last.
type rejection struct {
	mu       sync.Mutex
	provider string
	status   int
	err      error
}

func (r *rejection) hooks() hookguard.Hooks {
	return hookguard.Hooks{OnRejected: func(provider string, status int, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.provider, r.status, r.err = provider, status, err
	}}
}

func (r *rejection) get() (string, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.provider, r.status, r.err
}

// transportBuilds builds a Receiver or a Middleware (in front of a handler
// that answers 200) for v, so that each test runs against both.
var transportBuilds = map[string]func(t *testing.T, v hookguard.Verifier, opts ...hookguard.Option) http.Handler{
	"New": func(t *testing.T, v hookguard.Verifier, opts ...hookguard.Option) http.Handler {
		r := mustNew(t, v, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }), opts...)
		t.Cleanup(func() { shutdown(t, r) })
		return r
	},
	"Middleware": func(t *testing.T, v hookguard.Verifier, opts ...hookguard.Option) http.Handler {
		mw, err := hookguard.Middleware(v, append([]hookguard.Option{hookguard.WithClock(clock)}, opts...)...)
		require.NoError(t, err, "Middleware")
		return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	},
}

// TestTokenPresetTransport checks, for New and Middleware, which GitLab
// deliveries count as arriving over TLS: a refused one is answered 403
// with ErrInsecureTransport, counted by OnRejected, and never reaches
// Verify, so the token is never compared.
func TestTokenPresetTransport(t *testing.T) {
	const internet, proxy = "203.0.113.9:1234", "198.51.100.2:40000"
	tests := []struct {
		name   string
		remote string
		tls    bool
		header map[string]string
		opts   []hookguard.Option
		ok     bool
	}{
		{name: "plain HTTP from the internet", remote: internet},
		{name: "TLS connection", remote: internet, tls: true, ok: true},
		{name: "X-Forwarded-Proto https from an unlisted peer", remote: internet,
			header: map[string]string{"X-Forwarded-Proto": "https"}},
		{name: "X-Forwarded-Proto https from a trusted proxy", remote: proxy,
			header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
			opts:   []hookguard.Option{hookguard.WithTrustedProxies("198.51.100.0/24")}, ok: true},
		{name: "X-Forwarded-Proto http from a trusted proxy", remote: proxy,
			header: map[string]string{"X-Forwarded-Proto": "http"},
			opts:   []hookguard.Option{hookguard.WithTrustedProxies("198.51.100.0/24")}},
		{name: "trusted proxy: the right-most X-Forwarded-Proto counts", remote: proxy,
			header: map[string]string{"X-Forwarded-Proto": "https, http"},
			opts:   []hookguard.Option{hookguard.WithTrustedProxies("198.51.100.0/24")}},
		{name: "trusted proxy without X-Forwarded-Proto", remote: proxy,
			opts: []hookguard.Option{hookguard.WithTrustedProxies("198.51.100.0/24")}},
		{name: "loopback IPv4", remote: "127.0.0.1:50000", ok: true},
		{name: "loopback IPv6", remote: "[::1]:50000", ok: true},
		{name: "loopback forwarding for an unlisted proxy", remote: "127.0.0.1:50000",
			header: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		{name: "loopback claiming https, unlisted", remote: "127.0.0.1:50000",
			header: map[string]string{"X-Forwarded-Proto": "https"}},
		{name: "listed loopback proxy forwarding plain HTTP", remote: "127.0.0.1:50000",
			header: map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"},
			opts:   []hookguard.Option{hookguard.WithTrustedProxies("127.0.0.1")}},
		{name: "listed loopback proxy forwarding HTTPS", remote: "127.0.0.1:50000",
			header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
			opts:   []hookguard.Option{hookguard.WithTrustedProxies("127.0.0.1")}, ok: true},
		{name: "WithAllowPlainHTTP", remote: internet,
			opts: []hookguard.Option{hookguard.WithAllowPlainHTTP()}, ok: true},
		{name: "WithRequireTLS changes nothing for a token preset", remote: internet,
			opts: []hookguard.Option{hookguard.WithRequireTLS()}},
	}
	for ctor, build := range transportBuilds {
		for _, tt := range tests {
			t.Run(ctor+"/"+tt.name, func(t *testing.T) {
				v := newCounting(t, "gitlab")
				var rej rejection
				h := build(t, v, append([]hookguard.Option{hookguard.WithHooks(rej.hooks())}, tt.opts...)...)
				req := sign(t, v, "evt_1", eventBody("evt_1")).request()
				req.RemoteAddr = tt.remote
				if tt.tls {
					req.TLS = &tls.ConnectionState{HandshakeComplete: true}
				}
				for k, val := range tt.header {
					req.Header.Set(k, val)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if tt.ok {
					assert.Equal(t, http.StatusOK, w.Code, "body %q", w.Body)
					assert.Equal(t, int64(1), v.calls.Load(), "Verify calls")
					return
				}
				assert.Equal(t, http.StatusForbidden, w.Code)
				assert.Equal(t, hookguard.ErrInsecureTransport.Error()+"\n", w.Body.String())
				assert.Zero(t, v.calls.Load(), "Verify ran: the token was compared on a plain-HTTP request")
				provider, status, err := rej.get()
				assert.Equal(t, "gitlab", provider, "OnRejected provider")
				assert.Equal(t, http.StatusForbidden, status, "OnRejected status")
				assert.ErrorIs(t, err, hookguard.ErrInsecureTransport, "OnRejected error")
			})
		}
	}
}

// TestTokenPresetsRefusePlainHTTP checks every shared-token preset, and
// that Okta's verification GET, which carries the secret too, is refused
// the same way.
func TestTokenPresetsRefusePlainHTTP(t *testing.T) {
	for _, name := range []string{"gitlab", "postmark", "okta"} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			if method == http.MethodGet && name != "okta" {
				continue
			}
			t.Run(name+"/"+method, func(t *testing.T) {
				v := newCounting(t, name)
				require.True(t, v.SharedToken(), "SharedToken")
				h := transportBuilds["New"](t, v)
				d := sign(t, v, "evt_1", eventBody("evt_1"))
				req := httptest.NewRequest(method, "/hook", bytes.NewReader(d.body))
				req.Header = d.header.Clone()
				req.RemoteAddr = "203.0.113.9:1234"
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				assert.Equal(t, http.StatusForbidden, w.Code, "body %q", w.Body)
				assert.Zero(t, v.calls.Load(), "Verify calls")
			})
		}
	}
}

// TestSignedPresetTransport checks that an HMAC preset accepts plain
// HTTP by default, and that WithRequireTLS makes it refuse it like a
// token preset (loopback still accepted).
func TestSignedPresetTransport(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		tls    bool
		opts   []hookguard.Option
		want   int
	}{
		{name: "default, plain HTTP", remote: "203.0.113.9:1234", want: http.StatusOK},
		{name: "WithRequireTLS, plain HTTP", remote: "203.0.113.9:1234",
			opts: []hookguard.Option{hookguard.WithRequireTLS()}, want: http.StatusForbidden},
		{name: "WithRequireTLS, TLS", remote: "203.0.113.9:1234", tls: true,
			opts: []hookguard.Option{hookguard.WithRequireTLS()}, want: http.StatusOK},
		{name: "WithRequireTLS, loopback", remote: "127.0.0.1:50000",
			opts: []hookguard.Option{hookguard.WithRequireTLS()}, want: http.StatusOK},
	}
	for ctor, build := range transportBuilds {
		for _, tt := range tests {
			t.Run(ctor+"/"+tt.name, func(t *testing.T) {
				v := newCounting(t, "stripe")
				require.False(t, v.SharedToken(), "SharedToken")
				h := build(t, v, tt.opts...)
				req := sign(t, v, "evt_1", eventBody("evt_1")).request()
				req.RemoteAddr = tt.remote
				if tt.tls {
					req.TLS = &tls.ConnectionState{HandshakeComplete: true}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				assert.Equal(t, tt.want, w.Code, "body %q", w.Body)
				if tt.want == http.StatusForbidden {
					assert.Zero(t, v.calls.Load(), "Verify calls")
				}
			})
		}
	}
}

// TestTransportOptionsConflict checks that the two transport options
// cannot be combined.
func TestTransportOptionsConflict(t *testing.T) {
	opts := []hookguard.Option{hookguard.WithRequireTLS(), hookguard.WithAllowPlainHTTP()}
	_, err := hookguard.New(newProvider(t, "gitlab"), hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }), opts...)
	require.ErrorIs(t, err, hookguard.ErrInvalidOption, "New")
	assert.ErrorContains(t, err, "WithRequireTLS() and WithAllowPlainHTTP()")
	_, err = hookguard.Middleware(newProvider(t, "gitlab"), opts...)
	require.ErrorIs(t, err, hookguard.ErrInvalidOption, "Middleware")
}

// lockedBuffer is a bytes.Buffer safe for a logger and a test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testPKI is a certificate authority and a leaf for 127.0.0.1, ::1 and
// localhost, generated for one test.
type testPKI struct {
	pool *x509.CertPool
	leaf tls.Certificate
}

func newTestPKI(t testing.TB) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hookguard test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return testPKI{pool: pool, leaf: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}}
}

// post sends d to url with c and returns the status.
func (d delivery) post(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	require.NoError(t, err)
	req.Header = d.header.Clone()
	resp, err := c.Do(req)
	require.NoError(t, err, "POST %s", url)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

// TestTokenPresetRealTLS serves a GitLab receiver and middleware over real
// connections on loopback: over TLS with a certificate from a CA made in
// the test, the delivery is accepted; over plain HTTP from loopback it is
// accepted too (local development), which New and Middleware said in the
// log when they were built.
func TestTokenPresetRealTLS(t *testing.T) {
	pki := newTestPKI(t)
	for ctor, build := range transportBuilds {
		t.Run(ctor, func(t *testing.T) {
			v := newCounting(t, "gitlab")
			var logs lockedBuffer
			h := build(t, v, hookguard.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			start := logs.String()
			assert.Contains(t, start, "level=INFO")
			assert.Contains(t, start, "plain HTTP is accepted from loopback only")
			assert.Contains(t, start, "provider=gitlab")

			srv := httptest.NewUnstartedServer(h)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS12}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the CA-less client fails
			srv.StartTLS()
			t.Cleanup(srv.Close)
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12},
			}}
			t.Cleanup(client.CloseIdleConnections)
			assert.Equal(t, http.StatusOK, sign(t, v, "evt_tls", eventBody("evt_tls")).post(t, client, srv.URL), "over TLS")
			assert.Equal(t, int64(1), v.calls.Load(), "Verify calls")

			// The same certificate does not verify without the CA.
			_, err := http.Post(srv.URL, "application/json", bytes.NewReader(nil))
			var unknown x509.UnknownAuthorityError
			assert.True(t, errors.As(err, &unknown), "a client without the CA: %v", err)

			plain := httptest.NewServer(h)
			t.Cleanup(plain.Close)
			assert.Equal(t, http.StatusOK, sign(t, v, "evt_plain", eventBody("evt_plain")).post(t, plain.Client(), plain.URL), "plain HTTP from loopback")
		})
	}
}
