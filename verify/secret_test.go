package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err, "NewSecret")
	require.False(t, s.IsZero(), "NewSecret returned a zero Secret")
	require.Equal(t, len("whsec_abc"), s.Len(), "NewSecret: Len")
	_, err = verify.NewSecret("")
	assert.ErrorIs(t, err, verify.ErrEmptySecret, "NewSecret(\"\")")
	var zero verify.Secret
	assert.True(t, zero.IsZero(), "zero Secret: IsZero")
	assert.Zero(t, zero.Len(), "zero Secret: Len")
	// NewSecret keys the HMAC with the string's raw bytes, prefix included
	// (the Stripe convention).
	h, err := verify.NewHMAC(verify.SHA256, s)
	require.NoError(t, err)
	m := verify.Message{Body: []byte("x")}
	assert.Equal(t, mustHMAC(t, verify.SHA256, "whsec_abc").AppendSum(nil, 0, &m), h.AppendSum(nil, 0, &m), "NewSecret key differs from the raw string bytes")
}

func TestSecretFromBytesCopies(t *testing.T) {
	key := []byte("original")
	s, err := verify.SecretFromBytes(key)
	require.NoError(t, err)
	h1, _ := verify.NewHMAC(verify.SHA256, s)
	m := verify.Message{Body: []byte("body")}
	before := h1.AppendSum(nil, 0, &m)
	copy(key, "mutated!")
	h2, _ := verify.NewHMAC(verify.SHA256, s)
	assert.Equal(t, before, h2.AppendSum(nil, 0, &m), "mutating the caller's slice changed the Secret's key")
	for _, empty := range [][]byte{nil, {}} {
		_, err := verify.SecretFromBytes(empty)
		assert.ErrorIs(t, err, verify.ErrEmptySecret, "SecretFromBytes(%v)", empty)
	}
}

func TestParseWhsec(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsecTestSecret, "whsec_"))
	require.NoError(t, err)
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
			require.ErrorIs(t, err, tc.wantErr, "ParseWhsec error (a nil want means no error)")
			if err != nil {
				assert.True(t, s.IsZero(), "failed ParseWhsec returned a non-zero Secret")
				if len(tc.in) > len("whsec_") {
					assert.NotContains(t, err.Error(), strings.TrimPrefix(tc.in, "whsec_"), "the error echoes the secret")
				}
			}
		})
	}
	// The decoded key reproduces the reference signature.
	for _, in := range []string{whsecTestSecret, strings.TrimPrefix(whsecTestSecret, "whsec_")} {
		s, err := verify.ParseWhsec(in)
		require.NoError(t, err)
		assert.Equal(t, len(raw), s.Len(), "ParseWhsec(%s...) key length", in[:8])
		h, _ := verify.NewHMAC(verify.SHA256, s)
		m := verify.Message{Prefix: [4]string{whsecTestID, ".", whsecTestTime, "."}, Body: []byte(whsecTestBody)}
		assert.Equal(t, whsecTestSig, string(verify.Base64.AppendEncode(nil, h.AppendSum(nil, 0, &m))), "Standard Webhooks vector: signature")
	}
}

func TestSecretRedaction(t *testing.T) {
	const key = "sk_live_TOPSECRETVALUE"
	s, err := verify.NewSecret(key)
	require.NoError(t, err)
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
	require.NoError(t, err)
	outputs = append(outputs, string(js))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "secret", s, "cfg", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "secret", s, "cfg", cfg, slog.Any("p", &s))
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		for _, leak := range []string{key, "TOPSECRET", hexKey, decimalKey} {
			assert.NotContains(t, out, leak, "output leaks the key")
		}
	}
	assert.Contains(t, fmt.Sprintf("%v", s), "REDACTED", "%%v must show a redaction marker")
	assert.Contains(t, string(js), "REDACTED", "json must show a redaction marker for the exported field")
	assert.Contains(t, buf.String(), "REDACTED", "slog output must show a redaction marker")
}
