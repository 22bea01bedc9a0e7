package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// get sends a GET to rawURL with the given Host (empty: the URL's) and
// headers, and returns the status and body.
func get(t *testing.T, rawURL, host string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if host != "" {
		req.Host = host
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Issue 15, finding 8: /metrics answered any Host, so a DNS-rebinding
// page could read it; and the inspector lived on the webhook listener.
// The page and the metrics now have their own loopback listener, behind
// the host and cross-site guard, and the webhook listener serves neither.
func TestServeUIListenerIsGuarded(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret)
	if srv.uiAddr == "" || srv.uiAddr == srv.addr {
		t.Fatalf("ui address %q; want a listener of its own, not %q", srv.uiAddr, srv.addr)
	}
	_, port, _ := net.SplitHostPort(srv.uiAddr)
	ui := "http://" + srv.uiAddr
	for _, tc := range []struct {
		name, url, host, site string
		want                  int
	}{
		{"metrics by address", ui + "/metrics", "", "", http.StatusOK},
		{"metrics as localhost", ui + "/metrics", "localhost:" + port, "", http.StatusOK},
		{"page as localhost", ui + "/", "localhost:" + port, "same-origin", http.StatusOK},
		{"metrics rebinding", ui + "/metrics", "attacker.example:" + port, "", http.StatusMisdirectedRequest},
		{"metrics rebinding cross-site", ui + "/metrics", "attacker.example", "cross-site", http.StatusMisdirectedRequest},
		{"metrics cross-site", ui + "/metrics", "", "cross-site", http.StatusForbidden},
		{"state rebinding", ui + "/inspector/api/state", "attacker.example:" + port, "", http.StatusMisdirectedRequest},
		{"localhost on another port", ui + "/metrics", "localhost:1", "", http.StatusMisdirectedRequest},
		{"metrics on the webhook listener", "http://" + srv.addr + "/metrics", "", "", http.StatusNotFound},
		{"page on the webhook listener", "http://" + srv.addr + "/", "", "", http.StatusNotFound},
		{"state on the webhook listener", "http://" + srv.addr + "/inspector/api/state", "", "", http.StatusNotFound},
	} {
		h := http.Header{}
		if tc.site != "" {
			h.Set("Sec-Fetch-Site", tc.site)
		}
		if code, body := get(t, tc.url, tc.host, h); code != tc.want {
			t.Errorf("%s: GET %s Host %q = %d %.80q; want %d", tc.name, tc.url, tc.host, code, body, tc.want)
		}
	}
	if !strings.Contains(srv.stderr.String(), "url=http://"+srv.uiAddr+"/metrics") {
		t.Errorf("serve does not log the metrics URL on --ui-addr:\n%s", srv.stderr)
	}
}

func TestUIGuardHosts(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040}
	lan := &net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 4040}
	for _, tc := range []struct {
		configured string
		local      net.Addr
		host, site string
		want       int
	}{
		{"127.0.0.1:4040", bound, "127.0.0.1:4040", "", http.StatusOK},
		{"127.0.0.1:4040", bound, "localhost:4040", "same-origin", http.StatusOK},
		{"127.0.0.1:4040", bound, "LOCALHOST:4040", "none", http.StatusOK},
		{"127.0.0.1:4040", bound, "[::1]:4040", "", http.StatusOK},
		{"127.0.0.1:4040", bound, "rebind.attacker.example:4040", "", http.StatusMisdirectedRequest},
		{"127.0.0.1:4040", bound, "app.localhost:4040", "", http.StatusMisdirectedRequest},
		{"127.0.0.1:4040", bound, "localhost:8080", "", http.StatusMisdirectedRequest},
		{"127.0.0.1:4040", bound, "localhost", "", http.StatusMisdirectedRequest},
		{"127.0.0.1:4040", bound, "", "", http.StatusMisdirectedRequest},
		{"127.0.0.1:4040", bound, "127.0.0.1:4040", "cross-site", http.StatusForbidden},
		{"127.0.0.1:4040", bound, "127.0.0.1:4040", "same-site", http.StatusForbidden},
		// Bound beyond loopback: an IP literal passes only when it is the
		// address the connection arrived on.
		{"0.0.0.0:4040", lan, "192.168.1.20:4040", "", http.StatusOK},
		{"0.0.0.0:4040", lan, "10.0.0.9:4040", "", http.StatusMisdirectedRequest},
		{"0.0.0.0:4040", nil, "10.0.0.9:4040", "", http.StatusMisdirectedRequest},
		{"devbox.lan:4040", lan, "devbox.lan:4040", "", http.StatusOK},
		{"devbox.lan:4040", lan, "other.lan:4040", "", http.StatusMisdirectedRequest},
	} {
		g := newUIGuard(tc.configured, &net.TCPAddr{Port: 4040})
		h := g.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tc.local != nil {
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, tc.local))
		}
		req.Host = tc.host
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("--ui-addr %s, Host %q, Sec-Fetch-Site %q = %d; want %d", tc.configured, tc.host, tc.site, w.Code, tc.want)
		}
	}
}

