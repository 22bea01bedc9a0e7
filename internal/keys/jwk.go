package keys

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/hookguard/hookguard/internal/keyfmt"
	"github.com/hookguard/hookguard/verify"
)

// MarshalP256JWK returns pub as a public JSON Web Key with the given kid,
// in the form [verify.ParseP256JWK] reads.
func MarshalP256JWK(kid string, pub *ecdsa.PublicKey) ([]byte, error) {
	if err := keyfmt.CheckP256(pub); err != nil {
		return nil, fmt.Errorf("%w: %w", verify.ErrInvalidSecret, err)
	}
	b, err := pub.Bytes()
	if err != nil {
		return nil, err
	}
	return json.Marshal(keyfmt.JWK{
		Kty: "EC", Crv: "P-256", Alg: "ES256", Use: "sig", Kid: kid,
		X: base64.RawURLEncoding.EncodeToString(b[1:33]),
		Y: base64.RawURLEncoding.EncodeToString(b[33:65]),
	})
}
