package verify_test

import (
	"fmt"
	"time"

	"github.com/hookguard/hookguard/verify"
)

func ExampleHMAC_Match() {
	secret, err := verify.NewSecret("whsec_test_secret")
	if err != nil {
		panic(err)
	}
	h, err := verify.NewHMAC(verify.SHA256, secret)
	if err != nil {
		panic(err)
	}

	// Stripe signs "<timestamp>.<body>".
	m := verify.Message{Prefix: [4]string{"1700000000", "."}, Body: []byte(`{"id":"evt_1"}`)}

	// The sender's side: compute the MAC and write it as hex.
	header := string(verify.Hex.AppendEncode(nil, h.AppendSum(nil, 0, &m)))

	// The receiver's side: decode the header's signatures and match them.
	var sigs verify.Signatures
	sigs.Add(verify.Hex, "00") // a stale signature from a rotated-out secret
	sigs.Add(verify.Hex, header)
	i, err := h.Match(&m, &sigs, nil)
	fmt.Println(i, err)

	m.Body = []byte(`{"id":"evt_2"}`)
	_, err = h.Match(&m, &sigs, nil)
	fmt.Println(err)
	// Output:
	// 0 <nil>
	// verify: signature mismatch
}

func ExampleWindow_Check() {
	now := time.Unix(1700000000, 0)
	w := verify.Window{Past: 5 * time.Minute, Future: time.Minute}

	for _, header := range []string{"1699999800", "1699999000", "1700000120", "17e8"} {
		ts, err := verify.ParseUnix(header)
		if err == nil {
			err = w.Check(ts, now)
		}
		fmt.Printf("%s: %v\n", header, err)
	}
	// Output:
	// 1699999800: <nil>
	// 1699999000: verify: timestamp too old
	// 1700000120: verify: timestamp too new
	// 17e8: verify: malformed timestamp
}

func ExampleSecret() {
	s, err := verify.NewSecret("sk_live_do_not_print")
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	fmt.Printf("%+v %#v\n", s, s)
	fmt.Println(s.Len())
	// Output:
	// verify.Secret(REDACTED)
	// verify.Secret(REDACTED) verify.Secret(REDACTED)
	// 20
}

func ExampleJSONField() {
	body := []byte(`{
		"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
		"type": "payment_intent.succeeded",
		"data": {"object": {"id": "pi_3", "amount": 2000, "metadata": {"note": "caf\u00e9"}}}
	}`)
	id, _ := verify.JSONField(body, "id")
	typ, _ := verify.JSONField(body, "type")
	amount, _ := verify.JSONField(body, "data", "object", "amount")
	note, _ := verify.JSONField(body, "data", "object", "metadata", "note")
	_, ok := verify.JSONField(body, "data") // an object, not a scalar
	fmt.Println(id)
	fmt.Println(typ)
	fmt.Println(amount, note, ok)
	// Output:
	// evt_1NG8Du2eZvKYlo2CUI79vXWy
	// payment_intent.succeeded
	// 2000 café false
}