// "GET handshakes never reach the receivers": each preset that lists GET
// gets its verification request through serve and answers it as the
// provider documents.
func TestServeGETHandshakes(t *testing.T) {
	const token = "my-verify-token"
	okta, err := testsecret.For("okta")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, "--addr", "127.0.0.1:0",
		"--secret", "dropbox="+testSecret, "--secret", "meta="+testSecret, "--secret", "whatsapp="+testSecret,
		"--secret", "instagram="+testSecret, "--secret", "okta="+okta,
		"--verify-token", "meta="+token, "--verify-token", "whatsapp="+token, "--verify-token", "instagram="+token)
	base := "http://" + srv.addr + "/webhooks/"
	metaQuery := "?hub.mode=subscribe&hub.verify_token=" + token + "&hub.challenge=1158201444"
	for _, tc := range []struct {
		name, url string
		header    http.Header
		want      int
		body      string
	}{
		// Dropbox: "respond to the GET with the challenge parameter"
		// (dropbox.com/developers/reference/webhooks, Verification request).
		{"dropbox", base + "dropbox?challenge=abc123", nil, http.StatusOK, "abc123"},
		// Meta: answer hub.challenge when hub.verify_token matches
		// (developers.facebook.com/docs/graph-api/webhooks/getting-started).
		{"meta", base + "meta" + metaQuery, nil, http.StatusOK, "1158201444"},
		{"whatsapp", base + "whatsapp" + metaQuery, nil, http.StatusOK, "1158201444"},
		{"instagram", base + "instagram" + metaQuery, nil, http.StatusOK, "1158201444"},
		{"meta wrong token", base + "meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", nil, http.StatusForbidden, ""},
		// Okta: echo X-Okta-Verification-Challenge as {"verification": ...}
		// (developer.okta.com/docs/concepts/event-hooks, one-time verification).
		{"okta", base + "okta", http.Header{"X-Okta-Verification-Challenge": {"okta-challenge-1"}, "Authorization": {okta}}, http.StatusOK, `{"verification":"okta-challenge-1"}`},
	} {
		code, body := get(t, tc.url, "", tc.header)
		if code != tc.want && !(tc.want == http.StatusForbidden && code == http.StatusUnauthorized) {
			t.Errorf("%s: GET = %d %q; want %d", tc.name, code, body, tc.want)
			continue
		}
		if tc.body != "" && strings.TrimSpace(body) != tc.body {
			t.Errorf("%s: GET answered %q; want %q", tc.name, body, tc.body)
		}
	}
}

// Presets without a handshake still refuse GET, with an Allow header.
func TestServeGETRefusedWithoutHandshake(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--secret", "dropbox="+testSecret)
	res, err := http.Get("http://" + srv.addr + "/webhooks/stripe")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
		t.Errorf("GET stripe = %d Allow %q; want 405 Allow POST", res.StatusCode, res.Header.Get("Allow"))
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+srv.addr+"/webhooks/dropbox", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST, GET" {
		t.Errorf("PUT dropbox = %d Allow %q; want 405 Allow POST, GET", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"verify token for a preset without one", []string{"--secret", "stripe=" + testSecret, "--verify-token", "stripe=tok_zzz"}, "applies to instagram, meta, whatsapp"},
		{"verify token for a provider not received", []string{"--secret", "stripe=" + testSecret, "--verify-token", "meta=tok_zzz"}, "meta is not received"},
		{"verify token without a token", []string{"--secret", "meta=" + testSecret, "--verify-token", "meta="}, "want PROVIDER=TOKEN"},
		{"signature version without hubspot", []string{"--secret", "stripe=" + testSecret, "--signature-version", "v1"}, "applies to hubspot only"},
		{"bad signature version", []string{"--secret", "hubspot=" + testSecret, "--public-url", "https://hooks.example.com", "--signature-version", "v9"}, "v9"},
		{"twilio without --public-url", []string{"--secret", "twilio=" + testSecret}, "--public-url"},
		{"square and hubspot without --public-url", []string{"--secret", "square=" + testSecret, "--secret", "hubspot=" + testSecret}, "square, hubspot sign the URL"},
		{"bad --public-url", []string{"--secret", "twilio=" + testSecret, "--public-url", "hooks.example.com"}, "WithPublicURL"},
	} {
		// A canceled context: a serve that wrongly starts stops at once
		// (exit 0) instead of hanging the test.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr bytes.Buffer
		code := runContext(ctx, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...))
		got := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
		if got.code != exitUsage || !strings.Contains(got.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, got.code, got.stderr, exitUsage, tc.want)
		}
		if strings.Contains(got.stderr, "tok_zzz") || strings.Contains(got.stderr, testSecret) {
			t.Errorf("%s: stderr %q echoes a token or secret", tc.name, got.stderr)
		}
	}
}

