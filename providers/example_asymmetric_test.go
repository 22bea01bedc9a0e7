package providers_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// Meta verifies a callback URL with a GET that must be answered with its
// hub.challenge when the verify token matches.
func ExampleWithVerifyToken() {
	p, err := providers.NewWhatsApp("app-secret", providers.WithVerifyToken("my-verify-token"))
	if err != nil {
		panic(err)
	}
	d, err := p.Verify(verify.Request{
		Method: http.MethodGet,
		URL:    "https://hooks.example.com/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token",
		Header: http.Header{},
	}, time.Now())
	fmt.Println(err, d.Reply.Status, string(d.Reply.Body))
	// Output: <nil> 200 1158201444
}

// Plaid signs each webhook with a key named by the token's kid; a
// KeySource looks it up (here from a map; in production from Plaid's
// /webhook_verification_key/get, parsed with verify.ParseP256JWK).
func ExampleWithKeySource() {
	// A test key pair stands in for Plaid's.
	priv, _ := providers.TestSecret("plaid")
	signer, _ := providers.NewPlaid(priv)
	body := []byte(`{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"wz666MBjYWTp2PDzzggYhM6oWWmBb"}`)
	h, _ := signer.Sign(providers.Outgoing{Body: body})
	k, _ := verify.ParseP256PrivateKey(priv)
	tok, _ := verify.ParseJWT(h.Get("Plaid-Verification"))
	keys := map[string]*ecdsa.PublicKey{tok.Kid: &k.PublicKey}

	p, err := providers.NewPlaid("", providers.WithKeySource(providers.KeySourceFunc(
		func(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
			if key, ok := keys[kid]; ok {
				return key, nil
			}
			return nil, providers.ErrUnknownKey
		})))
	if err != nil {
		panic(err)
	}
	d, err := p.Verify(verify.Request{Method: http.MethodPost, Header: h, Body: body}, time.Now())
	fmt.Println(err, d.Type)
	// Output: <nil> TRANSACTIONS.SYNC_UPDATES_AVAILABLE
}
