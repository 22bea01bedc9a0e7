package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	file string // the CA certificate, PEM, in the test's directory
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hookguard test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{cert: cert, key: key, pool: x509.NewCertPool(), file: filepath.Join(t.TempDir(), "ca.pem")}
	ca.pool.AddCert(cert)
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// leaf returns a server certificate for 127.0.0.1 signed by ca, with the
// given serial number, valid until notAfter, as PEM certificate and key.
func (ca *testCA) leaf(t *testing.T, serial int64, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "receiver.test"},
		NotBefore:    time.Now().Add(-2 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// leafFiles writes a leaf of serial to cert.pem and key.pem in a new
// directory and returns their paths.
func (ca *testCA) leafFiles(t *testing.T, serial int64) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.leaf(t, serial, time.Now().Add(time.Hour))
	replaceFile(t, certFile, c)
	replaceFile(t, keyFile, k)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile replaces path with data as a renewal does: written aside,
// then renamed over it.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// servedSerial completes a handshake with addr, trusting ca only, and
// returns the serial number of the certificate served.
func servedSerial(t *testing.T, addr string, ca *testCA) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS handshake with serve: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// signedStripe returns a stripe event signed with testSecret for url.
func signedStripe(t *testing.T, url, id string) *outgoing {
	t.Helper()
	p, err := providers.New("stripe", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	o, err := signOutgoing(p, providers.Outgoing{Body: []byte(`{"id":"` + id + `","object":"event","type":"invoice.paid"}`), URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestServeTLS(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.leafFiles(t, 2)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--tls-cert", certFile, "--tls-key", keyFile)
	url := "https://" + srv.addr + "/webhooks/stripe"

	for _, tc := range []struct {
		name      string
		http2     bool
		wantProto string
	}{
		{"h2 offered", true, "HTTP/2.0"},
		{"HTTP/1.1 only", false, "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: tc.http2}
			if !tc.http2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // no h2
			}
			defer tr.CloseIdleConnections()
			o := signedStripe(t, url, "evt_tls_"+strings.ReplaceAll(tc.name, " ", "_"))
			req, err := http.NewRequestWithContext(context.Background(), o.Method, o.URL, bytes.NewReader(o.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = o.Header
			res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatalf("POST over TLS: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Proto != tc.wantProto || res.TLS == nil {
				t.Errorf("POST over TLS = %d %s (%s); want 200 over %s", res.StatusCode, res.Proto, body, tc.wantProto)
			}
		})
	}
	log := srv.stderr.String()
	for _, want := range []string{"serving HTTPS", "CN=receiver.test", "not_after=", "url=https://" + srv.addr} {
		if !strings.Contains(log, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, log)
		}
	}
}

func TestServeTLSReload(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.leafFiles(t, 2)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--tls-cert", certFile, "--tls-key", keyFile)
	if got := servedSerial(t, srv.addr, ca); got != 2 {
		t.Fatalf("serial served at start = %d; want 2", got)
	}

	// waitSerial handshakes until serve serves want, for at most a few
	// seconds: serve looks at the files once a second.
	waitSerial := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := servedSerial(t, srv.addr, ca)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("serial served = %d long after the files changed; want %d", got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	c, k := ca.leaf(t, 3, time.Now().Add(time.Hour))
	replaceFile(t, keyFile, k)
	replaceFile(t, certFile, c)
	waitSerial(3)

	// A renewal that does not load keeps the last good pair, with a warning.
	replaceFile(t, certFile, []byte("not a certificate"))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(srv.stderr.String(), "certificate reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning for a certificate that does not load:\n%s", srv.stderr)
		}
		if got := servedSerial(t, srv.addr, ca); got != 3 {
			t.Fatalf("serial served after a bad renewal = %d; want the last good one, 3", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(srv.stderr.String(), "level=WARN") {
		t.Errorf("the failed reload is not logged at WARN:\n%s", srv.stderr)
	}
	// The next good pair is served again.
	c, k = ca.leaf(t, 4, time.Now().Add(time.Hour))
	replaceFile(t, keyFile, k)
	replaceFile(t, certFile, c)
	waitSerial(4)
}

func TestServeTLSRefusesOldVersions(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.leafFiles(t, 2)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--tls-cert", certFile, "--tls-key", keyFile)
	for _, tc := range []struct {
		name    string
		max     uint16
		refused bool
	}{
		{"TLS 1.0", tls.VersionTLS10, true},
		{"TLS 1.1", tls.VersionTLS11, true},
		{"TLS 1.2", tls.VersionTLS12, false},
		{"TLS 1.3", tls.VersionTLS13, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", srv.addr, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tc.max})
			if err == nil {
				conn.Close()
			}
			if refused := err != nil; refused != tc.refused {
				t.Errorf("handshake offering at most %s: err = %v; want refused %v", tc.name, err, tc.refused)
			}
		})
	}
}

func TestSendCACert(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.leafFiles(t, 2)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--tls-cert", certFile, "--tls-key", keyFile)
	url := "https://" + srv.addr + "/webhooks/stripe"
	send := func(extra ...string) result {
		return runCmd(t, "", append(append([]string{"send", "--provider", "stripe", "--secret", testSecret}, extra...), url)...)
	}

	got := send("--cacert", ca.file)
	if got.code != 0 || !strings.Contains(got.stdout, "200") {
		t.Fatalf("send --cacert to serve --tls-cert = %d:\n%s%s", got.code, got.stdout, got.stderr)
	}
	if line := waitLine(t, srv.stdout); !strings.Contains(line, `"provider":"stripe"`) {
		t.Errorf("serve printed %q; want the stripe event", line)
	}

	got = send()
	if got.code != exitFail || !strings.Contains(got.stdout, "the server's certificate is not signed by a trusted CA: pass --cacert FILE with your CA") {
		t.Errorf("send without --cacert = %d; want 1 and the clear message:\n%s%s", got.code, got.stdout, got.stderr)
	}
	if strings.Count(strings.TrimSpace(got.stdout), "\n") > 2 {
		t.Errorf("send without --cacert printed more than its summary:\n%s", got.stdout)
	}

	// Another CA's bundle does not verify either: --cacert replaces the
	// trusted roots, it does not add to them.
	other := newTestCA(t)
	if got = send("--cacert", other.file); got.code != exitFail || !strings.Contains(got.stdout, "not signed by a trusted CA") {
		t.Errorf("send --cacert with another CA = %d; want 1 and the clear message:\n%s%s", got.code, got.stdout, got.stderr)
	}

	got = send("--insecure")
	if got.code != 0 || !strings.Contains(got.stderr, "warning: --insecure") {
		t.Errorf("send --insecure = %d; want 0 and a warning on stderr:\n%s%s", got.code, got.stdout, got.stderr)
	}
}

func TestSendCertificateErrors(t *testing.T) {
	ca := newTestCA(t)
	expiredCert, expiredKey := ca.leaf(t, 5, time.Now().Add(-time.Hour))
	goodCert, goodKey := ca.leaf(t, 6, time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name      string
		cert, key []byte
		host      string // instead of 127.0.0.1
		want      string
	}{
		{"expired", expiredCert, expiredKey, "", "the server's certificate has expired or is not valid yet"},
		{"wrong host", goodCert, goodKey, "localhost", "the server's certificate is not valid for the host localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pair, err := tls.X509KeyPair(tc.cert, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
			ts.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
			ts.Config.ErrorLog = nil
			ts.StartTLS()
			defer ts.Close()
			url := ts.URL + "/webhooks/stripe"
			if tc.host != "" {
				url = strings.Replace(url, "127.0.0.1", tc.host, 1)
			}
			got := runCmd(t, "", "send", "--provider", "stripe", "--secret", testSecret, "--cacert", ca.file, url)
			if got.code != exitFail || !strings.Contains(got.stdout, tc.want) {
				t.Errorf("send = %d; want 1 and %q:\n%s%s", got.code, tc.want, got.stdout, got.stderr)
			}
		})
	}
}

func TestTLSFlagErrors(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile := ca.leafFiles(t, 2)
	_, otherKey := ca.leafFiles(t, 3)
	garbage := writeFile(t, "garbage.pem", "not PEM")
	serve := []string{"serve", "--addr", "127.0.0.1:0", "--secret", "stripe=" + testSecret}
	send := []string{"send", "--provider", "stripe", "--secret", testSecret}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", append(serve, "--tls-cert", certFile), "--tls-cert needs --tls-key"},
		{"key without cert", append(serve, "--tls-key", keyFile), "--tls-key needs --tls-cert"},
		{"key of another certificate", append(serve, "--tls-cert", certFile, "--tls-key", otherKey), "private key does not match"},
		{"not a certificate", append(serve, "--tls-cert", garbage, "--tls-key", keyFile), "--tls-cert " + garbage},
		{"missing file", append(serve, "--tls-cert", certFile+".missing", "--tls-key", keyFile), "--tls-cert: "},
		{"trusted proxy not an address", append(serve, "--trusted-proxy", "proxy.internal"), `--trusted-proxy 1: "proxy.internal" is neither a CIDR prefix`},
		{"cacert and insecure", append(send, "--cacert", ca.file, "--insecure", "https://127.0.0.1:1/"), "give --cacert or --insecure, not both"},
		{"cacert for plain HTTP", append(send, "--cacert", ca.file, "http://127.0.0.1:1/"), "apply to https:// URLs"},
		{"cacert without a certificate", append(send, "--cacert", garbage, "https://127.0.0.1:1/"), "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runCmd(t, "", tc.args...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tc.want) {
				t.Errorf("%s = %d; want %d and %q:\n%s", strings.Join(tc.args, " "), got.code, exitUsage, tc.want, got.stderr)
			}
		})
	}
}

// A delivery replayed from the inspector arrives as the original did: over
// TLS when the original did, so a receiver that insists on TLS takes it.
func TestInspectorReplayKeepsTLS(t *testing.T) {
	var sawTLS []bool
	in, h := newTestInspector(4, 1024, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		sawTLS = append(sawTLS, r.TLS != nil)
	}))
	plain := httptest.NewRequest(http.MethodPost, "/webhooks/test", strings.NewReader(`{"n":1}`))
	overTLS := httptest.NewRequest(http.MethodPost, "/webhooks/test", strings.NewReader(`{"n":2}`))
	overTLS.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	h.ServeHTTP(httptest.NewRecorder(), plain)
	h.ServeHTTP(httptest.NewRecorder(), overTLS)
	for _, seq := range []uint64{1, 2} {
		if _, err := in.replay(context.Background(), seq); err != nil {
			t.Fatalf("replay of #%d: %v", seq, err)
		}
	}
	if want := []bool{false, true, false, true}; !slices.Equal(sawTLS, want) {
		t.Errorf("requests over TLS = %v; want %v (each replay as its original)", sawTLS, want)
	}
}