// "URL-signed presets take the URL from the request's Host": with
// --public-url the signed URL is the configured one, so a request signed
// for another host is refused whatever Host it is sent with.
func TestServePublicURL(t *testing.T) {
	const public = "https://hooks.example.com"
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "twilio="+testSecret, "--public-url", public)
	p, err := providers.New("twilio", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("CallSid=CA1&From=%2B14158675309")
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name, signedFor string
		want            int
	}{
		{"signed for the public URL", public + "/webhooks/twilio", http.StatusOK},
		{"signed for another app's host", "https://other-app.example/webhooks/twilio", http.StatusUnauthorized},
	} {
		o, err := signOutgoing(p, providers.Outgoing{Body: body, URL: tc.signedFor, ContentType: "application/x-www-form-urlencoded"})
		if err != nil {
			t.Fatal(err)
		}
		// Sent to serve with the Host the signature was made for, as an
		// attacker would.
		u, _ := url.Parse(tc.signedFor)
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/webhooks/twilio", strings.NewReader(string(o.Body)))
		req.Header = o.Header.Clone()
		req.Host = u.Host
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d; want %d", tc.name, res.StatusCode, tc.want)
		}
	}
}

func TestServeAllowHostURLWarns(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "square="+testSecret, "--allow-host-url")
	if logs := srv.stderr.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "--allow-host-url") {
		t.Errorf("serve --allow-host-url logs no warning:\n%s", logs)
	}
}

// "Secrets only on the command line are readable by any local user":
// --secret-file and --secret-env give them another way, in the order
// given with --secret.
func TestServeSecretSources(t *testing.T) {
	file := writeFile(t, "stripe.secret", otherSecret+"\n")
	t.Setenv("HOOKGUARD_TEST_GITHUB_SECRET", testSecret)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret-file", "stripe="+file, "--secret", "stripe="+testSecret,
		"--secret-env", "github=HOOKGUARD_TEST_GITHUB_SECRET")
	client := &http.Client{Timeout: 10 * time.Second}
	for i, tc := range []struct{ provider, secret, body string }{
		{"stripe", otherSecret, `{"id":"evt_file","object":"event","type":"a"}`},
		{"stripe", testSecret, `{"id":"evt_inline","object":"event","type":"a"}`},
		{"github", testSecret, `{"zen":"env"}`},
	} {
		p, err := providers.New(tc.provider, tc.secret)
		if err != nil {
			t.Fatal(err)
		}
		o, err := signOutgoing(p, providers.Outgoing{Body: []byte(tc.body), Type: "ping", URL: "http://" + srv.addr + "/webhooks/" + tc.provider})
		if err != nil {
			t.Fatal(err)
		}
		res, err := send(context.Background(), client, o)
		if err != nil || res.Status != http.StatusOK {
			t.Errorf("%d: %s signed with its secret = %d, %v; want 200", i, tc.provider, res.Status, err)
		}
	}
	line := waitLine(t, srv.stdout)
	if !strings.Contains(line, "evt_file") && !strings.Contains(line, "evt_inline") && !strings.Contains(line, "github") {
		t.Errorf("event line %q", line)
	}
	if logs := srv.stderr.String(); strings.Contains(logs, otherSecret) || strings.Contains(logs, testSecret) {
		t.Errorf("serve logged a secret:\n%s", logs)
	}
}

func TestSecretSourceErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	newline := filepath.Join(dir, "newline")
	for path, data := range map[string]string{empty: "", newline: "\n"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "missing")
	t.Setenv("HOOKGUARD_TEST_EMPTY", "")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--secret-file", "stripe=" + empty}, []string{"stripe", empty, "empty secret"}},
		{[]string{"serve", "--secret-file", "stripe=" + newline}, []string{"stripe", newline, "empty secret"}},
		{[]string{"serve", "--secret-file", "stripe=" + missing}, []string{"stripe", missing}},
		{[]string{"serve", "--secret-env", "stripe=HOOKGUARD_TEST_UNSET_VAR"}, []string{"stripe", "HOOKGUARD_TEST_UNSET_VAR", "not set"}},
		{[]string{"serve", "--secret-env", "stripe=HOOKGUARD_TEST_EMPTY"}, []string{"stripe", "HOOKGUARD_TEST_EMPTY", "empty"}},
		{[]string{"serve", "--secret-file", "stripe"}, []string{"--secret-file 1", "PROVIDER=PATH"}},
		{[]string{"sign", "--provider", "stripe", "--secret-env", "HOOKGUARD_TEST_UNSET_VAR"}, []string{"HOOKGUARD_TEST_UNSET_VAR", "not set"}},
		{[]string{"verify", "--provider", "stripe", "--secret-file", empty}, []string{empty, "empty secret"}},
		{[]string{"send", "--provider", "stripe", "--secret-file", missing, "http://127.0.0.1:1/"}, []string{missing}},
		{[]string{"sign", "--provider", "stripe", "--secret", testSecret, "--secret-file", newline}, []string{"2 secrets given"}},
	} {
		got := runCmd(t, "{}", tc.args...)
		if got.code != exitUsage {
			t.Errorf("%q = exit %d; want %d\n%s", tc.args, got.code, exitUsage, got.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(got.stderr, w) {
				t.Errorf("%q: stderr %q lacks %q", tc.args, got.stderr, w)
			}
		}
	}
}

