package providers_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// A Stripe delivery signed with the endpoint secret verifies, and the
// event ID and type come from the body.
func Example_stripe() {
	p, err := providers.NewStripe("whsec_test_secret")
	if err != nil {
		panic(err)
	}
	sent := time.Unix(1700000000, 0)
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded"}`)
	h, err := p.Sign(providers.Outgoing{Body: body, Timestamp: sent})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Get("Stripe-Signature")[:13])

	d, err := p.Verify(verify.Request{Header: h, Body: body}, sent.Add(30*time.Second))
	fmt.Println(d.ID, d.Type, err)

	// Ten minutes later the same request is a replay.
	_, err = p.Verify(verify.Request{Header: h, Body: body}, sent.Add(10*time.Minute))
	fmt.Println(errors.Is(err, verify.ErrTimestampTooOld), verify.StatusCode(err))
	// Output:
	// t=1700000000,
	// evt_1NG8Du2eZvKYlo2CUI79vXWy payment_intent.succeeded <nil>
	// true 401
}

// Verifying a GitHub delivery: the signature covers the body only, so the
// delivery is marked Replayable and carries a Digest to dedupe on.
func Example_gitHub() {
	p, err := providers.NewGitHub("It's a Secret to Everybody")
	if err != nil {
		panic(err)
	}
	// The example from GitHub's "Validating webhook deliveries" page.
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	h.Set("X-GitHub-Event", "ping")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	body := []byte("Hello, World!")

	d, err := p.Verify(verify.Request{Header: h, Body: body}, time.Now())
	fmt.Println(d.Type, d.ID, d.Replayable, err)

	_, err = p.Verify(verify.Request{Header: h, Body: []byte("Hello, World?")}, time.Now())
	fmt.Println(err)
	// Output:
	// ping 72d3162e-cc78-11e3-81ab-4c9367dc0958 true <nil>
	// github: X-Hub-Signature-256 does not match any configured secret: check the webhook's secret, and that nothing re-encoded the body
}

// Presets can be chosen by name, for configuration files and CLIs.
func ExampleNew() {
	p, err := providers.New("slack", "8f742231b10e8888abcd99yyyzzz85a5")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Info().Title, p.Info().Handshake)

	_, err = providers.New("paypal", "secret")
	fmt.Println(errors.Is(err, providers.ErrUnknownProvider))
	// Output:
	// Slack url_verification (answered with the challenge)
	// true
}

// While rotating a secret, accept both; Delivery.SecretIndex tells which one
// matched, so the old one can be removed once it no longer does.
func ExampleWithSecret() {
	oldSender, _ := providers.NewShopify("old-secret")
	p, err := providers.NewShopify("new-secret", providers.WithSecret("old-secret"))
	if err != nil {
		panic(err)
	}
	body := []byte(`{"id":820982911946154508}`)
	h, _ := oldSender.Sign(providers.Outgoing{Body: body, ID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Type: "orders/create"})
	d, err := p.Verify(verify.Request{Header: h, Body: body}, time.Now())
	fmt.Println(d.SecretIndex, d.Type, err)
	// Output:
	// 1 orders/create <nil>
}

// Standard Webhooks and Svix: the secret is "whsec_" plus base64, and the
// signature header may list several signatures; unknown versions are
// skipped. This is the specification's published test vector.
func ExampleNewStandardWebhooks() {
	p, err := providers.NewStandardWebhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)

	d, err := p.Verify(verify.Request{Header: h, Body: body}, time.Unix(1614265330, 0))
	fmt.Println(d.ID, d.Timestamp.Unix(), err)
	// Output:
	// msg_p5jXN8AQM9LWM0D4loKWxJek 1614265330 <nil>
}
