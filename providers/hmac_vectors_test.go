package providers

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Published test vectors of the shared-secret presets, each verified byte
// for byte: the body, secret, timestamp and expected signature are the
// source's own. Providers that publish none (Bitbucket, Calendly,
// Intercom, Lemon Squeezy, Linear, Mailgun, Postmark, Sentry, Typeform,
// Vercel, GitLab) are checked against crypto/hmac in
// TestHMACPresetsMatchOracle instead.

// paddleVectorBody is testPayload of PaddleHQ/paddle-go-sdk
// webhook_verifier_test.go.
const paddleVectorBody = `{"data":{"id":"pri_01hsdn96k2hxjzsq5yerecdj9j","name":null,"status":"active","quantity":{"maximum":999999,"minimum":1},"tax_mode":"account_setting","product_id":"pro_01hsdn8qp7yydry3x1yeg6a9rv","unit_price":{"amount":"1000","currency_code":"USD"},"custom_data":null,"description":"testing","import_meta":null,"trial_period":null,"billing_cycle":{"interval":"month","frequency":1},"unit_price_overrides":[]},"event_id":"evt_01hsdn97563968dy0szkmgjwh3","event_type":"price.created","occurred_at":"2024-03-20T10:07:35.590857Z","notification_id":"ntf_01hsdn977e920kbgzt6r6c9rqc"}`

const (
	paddleVectorSecret = `pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr`
	paddleVectorSig    = "6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8"
	muxVectorHash      = "854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7"
)

func hmacVectors() []vector {
	svixHeaders := hdr("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "svix-timestamp", "1614265330",
		"svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	return []vector{
		{
			name:     "paddle/go-sdk",
			source:   "PaddleHQ/paddle-go-sdk webhook_verifier_test.go (testSignature, testPayload, testSecretKey)",
			provider: "paddle",
			secret:   paddleVectorSecret,
			header:   hdr("Paddle-Signature", "ts=1710929255;h1="+paddleVectorSig),
			body:     paddleVectorBody,
			now:      time.Unix(1710929255, 0),
			wantID:   "evt_01hsdn97563968dy0szkmgjwh3",
			wantType: "price.created",
		},
		{
			name:     "paddle/go-sdk-two-h1",
			source:   "the PaddleHQ/paddle-go-sdk vector with a second, foreign h1 first, as during a rotation (developer.paddle.com: \"Signatures contain at least one h1\")",
			provider: "paddle",
			secret:   paddleVectorSecret,
			header:   hdr("Paddle-Signature", "ts=1710929255;h1=0000000000000000000000000000000000000000000000000000000000000000;h1="+paddleVectorSig),
			body:     paddleVectorBody,
			now:      time.Unix(1710929255, 0),
			wantID:   "evt_01hsdn97563968dy0szkmgjwh3",
			wantType: "price.created",
		},
		{
			name:     "mux/node-sdk",
			source:   "muxinc/mux-node-sdk tests/api-resources/webhooks.test.ts (\"should pass for valid signature\")",
			provider: "mux",
			secret:   "SuperSecret123",
			header:   hdr("Mux-Signature", "t=1565125718,v1="+muxVectorHash),
			body:     `{"test":"body"}`,
			now:      time.Unix(1565125718, 0),
		},
		{
			name:     "mux/node-sdk-multiple",
			source:   "muxinc/mux-node-sdk tests/api-resources/webhooks.test.ts (\"should pass for multiple signatures\")",
			provider: "mux",
			secret:   "SuperSecret123",
			header:   hdr("Mux-Signature", "t=1565125718,v1=invalid-sig,v1="+muxVectorHash),
			body:     `{"test":"body"}`,
			now:      time.Unix(1565125718, 0),
		},
		{
			name:     "mux/node-sdk-other-version",
			source:   "muxinc/mux-node-sdk tests/api-resources/webhooks.test.ts (\"should pass for multiple signatures with different version\")",
			provider: "mux",
			secret:   "SuperSecret123",
			header:   hdr("Mux-Signature", "t=1565125718,v2="+muxVectorHash+",v1="+muxVectorHash),
			body:     `{"test":"body"}`,
			now:      time.Unix(1565125718, 0),
		},
		{
			name:     "mux/node-sdk-unwrap-times",
			source:   "muxinc/mux-node-sdk tests/api-resources/webhooks.test.ts (\"unwrap_times\")",
			provider: "mux",
			secret:   "SuperSecret123",
			header:   hdr("Mux-Signature", "t=1565125718,v1=bd315c24bce1c2b8ad325696f26530c8ef7d7d830afb7c1381903705d04607be"),
			body:     `{"test":{"nested":{"nanos":718234, "seconds":1691711005}}}`,
			now:      time.Unix(1565125718, 0),
		},
		{
			name:     "clerk/svix-go",
			source:   "svix/svix-webhooks go/webhook_test.go TestWebhookSign (Clerk delivers through Svix)",
			provider: "clerk",
			secret:   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			header:   svixHeaders,
			body:     `{"test": 2432232314}`,
			now:      time.Unix(1614265330, 0),
			wantID:   "msg_p5jXN8AQM9LWM0D4loKWxJek",
		},
		{
			name:     "resend/svix-go",
			source:   "svix/svix-webhooks go/webhook_test.go TestWebhookSign (Resend signs with the Svix scheme)",
			provider: "resend",
			secret:   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			header:   svixHeaders,
			body:     `{"test": 2432232314}`,
			now:      time.Unix(1614265330, 0),
			wantID:   "msg_p5jXN8AQM9LWM0D4loKWxJek",
		},
	}
}

