package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
)

// acmeScheme is a custom scheme: the ID, the timestamp and the body under
// HMAC-SHA256, hex behind "v1=".
const acmeScheme = `{
  "name": "acme",
  "header": "X-Acme-Signature",
  "prefix": "v1=",
  "algorithm": "hmac-sha256",
  "encoding": "hex",
  "signed": "{id}.{timestamp}.{body}",
  "timestamp": {"header": "X-Acme-Timestamp"},
  "id": [{"header": "X-Acme-Delivery"}],
  "type": [{"json": ["type"]}]
}`

// stripeScheme describes the Stripe preset, as in
// providers/testdata/schemes/stripe.json.
const stripeScheme = `{
  "name": "stripe",
  "header": "Stripe-Signature",
  "separator": "comma",
  "version_key": "v1",
  "algorithm": "hmac-sha256",
  "encoding": "hex",
  "signed": "{timestamp}.{body}",
  "timestamp": {"key": "t"},
  "id": [{"json": ["id"]}],
  "type": [{"json": ["type"]}]
}`

func TestSchemeFlagSignAndVerify(t *testing.T) {
	scheme := writeFile(t, "acme.json", acmeScheme)
	body := writeFile(t, "body.json", `{"type":"order.paid"}`)
	signed := runCmd(t, "", "sign", "--scheme", scheme, "--secret", testSecret, "--timestamp", testTimestamp, "--id", "dlv_1", "--body", body)
	if signed.code != 0 {
		t.Fatalf("sign --scheme = exit %d: %s", signed.code, signed.stderr)
	}
	for _, want := range []string{"X-Acme-Delivery: dlv_1\n", "X-Acme-Timestamp: " + testTimestamp + "\n", "X-Acme-Signature: v1="} {
		if !strings.Contains(signed.stdout, want) {
			t.Errorf("sign output lacks %q:\n%s", want, signed.stdout)
		}
	}
	verifyArgs := func(bodyPath string, extra ...string) []string {
		args := append([]string{"verify", "--scheme", scheme, "--secret", testSecret, "--now", testTimestamp, "--body", bodyPath}, headerArgs(signed.stdout)...)
		return append(args, extra...)
	}
	got := runCmd(t, "", verifyArgs(body)...)
	if got.code != 0 || !strings.Contains(got.stdout, "valid\n") || !strings.Contains(got.stdout, "acme") ||
		!strings.Contains(got.stdout, "dlv_1") || !strings.Contains(got.stdout, "order.paid") {
		t.Fatalf("verify --scheme = exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	// Rotation secrets work as for presets.
	got = runCmd(t, "", verifyArgs(body, "--secret", otherSecret)...)
	if got.code != 0 {
		t.Errorf("verify with a second secret = exit %d: %s", got.code, got.stdout)
	}
	tampered := writeFile(t, "tampered.json", `{"type":"order.paid "}`)
	got = runCmd(t, "", verifyArgs(tampered)...)
	if got.code != 1 || !strings.Contains(got.stdout, "invalid: acme:") {
		t.Errorf("verify --scheme of a tampered body = exit %d, stdout %q; want 1 and invalid", got.code, got.stdout)
	}
	got = runCmd(t, "", verifyArgs(body, "--now", "1700001000")...)
	if got.code != 1 || !strings.Contains(got.stdout, "older than the replay window") {
		t.Errorf("verify --scheme 1000 s later = exit %d, stdout %q; want 1 and a stale timestamp", got.code, got.stdout)
	}
}

// TestSchemeFlagMatchesPreset checks that sign prints the same headers for
// --provider stripe and for --scheme describing Stripe, and that each
// verifies the other's output.
func TestSchemeFlagMatchesPreset(t *testing.T) {
	scheme := writeFile(t, "stripe.json", stripeScheme)
	body := writeFile(t, "body.json", eventBody("stripe"))
	preset := runCmd(t, "", signArgs("stripe", testSecret, body)...)
	custom := runCmd(t, "", "sign", "--scheme", scheme, "--secret", testSecret, "--timestamp", testTimestamp, "--body", body)
	if preset.code != 0 || custom.code != 0 {
		t.Fatalf("sign: exit %d / %d: %s %s", preset.code, custom.code, preset.stderr, custom.stderr)
	}
	sigLine := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "Stripe-Signature:") {
				return l
			}
		}
		return ""
	}
	if sigLine(custom.stdout) == "" || sigLine(custom.stdout) != sigLine(preset.stdout) {
		t.Fatalf("--scheme signed %q, --provider stripe %q", sigLine(custom.stdout), sigLine(preset.stdout))
	}
	for _, tc := range []struct {
		flag, value, headers string
	}{
		{"--scheme", scheme, preset.stdout},
		{"--provider", "stripe", custom.stdout},
	} {
		args := append([]string{"verify", tc.flag, tc.value, "--secret", testSecret, "--now", testTimestamp, "--body", body}, headerArgs(tc.headers)...)
		if got := runCmd(t, "", args...); got.code != 0 || !strings.Contains(got.stdout, "evt_test_1") {
			t.Errorf("verify %s = exit %d: %s%s", tc.flag, got.code, got.stdout, got.stderr)
		}
	}
}