// gitlab sends a shared token: serve takes it over TLS, and over plain HTTP
// only from loopback or from a --trusted-proxy that says it was HTTPS.
func TestServeSharedTokenTransport(t *testing.T) {
	secret, err := testsecret.For("gitlab")
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.New("gitlab", secret)
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t)
	certFile, keyFile := ca.leafFiles(t, 2)
	proxied := http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https"}}
	for i, tc := range []struct {
		name   string
		args   []string
		tls    bool
		header http.Header
		want   int
	}{
		{"over TLS", []string{"--tls-cert", certFile, "--tls-key", keyFile}, true, nil, http.StatusOK},
		{"plain HTTP from loopback", nil, false, nil, http.StatusOK},
		{"through an unlisted proxy", nil, false, proxied, http.StatusForbidden},
		{"through a trusted proxy", []string{"--trusted-proxy", "127.0.0.1"}, false, proxied, http.StatusOK},
		{"plain HTTP through a trusted proxy", []string{"--trusted-proxy", "127.0.0.0/8"}, false, http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"http"}}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServe(t, append([]string{"--addr", "127.0.0.1:0", "--secret", "gitlab=" + secret}, tc.args...)...)
			scheme, client := "http", &http.Client{Timeout: 10 * time.Second}
			if tc.tls {
				scheme = "https"
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}}
			}
			o, err := signOutgoing(p, providers.Outgoing{Body: []byte(`{"object_kind":"push","ref":"refs/heads/main"}`), ID: "gl-" + strconv.Itoa(i), Type: "Push Hook", URL: scheme + "://" + srv.addr + "/webhooks/gitlab"})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				o.Header[k] = v
			}
			res, err := send(context.Background(), client, o)
			if err != nil || res.Status != tc.want {
				t.Errorf("POST gitlab %s = %d, %v (%s); want %d", tc.name, res.Status, err, res.Body, tc.want)
			}
		})
	}
}

func TestServeSharedTokenWarning(t *testing.T) {
	secret, err := testsecret.For("gitlab")
	if err != nil {
		t.Fatal(err)
	}
	const warning = "shared token, which must arrive over HTTPS"
	for _, tc := range []struct {
		name string
		args []string
		warn bool
	}{
		{"all interfaces, plain HTTP", []string{"--addr", "0.0.0.0:0", "--secret", "gitlab=" + secret}, true},
		{"loopback", []string{"--addr", "127.0.0.1:0", "--secret", "gitlab=" + secret}, false},
		{"behind a trusted proxy", []string{"--addr", "0.0.0.0:0", "--secret", "gitlab=" + secret, "--trusted-proxy", "10.0.0.0/8"}, false},
		{"a signing provider", []string{"--addr", "0.0.0.0:0", "--secret", "stripe=" + testSecret}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServe(t, tc.args...)
			if got := strings.Contains(srv.stderr.String(), warning); got != tc.warn {
				t.Errorf("warning logged = %v; want %v:\n%s", got, tc.warn, srv.stderr)
			}
		})
	}
}
