package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/hookguard/hookguard/internal/keyfmt"
)

// maxJWKSize bounds a JSON Web Key [ParseP256JWK] accepts.
const maxJWKSize = 4 << 10

var rawURLStrict = base64.RawURLEncoding.Strict()

// jwk is the subset of a JSON Web Key an EC public key uses.
type jwk = keyfmt.JWK

// ParseP256JWK reads an EC P-256 public JSON Web Key, such as the "key"
// that Plaid's /webhook_verification_key/get returns; the whole response
// ({"key": {...}, "request_id": ...}) is accepted too. It returns the
// key's "kid" and the key, or an error wrapping [ErrInvalidSecret] when
// data is not such a key (wrong "kty" or "crv", coordinates that are not
// 32 bytes of unpadded base64url, a point not on the curve, or an "alg"
// other than ES256).
func ParseP256JWK(data []byte) (kid string, pub *ecdsa.PublicKey, err error) {
	if len(data) > maxJWKSize {
		return "", nil, fmt.Errorf("%w: JWK longer than %d bytes", ErrInvalidSecret, maxJWKSize)
	}
	var wrapped struct {
		Key *jwk `json:"key"`
		jwk
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return "", nil, fmt.Errorf("%w: JWK is not a JSON object", ErrInvalidSecret)
	}
	k := &wrapped.jwk
	if wrapped.Key != nil {
		k = wrapped.Key
	}
	if k.Kty != "EC" || k.Crv != "P-256" {
		return "", nil, fmt.Errorf("%w: want a JWK with \"kty\":\"EC\" and \"crv\":\"P-256\"", ErrInvalidSecret)
	}
	if k.Alg != "" && k.Alg != "ES256" {
		return "", nil, fmt.Errorf("%w: JWK \"alg\" is %q, want ES256", ErrInvalidSecret, k.Alg)
	}
	x, errX := rawURLStrict.DecodeString(k.X)
	y, errY := rawURLStrict.DecodeString(k.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return "", nil, fmt.Errorf("%w: JWK \"x\" and \"y\" must be 32 bytes of unpadded base64url each", ErrInvalidSecret)
	}
	point := make([]byte, 0, 65)
	point = append(append(append(point, 4), x...), y...)
	pub, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return "", nil, fmt.Errorf("%w: JWK point is not on the P-256 curve", ErrInvalidSecret)
	}
	return k.Kid, pub, nil
}