func TestSchemeFlagUsageErrors(t *testing.T) {
	scheme := writeFile(t, "acme.json", acmeScheme)
	body := writeFile(t, "body.json", "{}")
	bad := writeFile(t, "bad.json", strings.Replace(acmeScheme, `"hmac-sha256"`, `"hmac-md5"`, 1))
	unknown := writeFile(t, "unknown.json", strings.Replace(acmeScheme, `"name"`, `"secret":"`+testSecret+`","name"`, 1))
	urlScheme := writeFile(t, "url.json", strings.Replace(acmeScheme, `{id}.{timestamp}.{body}`, `{url}{id}.{timestamp}.{body}`, 1))
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"sign both", []string{"sign", "--provider", "stripe", "--scheme", scheme, "--secret", testSecret, "--body", body}, "alternatives"},
		{"verify both", []string{"verify", "--provider", "stripe", "--scheme", scheme, "--secret", testSecret, "--body", body}, "alternatives"},
		{"sign neither", []string{"sign", "--secret", testSecret, "--body", body}, "or --scheme FILE"},
		{"verify missing file", []string{"verify", "--scheme", scheme + ".missing", "--secret", testSecret, "--body", body}, "--scheme"},
		{"verify scheme on stdin", []string{"verify", "--scheme", "-", "--secret", testSecret, "--body", body}, "needs a file"},
		{"verify invalid scheme", []string{"verify", "--scheme", bad, "--secret", testSecret, "--body", body}, `algorithm "hmac-md5" is unknown`},
		{"sign unknown field", []string{"sign", "--scheme", unknown, "--secret", testSecret, "--body", body}, `unknown field "secret"`},
		{"sign a scheme that signs the URL, without --url", []string{"sign", "--scheme", urlScheme, "--secret", testSecret, "--body", body}, "Outgoing.URL"},
		{"serve scheme without secret", []string{"serve", "--scheme", scheme, "--secret", "stripe=" + testSecret}, "add --secret acme=SECRET"},
		{"serve two schemes of one name", []string{"serve", "--scheme", scheme, "--scheme", scheme, "--secret", "acme=" + testSecret}, "also named"},
		{"serve invalid scheme", []string{"serve", "--scheme", bad, "--secret", "acme=" + testSecret}, "invalid scheme"},
		{"serve secret of an unknown name", []string{"serve", "--scheme", scheme, "--secret", "acme=" + testSecret, "--secret", "acne=" + testSecret}, `unknown provider "acne"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCmd(t, "", tt.args...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", got.code, got.stderr, exitUsage, tt.wantStderr)
			}
			if strings.Contains(got.stderr, testSecret) {
				t.Errorf("stderr echoes the secret: %q", got.stderr)
			}
		})
	}
}

func TestServeScheme(t *testing.T) {
	// acme is a custom scheme; "stripe" here is a scheme file that takes
	// the place of the preset of that name.
	srv := startServe(t, "--addr", "127.0.0.1:0",
		"--scheme", writeFile(t, "acme.json", acmeScheme), "--secret", "acme="+testSecret,
		"--scheme", writeFile(t, "stripe.json", stripeScheme), "--secret", "stripe="+otherSecret, "--secret", "github="+testSecret)
	client := &http.Client{Timeout: 10 * time.Second}
	ctx := context.Background()

	s, err := providers.ParseScheme([]byte(acmeScheme))
	if err != nil {
		t.Fatal(err)
	}
	acme, err := providers.NewCustom(s, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + srv.addr + "/webhooks/acme"
	req, err := signOutgoing(acme, providers.Outgoing{Body: []byte(`{"type":"order.paid"}`), ID: "dlv_serve_1", URL: url})
	if err != nil {
		t.Fatal(err)
	}
	res, err := send(ctx, client, req)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("POST a signed acme event = %d, %v (%s); want 200", res.Status, err, res.Body)
	}
	var line eventLine
	if raw := waitLine(t, srv.stdout); json.Unmarshal([]byte(raw), &line) != nil || line.Provider != "acme" || line.ID != "dlv_serve_1" || line.Type != "order.paid" {
		t.Errorf("event line %q; want acme dlv_serve_1 order.paid", raw)
	}
	tampered := req.clone()
	tampered.Header.Set("X-Acme-Delivery", "dlv_serve_2") // the ID is signed
	if res, err := send(ctx, client, tampered); err != nil || res.Status != http.StatusUnauthorized {
		t.Errorf("POST with a changed signed ID = %d, %v; want 401", res.Status, err)
	}

	stripe, err := providers.New("stripe", otherSecret)
	if err != nil {
		t.Fatal(err)
	}
	req, err = signOutgoing(stripe, providers.Outgoing{Body: []byte(eventBody("stripe")), URL: "http://" + srv.addr + "/webhooks/stripe"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := send(ctx, client, req); err != nil || res.Status != http.StatusOK {
		t.Fatalf("POST a Stripe event to the stripe scheme = %d, %v (%s); want 200", res.Status, err, res.Body)
	}
	if raw := waitLine(t, srv.stdout); json.Unmarshal([]byte(raw), &line) != nil || line.Provider != "stripe" || line.ID != "evt_test_1" {
		t.Errorf("event line %q; want stripe evt_test_1", raw)
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve exit %d; stderr:\n%s", code, srv.stderr)
	}
}

func TestSendScheme(t *testing.T) {
	scheme := writeFile(t, "acme.json", acmeScheme)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--scheme", scheme, "--secret", "acme="+testSecret)
	url := "http://" + srv.addr + "/webhooks/acme"
	body := writeFile(t, "body.json", `{"type":"order.paid"}`)
	got := runCmd(t, "", "send", "--scheme", scheme, "--secret", testSecret, "--body", body, "--count", "3", url)
	if got.code != 0 || !strings.Contains(got.stdout, "200") {
		t.Fatalf("send --scheme = exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	for range 3 {
		var line eventLine
		if raw := waitLine(t, srv.stdout); json.Unmarshal([]byte(raw), &line) != nil || line.Provider != "acme" || line.Type != "order.paid" {
			t.Errorf("event line %q; want an acme order.paid", raw)
		}
	}
	got = runCmd(t, "", "send", "--scheme", scheme, "--secret", otherSecret, "--body", body, url)
	if got.code != exitFail || !strings.Contains(got.stdout, "401") {
		t.Errorf("send --scheme with the wrong secret = exit %d, stdout %q; want 1 and 401", got.code, got.stdout)
	}
	got = runCmd(t, "", "send", "--scheme", scheme, "--secret", testSecret, url)
	if got.code != exitUsage || !strings.Contains(got.stderr, "--body") {
		t.Errorf("send --scheme without --body = exit %d, stderr %q; want 2 and a hint to pass --body", got.code, got.stderr)
	}
	got = runCmd(t, "", "send", "--scheme", scheme, "--provider", "stripe", "--secret", testSecret, url)
	if got.code != exitUsage || !strings.Contains(got.stderr, "alternatives") {
		t.Errorf("send with --scheme and --provider = exit %d, stderr %q", got.code, got.stderr)
	}
}
