package providers_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// Verifying Paddle Billing's published example delivery (from Paddle's Go
// SDK tests): the secret key is used as written, and the event ID and type
// come from the signed body.
func Example_paddle() {
	p, err := providers.NewPaddle("pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr")
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("Paddle-Signature", "ts=1710929255;h1=6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8")
	body := []byte(`{"data":{"id":"pri_01hsdn96k2hxjzsq5yerecdj9j","name":null,"status":"active","quantity":{"maximum":999999,"minimum":1},"tax_mode":"account_setting","product_id":"pro_01hsdn8qp7yydry3x1yeg6a9rv","unit_price":{"amount":"1000","currency_code":"USD"},"custom_data":null,"description":"testing","import_meta":null,"trial_period":null,"billing_cycle":{"interval":"month","frequency":1},"unit_price_overrides":[]},"event_id":"evt_01hsdn97563968dy0szkmgjwh3","event_type":"price.created","occurred_at":"2024-03-20T10:07:35.590857Z","notification_id":"ntf_01hsdn977e920kbgzt6r6c9rqc"}`)

	d, err := p.Verify(verify.Request{Header: h, Body: body}, time.Unix(1710929255, 0).Add(2*time.Second))
	fmt.Println(d.ID, d.Type, err)
	// Output:
	// evt_01hsdn97563968dy0szkmgjwh3 price.created <nil>
}

// GitLab sends its secret token as it is, without signing the body: the
// token is compared in constant time, and because nothing is signed the
// delivery is Replayable, with a Digest of the body under the token to
// dedupe on.
func Example_gitLab() {
	p, err := providers.NewGitLab("my-webhook-token")
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("X-Gitlab-Token", "my-webhook-token")
	h.Set("X-Gitlab-Event", "Push Hook")
	h.Set("Idempotency-Key", "908a6d9e-45fd-46c8-97e6-c4f350f219dd")
	body := []byte(`{"object_kind":"push","ref":"refs/heads/main"}`)

	d, err := p.Verify(verify.Request{Header: h, Body: body}, time.Now())
	fmt.Println(d.Type, d.ID, d.Replayable, err)

	h.Set("X-Gitlab-Token", "guessed-token")
	_, err = p.Verify(verify.Request{Header: h, Body: body}, time.Now())
	fmt.Println(verify.StatusCode(err), err)
	// Output:
	// Push Hook 908a6d9e-45fd-46c8-97e6-c4f350f219dd true <nil>
	// 401 gitlab: X-Gitlab-Token does not match any configured token: check the webhook's secret token
}

// Mailgun carries its signature inside the body; a test sender builds the
// body with SignBody.
func ExamplePreset_SignBody() {
	p, err := providers.NewMailgun("key-example-signing-key")
	if err != nil {
		panic(err)
	}
	sent := time.Unix(1700000000, 0)
	body, h, err := p.SignBody(providers.Outgoing{
		Body:      []byte(`{"event-data":{"event":"delivered","recipient":"alice@example.com"}}`),
		ID:        "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
		Timestamp: sent,
	})
	if err != nil {
		panic(err)
	}
	d, err := p.Verify(verify.Request{Header: h, Body: body}, sent)
	fmt.Println(d.ID, d.Type, err)
	// Output:
	// a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0 delivered <nil>
}