// sign, verify and send read their secret from a file or the environment
// as well; a file's one trailing newline is not part of the secret.
func TestSecretFileSignVerify(t *testing.T) {
	file := writeFile(t, "secret", testSecret+"\r\n")
	t.Setenv("HOOKGUARD_TEST_SECRET", testSecret)
	body := `{"id":"evt_1","object":"event","type":"a"}`
	signed := runCmd(t, body, "sign", "--provider", "stripe", "--secret-file", file, "--timestamp", "1700000000")
	if signed.code != 0 {
		t.Fatalf("sign --secret-file = %d\n%s", signed.code, signed.stderr)
	}
	args := append([]string{"verify", "--provider", "stripe", "--secret-env", "HOOKGUARD_TEST_SECRET", "--now", "1700000000"}, headerArgs(signed.stdout)...)
	if got := runCmd(t, body, args...); got.code != 0 || !strings.HasPrefix(got.stdout, "valid") {
		t.Errorf("verify --secret-env of sign --secret-file = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
}

// Issue 15, finding 9: a Mailgun event type (unsigned) holding escape
// sequences set the terminal title, cleared the screen and added a fake
// "secret:" line to verify's output. Fields from the request are printed
// escaped.
func TestVerifyEscapesRequestFields(t *testing.T) {
	p, err := providers.New("mailgun", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Info().SignedInBody {
		t.Fatal("mailgun does not report its signature in the body")
	}
	evil := `\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202e\nsecret:    0 (primary)\r`
	body, _, err := p.SignBody(providers.Outgoing{Body: []byte(`{"event-data":{"id":"ev\u001b[1m1","event":"` + evil + `"}}`), Timestamp: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	got := runCmd(t, string(body), "verify", "--provider", "mailgun", "--secret", testSecret, "--now", "1700000000")
	if got.code != 0 {
		t.Fatalf("verify = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if strings.ContainsAny(got.stdout, "\x1b\x07\r\u009b\u202e") {
		t.Errorf("verify printed a control character from the request:\n%q", got.stdout)
	}
	if n := strings.Count(got.stdout, "\nsecret:"); n != 1 {
		t.Errorf("verify printed %d secret lines; want 1:\n%s", n, got.stdout)
	}
	if !strings.Contains(got.stdout, `type:      "\x1b]0;pwned\a\x1b[2J\u009b31m\u202e\nsecret:    0 (primary)\r"`) {
		t.Errorf("the type is not printed quoted and escaped:\n%s", got.stdout)
	}
	// The same body, refused: the error text is escaped too.
	bad := runCmd(t, strings.Replace(string(body), `"signature":"`, `"signature":"00`, 1), "verify", "--provider", "mailgun", "--secret", testSecret, "--now", "1700000000")
	if strings.ContainsAny(bad.stdout+bad.stderr, "\x1b\x07\r") {
		t.Errorf("verify's refusal printed a control character:\n%q", bad.stdout+bad.stderr)
	}
}

func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"invoice.paid":    "invoice.paid",
		"héllo wörld":     "héllo wörld",
		"":                "",
		"a\x1b[2Jb":       `"a\x1b[2Jb"`,
		"\u202eevil":      `"\u202eevil"`,
		"line\nsecret: 0": `"line\nsecret: 0"`,
		`"quoted"`:        `"\"quoted\""`,
		"bad\xffutf8":     `"bad\xffutf8"`,
		"c1\u009b31m":     `"c1\u009b31m"`,
		"del\x7f":         `"del\x7f"`,
		"tab\there":       `"tab\there"`,
		"emoji 🎉 is fine": "emoji 🎉 is fine",
	} {
		if got := termSafe(in); got != want {
			t.Errorf("termSafe(%q) = %s; want %s", in, got, want)
		}
	}
	if got := escapeControls("id \"a\x1b]0;x\x07\" refused\xff"); got != `id "a\x1b]0;x\a" refused\xff` {
		t.Errorf("escapeControls = %s", got)
	}
}

func FuzzTermSafe(f *testing.F) {
	f.Add("invoice.paid")
	f.Add("\x1b]0;t\x07\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{termSafe(s), escapeControls(s), quoteSafe(s)} {
			if !printableText(out) {
				t.Fatalf("output %q of %q holds a control character", out, s)
			}
		}
	})
}

// serve's event lines are JSON: encoding/json escapes C0 controls but
// leaves DEL, C1 controls (CSI) and bidirectional overrides raw.
func TestJSONLinesEscapeTerminalControls(t *testing.T) {
	var buf syncBuffer
	j := &jsonLines{w: &buf}
	id := "evt\x1b[2J\u009b31m\x7f\u202e\U000E0041🎉é"
	if err := j.write(eventLine{Provider: "stripe", ID: id}); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSuffix(buf.String(), "\n")
	if !printableText(line) {
		t.Errorf("event line %q holds a terminal control character", line)
	}
	var back eventLine
	if err := json.Unmarshal([]byte(line), &back); err != nil || back.ID != id {
		t.Errorf("event line %s decodes to %q, %v; want the ID back", line, back.ID, err)
	}
}

// Error texts printed by demo and send may quote what a server sent.
func TestErrorTextsAreEscaped(t *testing.T) {
	err := errors.New("malformed HTTP response \"\x1b]0;pwned\x07\"")
	var b strings.Builder
	printDemoTable(&b, []demoRow{{provider: "stripe", name: "valid", err: err}})
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Errorf("demo table holds a control character: %q", b.String())
	}
	if s := shortError(err); strings.ContainsAny(s, "\x1b\x07") {
		t.Errorf("send's error line holds a control character: %q", s)
	}
}

// Whatever the Host header, the guard never panics, and it admits only
// localhost, loopback addresses, the --ui-addr host and the connection's
// own address, each with the listener's port.
func FuzzUIGuardHost(f *testing.F) {
	for _, h := range []string{"localhost:4040", "127.0.0.1:4040", "[::1]:4040", "attacker.example:4040", "[::1", "]:", "devbox.lan:4040", "192.168.1.20:4040", ""} {
		f.Add(h)
	}
	g := newUIGuard("devbox.lan:4040", &net.TCPAddr{Port: 4040})
	local := &net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 4040}
	f.Fuzz(func(t *testing.T, host string) {
		if !g.hostAllowed(host, local) {
			return
		}
		h, port, err := net.SplitHostPort(host)
		if err != nil || port != "4040" {
			t.Fatalf("admitted %q without the listener's port", host)
		}
		h = strings.ToLower(h)
		ip := net.ParseIP(h)
		if h != "localhost" && h != "devbox.lan" && (ip == nil || !(ip.IsLoopback() || ip.Equal(local.IP))) {
			t.Fatalf("admitted Host %q", host)
		}
	})
}

