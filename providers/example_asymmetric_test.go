package providers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
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
// KeySource fetches that key (here from a stand-in for Plaid's
// /webhook_verification_key/get) and parses it with verify.ParseP256JWK.
func ExampleWithKeySource() {
	// A fresh key pair stands in for Plaid's.
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	signer, _ := providers.NewPlaid(base64.StdEncoding.EncodeToString(der))
	body := []byte(`{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"wz666MBjYWTp2PDzzggYhM6oWWmBb"}`)
	h, _ := signer.Sign(providers.Outgoing{Body: body})

	// verificationKey stands in for a call to Plaid's
	// /webhook_verification_key/get: the JWK of the key named kid.
	verificationKey := func(ctx context.Context, kid string) ([]byte, error) {
		pt, _ := priv.PublicKey.Bytes() // 0x04 || x || y
		b64 := base64.RawURLEncoding.EncodeToString
		return fmt.Appendf(nil, `{"key":{"kty":"EC","crv":"P-256","alg":"ES256","kid":%q,"x":%q,"y":%q}}`, kid, b64(pt[1:33]), b64(pt[33:])), nil
	}
	p, err := providers.NewPlaid("", providers.WithKeySource(providers.KeySourceFunc(
		func(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
			jwk, err := verificationKey(ctx, kid)
			if err != nil {
				return nil, err // 503: Plaid retries
			}
			got, key, err := verify.ParseP256JWK(jwk)
			if err != nil || got != kid {
				return nil, fmt.Errorf("kid %q: %w", kid, providers.ErrUnknownKey)
			}
			return key, nil
		})))
	if err != nil {
		panic(err)
	}
	d, err := p.Verify(verify.Request{Method: http.MethodPost, Header: h, Body: body}, time.Now())
	fmt.Println(err, d.Type)
	// Output: <nil> TRANSACTIONS.SYNC_UPDATES_AVAILABLE
}
