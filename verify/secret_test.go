package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
)

// The Standard Webhooks reference test secret and signature, from
// standard-webhooks/standard-webhooks libraries/go/webhook_test.go
// (TestWebhookSign).
const (
	whsecTestSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	whsecTestID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	whsecTestTime   = "1614265330"
	whsecTestBody   = `{"test": 2432232314}`
	whsecTestSig    = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestNewSecret(t *testing.T) {
	s, err := verify.NewSecret("whsec_abc")
	if err != nil || s.IsZero() || s.Len() != len("whsec_abc") {
		t.Fatalf("NewSecret = Len %d, IsZero %v, err %v", s.Len(), s.IsZero(), err)
	}
	if _, err := verify.NewSecret(""); !errors.Is(err, verify.ErrEmptySecret) {
		t.Errorf("NewSecret(\"\") error = %v, want ErrEmptySecret", err)
	}
	var zero verify.Secret
	if !zero.IsZero() || zero.Len() != 0 {
		t.Errorf("zero Secret: IsZero %v, Len %d", zero.IsZero(), zero.Len())
	}
	// NewSecret keys the HMAC with the string's raw bytes, prefix included
	// (the Stripe convention).
	h, err := verify.NewHMAC(verify.SHA256, s)
	if err != nil {
		t.Fatal(err)
	}
	m := verify.Message{Body: []byte("x")}
	if got, want := h.AppendSum(nil, 0, &m), mustHMAC(t, verify.SHA256, "whsec_abc").AppendSum(nil, 0, &m); !bytes.Equal(got, want) {
		t.Errorf("NewSecret key differs from the raw string bytes")
	}
}

func TestSecretFromBytesCopies(t *testing.T) {
	key := []byte("original")
	s, err := verify.SecretFromBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := verify.NewHMAC(verify.SHA256, s)
	m := verify.Message{Body: []byte("body")}
	before := h1.AppendSum(nil, 0, &m)
	copy(key, "mutated!")
	h2, _ := verify.NewHMAC(verify.SHA256, s)
	if after := h2.AppendSum(nil, 0, &m); !bytes.Equal(before, after) {
		t.Error("mutating the caller's slice changed the Secret's key")
	}
	for _, empty := range [][]byte{nil, {}} {
		if _, err := verify.SecretFromBytes(empty); !errors.Is(err, verify.ErrEmptySecret) {
			t.Errorf("SecretFromBytes(%v) error = %v, want ErrEmptySecret", empty, err)
		}
	}
}

func TestParseWhsec(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsecTestSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"with prefix", whsecTestSecret, nil},
		{"without prefix", strings.TrimPrefix(whsecTestSecret, "whsec_"), nil},
		{"url alphabet", "whsec_" + base64.RawURLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 1, 2, 3}), nil},
		{"empty", "", verify.ErrEmptySecret},
		{"prefix only", "whsec_", verify.ErrEmptySecret},
		{"invalid base64", "whsec_!!!not-base64!!!", verify.ErrInvalidSecret},
		{"truncated base64", "whsec_Q", verify.ErrInvalidSecret},
		{"only padding", "whsec_==", verify.ErrInvalidSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := verify.ParseWhsec(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseWhsec error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !s.IsZero() {
					t.Error("failed ParseWhsec returned a non-zero Secret")
				}
				if len(tc.in) > len("whsec_") && strings.Contains(err.Error(), strings.TrimPrefix(tc.in, "whsec_")) {
					t.Errorf("error %q echoes the secret", err)
				}
			}
		})
	}
	// The decoded key reproduces the reference signature.
	for _, in := range []string{whsecTestSecret, strings.TrimPrefix(whsecTestSecret, "whsec_")} {
		s, err := verify.ParseWhsec(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != len(raw) {
			t.Errorf("ParseWhsec(%s...) key length = %d, want %d", in[:8], s.Len(), len(raw))
		}
		h, _ := verify.NewHMAC(verify.SHA256, s)
		m := verify.Message{Prefix: [4]string{whsecTestID, ".", whsecTestTime, "."}, Body: []byte(whsecTestBody)}
		if got := string(verify.Base64.AppendEncode(nil, h.AppendSum(nil, 0, &m))); got != whsecTestSig {
			t.Errorf("Standard Webhooks vector: signature %s, want %s", got, whsecTestSig)
		}
	}
}

func TestSecretRedaction(t *testing.T) {
	const key = "sk_live_TOPSECRETVALUE"
	s, err := verify.NewSecret(key)
	if err != nil {
		t.Fatal(err)
	}
	type config struct {
		Name   string
		Public verify.Secret
		hidden verify.Secret
		ptr    *verify.Secret
	}
	cfg := config{Name: "svc", Public: s, hidden: s, ptr: &s}
	hexKey := fmt.Sprintf("%x", key)
	decimalKey := strings.Trim(fmt.Sprint([]byte(key)), "[]")

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s), fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg),
			fmt.Sprintf(verb, []verify.Secret{s}), fmt.Sprintf(verb, map[string]verify.Secret{"k": s}))
	}
	outputs = append(outputs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(cfg))

	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "secret", s, "cfg", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "secret", s, "cfg", cfg, slog.Any("p", &s))
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		for _, leak := range []string{key, "TOPSECRET", hexKey, decimalKey} {
			if strings.Contains(out, leak) {
				t.Errorf("output leaks the key (%q): %s", leak, out)
			}
		}
	}
	if got := fmt.Sprintf("%v", s); !strings.Contains(got, "REDACTED") {
		t.Errorf("%%v = %q, want a redaction marker", got)
	}
	if !strings.Contains(string(js), "REDACTED") {
		t.Errorf("json = %s, want a redaction marker for the exported field", js)
	}
	if !strings.Contains(buf.String(), "REDACTED") {
		t.Errorf("slog output %q has no redaction marker", buf.String())
	}
}