// Whatever serve's secret arguments, parsing never panics and an error
// never holds an inline secret.
func FuzzSecretArgs(f *testing.F) {
	f.Add("stripe=whsec_abc", "github=zzz")
	f.Add("=secretvalue", "stripe")
	f.Add("paypal=secretvalue", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		var l secretList
		for _, s := range []string{a, b} {
			_ = secretFlag{&l, secretInline}.Set(s)
		}
		ps, err := l.perProvider(&env{})
		if err == nil {
			_, err = parseProviderSecrets(ps)
		}
		if err == nil {
			return
		}
		for _, s := range []string{a, b} {
			_, v, ok := strings.Cut(s, "=")
			// (A "secret" that is a run of the provider list the error
			// suggests would match that list.)
			if ok && len(v) >= 8 && strings.Contains(err.Error(), v) && !strings.Contains(strings.Join(providers.Names(), ", "), v) {
				t.Fatalf("error %q holds the secret %q", err, v)
			}
		}
	})
}

// BenchmarkJSONLinesEscape measures the cost of escaping terminal
// controls in serve's event lines: compare "escaped" with "marshal only",
// the baseline.
func BenchmarkJSONLinesEscape(b *testing.B) {
	ev := eventLine{Provider: "stripe", ID: "evt_1NRCRwLkdIwHu7ix0Cpmw3Ll", Type: "invoice.paid", Attempt: 1, ReceivedAt: time.Unix(1700000000, 0)}
	b.Run("marshal only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			line, _ := json.Marshal(ev)
			_ = append(line, '\n')
		}
	})
	b.Run("escaped", func(b *testing.B) {
		b.ReportAllocs()
		j := &jsonLines{w: io.Discard}
		for b.Loop() {
			_ = j.write(ev)
		}
	})
}

// serve receives Twilio's SharedKey (HMAC-SHA256) deliveries with
// --shared-key, and then refuses the auth token's SHA-1 form; --shared-key
// without twilio is a usage error.
func TestServeTwilioSharedKey(t *testing.T) {
	const public = "https://hooks.example.com"
	const keyID = "SK00000000000000000000000000000001"
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "twilio="+testSecret, "--public-url", public, "--shared-key", keyID)
	sha256Signer, err := providers.New("twilio", testSecret, providers.WithSharedKey(keyID))
	if err != nil {
		t.Fatal(err)
	}
	sha1Signer, err := providers.New("twilio", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name string
		p    providers.Provider
		want int
	}{
		{"SharedKey HMAC-SHA256", sha256Signer, http.StatusOK},
		{"auth token HMAC-SHA1", sha1Signer, http.StatusUnauthorized},
	} {
		body := []byte("CallSid=CA1&From=%2B14158675309&Case=" + url.QueryEscape(tc.name))
		o, err := signOutgoing(tc.p, providers.Outgoing{Body: body, URL: public + "/webhooks/twilio", ContentType: "application/x-www-form-urlencoded"})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/webhooks/twilio", strings.NewReader(string(o.Body)))
		req.Header = o.Header.Clone()
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d; want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "--addr", "127.0.0.1:0", "--secret", "stripe=" + testSecret, "--shared-key", keyID}, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--shared-key applies to twilio only") {
		t.Errorf("--shared-key without twilio: exit %d, %q; want a usage error", code, stderr.String())
	}
}

// Every line serve writes to standard error comes through its slog
// logger, in one format an operator's log pipeline can parse: the listen
// error and the closing counts included, which were printed raw.
func TestServeStderrIsSlogOnly(t *testing.T) {
	slogLine := func(t *testing.T, stderr string) {
		t.Helper()
		for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
			if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") {
				t.Errorf("a line of serve's stderr is not from its logger: %q", line)
			}
		}
	}
	t.Run("run and stop", func(t *testing.T) {
		srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret)
		if code := srv.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
		logs := srv.stderr.String()
		if !strings.Contains(logs, "msg=stopped accepted=0 duplicate=0") {
			t.Errorf("no closing counts in the log:\n%s", logs)
		}
		slogLine(t, logs)
	})
	t.Run("listen error", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := runCmd(t, "", "serve", "--addr", ln.Addr().String(), "--secret", "stripe="+testSecret)
		if got.code != exitFail {
			t.Fatalf("exit %d", got.code)
		}
		slogLine(t, got.stderr)
	})
}

// --tolerance sets the window of the providers that sign a timestamp and
// leaves the others alone: the presets refuse WithTolerance when they have
// no window, so serve must not hand it to them.
func TestServeToleranceWithUntimedProviders(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--secret", "github="+testSecret, "--tolerance", "5m")
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve --tolerance with stripe and github: exit %d\n%s", code, srv.stderr)
	}
}
