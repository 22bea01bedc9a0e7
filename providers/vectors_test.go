package providers

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Published test vectors, each verified byte for byte: the body, the
// secret, the timestamp and the expected signature are the source's own.

// stripeVectorBody is src/StripeTests/Resources/event_test_signature.json
// of stripe/stripe-dotnet, including its final newline, kept byte for byte
// in testdata/vectors (the hardening tests send the same file end to end).
var stripeVectorBody = readVector("stripe-dotnet-event_test_signature.json")

// slackVectorBody is the slash-command body of Slack's "Verifying requests
// from Slack" page, as used by slackapi/python-slack-sdk
// tests/slack_sdk/signature/test_signature_verifier.py.
const slackVectorBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"

type vector struct {
	name     string
	source   string
	provider string
	secret   string
	opts     []Option
	header   http.Header
	body     string
	now      time.Time
	wantID   string
	wantType string
}

func vectors() []vector {
	return []vector{
		{
			name:     "stripe/dotnet",
			source:   "stripe/stripe-dotnet src/StripeTests/Services/Events/EventUtilityTest.cs (v0 entry ignored)",
			provider: "stripe",
			secret:   "webhook_secret",
			header:   hdr("Stripe-Signature", "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef"),
			body:     stripeVectorBody,
			now:      time.Unix(1533204620+100, 0),
			wantID:   "evt_123",
			wantType: "customer.created",
		},
		{
			name:     "github/go-github-sha256",
			source:   "google/go-github github/messages_test.go TestValidatePayload",
			provider: "github",
			secret:   "0123456789abcdef",
			header:   hdr("X-Hub-Signature-256", "sha256=b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b", "X-GitHub-Event", "ping", "X-GitHub-Delivery", "dead-beef"),
			body:     `{"yo":true}`,
			wantID:   "dead-beef",
			wantType: "ping",
		},
		{
			name:     "github/go-github-sha1",
			source:   "google/go-github github/messages_test.go TestValidatePayload (defaultSignature)",
			provider: "github",
			secret:   "0123456789abcdef",
			opts:     []Option{WithLegacySHA1()},
			header:   hdr("X-Hub-Signature", "sha1=126f2c800419c60137ce748d7672e77b65cf16d6", "X-GitHub-Event", "ping"),
			body:     `{"yo":true}`,
			wantType: "ping",
		},
		{
			name:     "github/docs",
			source:   "github/docs content/webhooks/using-webhooks/validating-webhook-deliveries.md (\"Testing the webhook payload validation\")",
			provider: "github",
			secret:   "It's a Secret to Everybody",
			header:   hdr("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
			body:     "Hello, World!",
		},
		{
			name:     "shopify/shopify-api-js",
			source:   "Shopify/shopify-api-js packages/shopify-api/lib/webhooks/__tests__/validate.test.ts (secret test_secret_key from lib/__tests__/test-helper.ts)",
			provider: "shopify",
			secret:   "test_secret_key",
			header: hdr("X-Shopify-Hmac-Sha256", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
				"X-Shopify-Webhook-Id", "123456789", "X-Shopify-Topic", "PRODUCTS_CREATE"),
			body:     `{"foo": "bar"}`,
			wantID:   "123456789",
			wantType: "PRODUCTS_CREATE",
		},
		{
			name:     "slack/python-slack-sdk",
			source:   "slackapi/python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py",
			provider: "slack",
			secret:   "8f742231b10e8888abcd99yyyzzz85a5",
			header: hdr("X-Slack-Request-Timestamp", "1531420618",
				"X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
			body: slackVectorBody,
			now:  time.Unix(1531420618, 0),
		},
		{
			name:     "standardwebhooks/go",
			source:   "standard-webhooks/standard-webhooks libraries/go/webhook_test.go TestWebhookSign",
			provider: "standardwebhooks",
			secret:   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			header: hdr("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			body:   `{"test": 2432232314}`,
			now:    time.Unix(1614265330, 0),
			wantID: "msg_p5jXN8AQM9LWM0D4loKWxJek",
		},
		{
			name:     "svix/go",
			source:   "svix/svix-webhooks go/webhook_test.go TestWebhookSign",
			provider: "svix",
			secret:   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			header: hdr("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "svix-timestamp", "1614265330",
				"svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			body:   `{"test": 2432232314}`,
			now:    time.Unix(1614265330, 0),
			wantID: "msg_p5jXN8AQM9LWM0D4loKWxJek",
		},
		{
			name:     "svix/go-unbranded",
			source:   "svix/svix-webhooks go/webhook_test.go (\"valid unbranded signature is valid\") with the TestWebhookSign vector",
			provider: "svix",
			secret:   "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // without prefix, as TestWebhookPrefix allows
			header: hdr("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			body:   `{"test": 2432232314}`,
			now:    time.Unix(1614265330, 0),
			wantID: "msg_p5jXN8AQM9LWM0D4loKWxJek",
		},
	}
}

func TestPublishedVectors(t *testing.T) {
	for _, v := range vectors() {
		t.Run(v.name, func(t *testing.T) {
			p := mustNew(t, v.provider, v.secret, v.opts...)
			d, err := p.Verify(request(v.header, v.body), v.now)
			require.NoError(t, err, "Verify (%s)", v.source)
			assert.Equal(t, v.provider, d.Provider, "Provider")
			assert.Equal(t, v.wantID, d.ID, "ID")
			assert.Equal(t, v.wantType, d.Type, "Type")
			assert.Equal(t, 0, d.SecretIndex, "SecretIndex")
			if p.Info().Timestamped && v.provider != "stripe" {
				assert.WithinDuration(t, v.now, d.Timestamp, 0, "Timestamp")
			}
			// One byte more in the body breaks every vector.
			_, err = p.Verify(request(v.header, v.body+" "), v.now)
			assert.Error(t, err, "Verify accepted a body with one byte appended")
		})
	}
}

// TestSignReproducesVectors checks that Sign produces the published
// signature header exactly, for the presets whose vectors carry a single
// signature and a header-borne ID.
func TestSignReproducesVectors(t *testing.T) {
	tests := []struct {
		name, provider, secret string
		o                      Outgoing
		header, want           string
	}{
		{"stripe", "stripe", "webhook_secret", Outgoing{Body: []byte(stripeVectorBody), Timestamp: time.Unix(1533204620, 0)},
			"Stripe-Signature", "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7"},
		{"github", "github", "0123456789abcdef", Outgoing{Body: []byte(`{"yo":true}`)},
			"X-Hub-Signature-256", "sha256=b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b"},
		{"shopify", "shopify", "test_secret_key", Outgoing{Body: []byte(`{"foo": "bar"}`)},
			"X-Shopify-Hmac-Sha256", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="},
		{"slack", "slack", "8f742231b10e8888abcd99yyyzzz85a5", Outgoing{Body: []byte(slackVectorBody), Timestamp: time.Unix(1531420618, 0)},
			"X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
		{"standardwebhooks", "standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Outgoing{Body: []byte(`{"test": 2432232314}`), ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)},
			"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"svix", "svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Outgoing{Body: []byte(`{"test": 2432232314}`), ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)},
			"svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := mustNew(t, tt.provider, tt.secret).Sign(tt.o)
			require.NoError(t, err)
			assert.Equal(t, tt.want, h.Get(tt.header), tt.header)
		})
	}
}

// readVector returns a file of testdata/vectors, as a string.
func readVector(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}
