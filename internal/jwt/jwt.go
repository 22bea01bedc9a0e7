// Package jwt parses and signs the compact ES256 JSON Web Tokens that
// Plaid sends in its Plaid-Verification header. It imports verify for
// the sentinel errors: parse errors wrap [verify.ErrMalformedSignature].
package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/hookguard/hookguard/internal/keyfmt"
	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
)

// MaxSize bounds a JSON Web Token [Parse] accepts. Webhook senders'
// tokens are a few hundred bytes.
const MaxSize = 8 << 10

var rawURLStrict = base64.RawURLEncoding.Strict()

// Token is a parsed, not yet verified, compact JSON Web Signature token:
// header.payload.signature, each part unpadded base64url.
type Token struct {
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

// Parse splits and decodes a compact JWS token without verifying it.
// It returns an error wrapping [verify.ErrMalformedSignature] when token is
// longer than [MaxSize], does not have exactly three non-empty parts,
// a part is not strict unpadded base64url, the header is not a JSON object
// with a string "alg", the header has a "crit" member (no extension is
// understood), or the payload is not a JSON object.
func Parse(token string) (*Token, error) {
	if len(token) > MaxSize {
		return nil, fmt.Errorf("%w: token longer than %d bytes", verify.ErrMalformedSignature, MaxSize)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || h == "" || p == "" || s == "" || strings.Contains(s, ".") {
		return nil, fmt.Errorf("%w: a JWT has three dot-separated parts", verify.ErrMalformedSignature)
	}
	hb, err := rawURLStrict.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: JWT header is not base64url", verify.ErrMalformedSignature)
	}
	var hdr jwtHeader
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg == "" {
		return nil, fmt.Errorf("%w: JWT header is not a JSON object with an \"alg\"", verify.ErrMalformedSignature)
	}
	if hdr.Crit != nil {
		return nil, fmt.Errorf("%w: JWT header has a \"crit\" extension this verifier does not understand", verify.ErrMalformedSignature)
	}
	claims, err := rawURLStrict.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("%w: JWT payload is not base64url", verify.ErrMalformedSignature)
	}
	if t := bytes.TrimLeft(claims, " \t\r\n"); len(t) == 0 || t[0] != '{' || !json.Valid(claims) {
		return nil, fmt.Errorf("%w: JWT payload is not a JSON object", verify.ErrMalformedSignature)
	}
	sig, err := rawURLStrict.DecodeString(s)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: JWT signature is not base64url", verify.ErrMalformedSignature)
	}
	return &Token{
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
// algorithm, and the signature must be the raw r||s of RFC 7518, never
// ASN.1 DER.
func (t *Token) VerifyES256(pub *ecdsa.PublicKey) bool {
	if t == nil || pub == nil || t.Alg != "ES256" || len(t.Signature) != keyfmt.P256SignatureSize {
		return false
	}
	digest := sha256.Sum256([]byte(t.signingInput))
	r := new(big.Int).SetBytes(t.Signature[:32])
	s := new(big.Int).SetBytes(t.Signature[32:])
	return ecdsa.Verify(pub, digest[:], r, s)
}

// SignES256 returns a compact ES256 token with header {"alg":"ES256",
// "kid":kid,"typ":"JWT"} over claims, which must be a JSON object.
func SignES256(priv *ecdsa.PrivateKey, kid string, claims []byte) (string, error) {
	if !json.Valid(claims) {
		return "", errors.New("jwt: SignES256: claims are not valid JSON")
	}
	hdr, err := json.Marshal(jwtHeader{Alg: "ES256", Kid: kid, Typ: "JWT"})
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig, err := keys.SignP256Raw(priv, &verify.Message{Prefix: [4]string{input}})
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
