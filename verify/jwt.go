package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// MaxJWTSize bounds a JSON Web Token [ParseJWT] accepts. Webhook senders'
// tokens are a few hundred bytes.
const MaxJWTSize = 8 << 10

// maxJWKSize bounds a JSON Web Key [ParseP256JWK] accepts.
const maxJWKSize = 4 << 10

var rawURLStrict = base64.RawURLEncoding.Strict()

// JWT is a parsed, not yet verified, compact JSON Web Signature token:
// header.payload.signature, each part unpadded base64url.
type JWT struct {
	// Alg is the header's "alg", for example "ES256".
	Alg string
	// Kid is the header's "kid": which key signed the token.
	Kid string
	// Typ is the header's "typ", often "JWT".
	Typ string
	// Claims is the decoded payload, a JSON object. It is not authentic
	// until a Verify method returned true.
	Claims []byte
	// Signature is the decoded signature.
	Signature []byte

	signingInput string
}

type jwtHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid,omitempty"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

// ParseJWT splits and decodes a compact JWS token without verifying it.
// It returns an error wrapping [ErrMalformedSignature] when token is
// longer than [MaxJWTSize], does not have exactly three non-empty parts,
// a part is not strict unpadded base64url, the header is not a JSON object
// with a string "alg", the header has a "crit" member (no extension is
// understood), or the payload is not a JSON object.
func ParseJWT(token string) (*JWT, error) {
	if len(token) > MaxJWTSize {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrMalformedSignature, MaxJWTSize)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || h == "" || p == "" || s == "" || strings.Contains(s, ".") {
		return nil, fmt.Errorf("%w: a JWT has three dot-separated parts", ErrMalformedSignature)
	}
	hb, err := rawURLStrict.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: JWT header is not base64url", ErrMalformedSignature)
	}
	var hdr jwtHeader
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg == "" {
		return nil, fmt.Errorf("%w: JWT header is not a JSON object with an \"alg\"", ErrMalformedSignature)
	}
	if hdr.Crit != nil {
		return nil, fmt.Errorf("%w: JWT header has a \"crit\" extension this verifier does not understand", ErrMalformedSignature)
	}
	claims, err := rawURLStrict.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("%w: JWT payload is not base64url", ErrMalformedSignature)
	}
	if t := bytes.TrimLeft(claims, " \t\r\n"); len(t) == 0 || t[0] != '{' || !json.Valid(claims) {
		return nil, fmt.Errorf("%w: JWT payload is not a JSON object", ErrMalformedSignature)
	}
	sig, err := rawURLStrict.DecodeString(s)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: JWT signature is not base64url", ErrMalformedSignature)
	}
	return &JWT{
		Alg:          hdr.Alg,
		Kid:          hdr.Kid,
		Typ:          hdr.Typ,
		Claims:       claims,
		Signature:    sig,
		signingInput: token[:len(h)+1+len(p)],
	}, nil
}

// VerifyES256 reports whether t is an ES256 token ("alg" exactly "ES256")
// whose raw r||s signature verifies under pub. Any other "alg" (none,
// HS256, ES384, ...) is refused, so a token cannot choose its own
// algorithm.
func (t *JWT) VerifyES256(pub *ecdsa.PublicKey) bool {
	if t == nil || t.Alg != "ES256" || len(t.Signature) != P256SignatureSize {
		return false
	}
	digest := sha256.Sum256([]byte(t.signingInput))
	return VerifyP256(pub, digest[:], t.Signature)
}

// SignES256 returns a compact ES256 token with header {"alg":"ES256",
// "kid":kid,"typ":"JWT"} over claims, which must be a JSON object.
func SignES256(priv *ecdsa.PrivateKey, kid string, claims []byte) (string, error) {
	if !json.Valid(claims) {
		return "", fmt.Errorf("verify: SignES256: claims are not valid JSON")
	}
	hdr, err := json.Marshal(jwtHeader{Alg: "ES256", Kid: kid, Typ: "JWT"})
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig, err := SignP256Raw(priv, &Message{Prefix: [4]string{input}})
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// jwk is the subset of a JSON Web Key (RFC 7517) an EC public key uses.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

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

// MarshalP256JWK returns pub as a public JSON Web Key with the given kid,
// in the form [ParseP256JWK] reads.
func MarshalP256JWK(kid string, pub *ecdsa.PublicKey) ([]byte, error) {
	if err := checkP256(pub); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	b, err := pub.Bytes()
	if err != nil {
		return nil, err
	}
	return json.Marshal(jwk{
		Kty: "EC", Crv: "P-256", Alg: "ES256", Use: "sig", Kid: kid,
		X: base64.RawURLEncoding.EncodeToString(b[1:33]),
		Y: base64.RawURLEncoding.EncodeToString(b[33:65]),
	})
}