func TestHMACPublishedVectors(t *testing.T) {
	for _, v := range hmacVectors() {
		t.Run(v.name, func(t *testing.T) {
			p := mustNew(t, v.provider, v.secret, v.opts...)
			d, err := p.Verify(request(v.header, v.body), v.now)
			require.NoError(t, err, "Verify (%s)", v.source)
			assert.Equal(t, v.provider, d.Provider, "Provider")
			assert.Equal(t, v.wantID, d.ID, "ID")
			assert.Equal(t, v.wantType, d.Type, "Type")
			assert.Equal(t, 0, d.SecretIndex, "SecretIndex")
			assert.WithinDuration(t, v.now, d.Timestamp, 0, "Timestamp")
			_, err = p.Verify(request(v.header, v.body+" "), v.now)
			assert.Error(t, err, "Verify accepted a body with one byte appended")
			// The SDKs reject these timestamps as too old.
			_, err = p.Verify(request(v.header, v.body), v.now.Add(6*time.Minute))
			assert.Error(t, err, "Verify accepted the vector six minutes later")
		})
	}
}

// TestHMACSignReproducesVectors checks that Sign writes the published
// header exactly.
func TestHMACSignReproducesVectors(t *testing.T) {
	tests := []struct {
		provider, secret string
		o                Outgoing
		header, want     string
	}{
		{"paddle", paddleVectorSecret, Outgoing{Body: []byte(paddleVectorBody), Timestamp: time.Unix(1710929255, 0)},
			"Paddle-Signature", "ts=1710929255;h1=" + paddleVectorSig},
		{"mux", "SuperSecret123", Outgoing{Body: []byte(`{"test":"body"}`), Timestamp: time.Unix(1565125718, 0)},
			"Mux-Signature", "t=1565125718,v1=" + muxVectorHash},
		{"clerk", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Outgoing{Body: []byte(`{"test": 2432232314}`), ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)},
			"svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	for _, tt := range tests {
		h, err := mustNew(t, tt.provider, tt.secret).Sign(tt.o)
		require.NoError(t, err)
		assert.Equal(t, tt.want, h.Get(tt.header), "%s: %s", tt.provider, tt.header)
	}
}

// TestMuxRejectsOtherVersionsOnly follows the Mux SDK: a header with only
// a v2 entry, or only a bare hash, has no usable signature.
func TestMuxRejectsOtherVersionsOnly(t *testing.T) {
	p := mustNew(t, "mux", "SuperSecret123")
	now := time.Unix(1565125718, 0)
	for _, v := range []string{"t=1565125718,v2=" + muxVectorHash, muxVectorHash} {
		_, err := p.Verify(request(http.Header{"Mux-Signature": {v}}, `{"test":"body"}`), now)
		wantErr(t, err, verify.ErrMalformedSignature, "mux")
	}
}
