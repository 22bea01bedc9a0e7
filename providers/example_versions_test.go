package providers_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// A Twilio endpoint matched by a Webhook Rule whose Setting signs with a
// SharedKey: the preset is built with the key's ID and secret, and then
// accepts only that key's HMAC-SHA256 signatures.
func ExampleWithSharedKey() {
	p, err := providers.NewTwilio("shared-key-secret", providers.WithSharedKey("webhooks_sharedkey_01jexample"))
	if err != nil {
		panic(err)
	}
	body := []byte("MessageSid=SM1&MessageStatus=delivered")
	const url = "https://hooks.example.com/twilio"
	h, _ := p.Sign(providers.Outgoing{Body: body, URL: url, ContentType: "application/x-www-form-urlencoded"})
	fmt.Println(h.Get("X-Twilio-Webhooks-Signature-Settings"))
	d, err := p.Verify(verify.Request{Method: http.MethodPost, URL: url, Header: h, Body: body}, time.Now())
	fmt.Println(err, d.Type)

	// Without the settings header the request is an auth-token (SHA-1)
	// one, which this receiver refuses.
	h.Del("X-Twilio-Webhooks-Signature-Settings")
	_, err = p.Verify(verify.Request{Method: http.MethodPost, URL: url, Header: h, Body: body}, time.Now())
	fmt.Println(errors.Is(err, verify.ErrSignatureMismatch))
	// Output:
	// key=webhooks_sharedkey_01jexample,algorithm=HMAC_SHA256
	// <nil> delivered
	// true
}

// HubSpot verifies v3 only by default. An app that still sends v1 must
// say so, and accept what v1 costs (no timestamp; length extension).
func ExampleWithSignatureVersion() {
	body := []byte(`[{"eventId":1,"subscriptionType":"contact.creation"}]`)
	v1, err := providers.NewHubSpot("client-secret", providers.WithSignatureVersion("v1"))
	if err != nil {
		panic(err)
	}
	h, _ := v1.Sign(providers.Outgoing{Body: body})
	req := verify.Request{Method: http.MethodPost, URL: "https://hooks.example.com/hubspot", Header: h, Body: body}

	d, err := v1.Verify(req, time.Now())
	fmt.Println(err, d.ID, d.Replayable)

	v3, _ := providers.NewHubSpot("client-secret")
	_, err = v3.Verify(req, time.Now())
	fmt.Println(verify.StatusCode(err))
	// Output:
	// <nil> 1 true
	// 401
}
