package providers_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// A sender without a preset, described in JSON: HMAC-SHA256 over the
// delivery ID, the timestamp and the body, hex in X-Acme-Signature behind
// a "v1=" prefix. The same file works with the CLI's --scheme flag.
func ExampleParseScheme() {
	scheme, err := providers.ParseScheme([]byte(`{
		"name": "acme",
		"header": "X-Acme-Signature",
		"prefix": "v1=",
		"algorithm": "hmac-sha256",
		"encoding": "hex",
		"signed": "{id}.{timestamp}.{body}",
		"timestamp": {"header": "X-Acme-Timestamp", "unit": "s", "tolerance": "5m"},
		"id": [{"header": "X-Acme-Delivery"}],
		"type": [{"json": ["event", "type"]}]
	}`))
	if err != nil {
		panic(err)
	}
	p, err := providers.NewCustom(scheme, "acme-signing-secret")
	if err != nil {
		panic(err)
	}
	sent := time.Unix(1700000000, 0)
	body := []byte(`{"event":{"type":"order.paid"}}`)
	h, err := p.Sign(providers.Outgoing{Body: body, ID: "dlv_1", Timestamp: sent})
	if err != nil {
		panic(err)
	}
	d, err := p.Verify(verify.Request{Header: h, Body: body}, sent.Add(time.Second))
	fmt.Println(d.Provider, d.ID, d.Type, d.Replayable, err)

	// The ID is signed: a replay under a fresh ID fails.
	h.Set("X-Acme-Delivery", "dlv_2")
	_, err = p.Verify(verify.Request{Header: h, Body: body}, sent.Add(time.Second))
	fmt.Println(errors.Is(err, verify.ErrSignatureMismatch))
	// Output:
	// acme dlv_1 order.paid false <nil>
	// true
}

// The Go form of a scheme, here Stripe's: key=value items in one header,
// the timestamp among them. A mistake is reported at construction with
// what to write instead.
func ExampleNewCustom() {
	stripe := providers.Scheme{
		Name:       "stripe-like",
		Header:     "Stripe-Signature",
		Separator:  "comma",
		VersionKey: "v1",
		Algorithm:  "hmac-sha256",
		Encoding:   "hex",
		Signed:     "{timestamp}.{body}",
		Timestamp:  &providers.SchemeTimestamp{Key: "t"},
		ID:         []providers.SchemeField{{JSON: []string{"id"}}},
	}
	p, err := providers.NewCustom(stripe, "whsec_test_secret")
	if err != nil {
		panic(err)
	}
	h, _ := p.Sign(providers.Outgoing{Body: []byte(`{"id":"evt_1"}`), Timestamp: time.Unix(1700000000, 0)})
	fmt.Println(h.Get("Stripe-Signature")[:16])

	stripe.Signed = "{timestamp}.{payload}"
	_, err = providers.NewCustom(stripe, "whsec_test_secret")
	fmt.Println(errors.Is(err, providers.ErrInvalidScheme))
	fmt.Println(err)
	// Output:
	// t=1700000000,v1=
	// true
	// providers: invalid scheme "stripe-like": signed: {payload} at byte 12: unknown placeholder; use {body}, {id}, {timestamp}, {url}, {method} or {header:Name}, and {{ for a literal brace
}
