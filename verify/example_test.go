package verify_test

import (
	"fmt"
	"strconv"
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
		err := verify.ErrMalformedTimestamp
		if n, perr := strconv.ParseInt(header, 10, 64); perr == nil {
			err = w.Check(time.Unix(n, 0), now)
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
