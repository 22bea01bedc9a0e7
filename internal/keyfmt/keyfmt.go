// Package keyfmt reads key material written as text (PEM, base64, hex,
// the "whpk_" and "whsk_" prefixes of Standard Webhooks) and holds the
// sizes of ECDSA P-256 signatures. It imports only the standard library,
// so that both package verify and the internal packages built on verify
// can use it.
//
// Its errors say what was wrong with the text and nothing else; callers
// map them onto their own sentinel errors with [Classify].
package keyfmt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Prefixes of Standard Webhooks asymmetric keys.
const (
	PublicKeyPrefix  = "whpk_"
	PrivateKeyPrefix = "whsk_"
)

// P256SignatureSize is the size of a raw ECDSA P-256 signature, r||s with
// each half big-endian and zero-padded to 32 bytes (the JWS ES256 form).
const P256SignatureSize = 64

// MaxDERSignatureSize bounds an ASN.1 DER ECDSA P-256 signature: a
// SEQUENCE of two INTEGERs of at most 33 bytes each.
const MaxDERSignatureSize = 72

// MaxKeyText bounds a key given as text (base64 or PEM): far above any
// P-256 key in any of the accepted forms.
const MaxKeyText = 8 << 10

// ErrEmpty is returned for key text that is empty or only white space.
var ErrEmpty = errors.New("empty key text")

// Classify maps an error of this package onto a caller's sentinels: nil
// stays nil, [ErrEmpty] becomes empty, and any other error becomes an
// error wrapping invalid whose text adds the reason, as in
// "verify: invalid secret: malformed PEM block".
func Classify(err, empty, invalid error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrEmpty):
		return empty
	}
	return fmt.Errorf("%w: %s", invalid, err.Error())
}

// Base64Loose decodes standard or URL-safe base64, padded or not.
func Base64Loose(s string) ([]byte, error) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(strings.TrimRight(s, "="))
}

// DER returns the DER bytes of a key written as a PEM block of one of
// types or as base64 (see [Base64Loose]). Surrounding white space is
// ignored. It returns [ErrEmpty] for blank text.
func DER(s string, types ...string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrEmpty
	}
	if len(s) > MaxKeyText {
		return nil, fmt.Errorf("key text longer than %d bytes", MaxKeyText)
	}
	if strings.HasPrefix(s, "-----BEGIN ") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, errors.New("malformed PEM block")
		}
		for _, t := range types {
			if block.Type == t {
				return block.Bytes, nil
			}
		}
		return nil, fmt.Errorf("PEM block %q, want one of %q", block.Type, types)
	}
	der, err := Base64Loose(s)
	if err != nil || len(der) == 0 {
		return nil, errors.New("the key is neither PEM nor base64")
	}
	return der, nil
}

// Ed25519 returns the bytes of an Ed25519 key written as prefix plus
// base64, as hex, or as bare base64, when they are as long as one of
// sizes. Surrounding white space is ignored. It returns [ErrEmpty] for
// blank text.
func Ed25519(s, prefix string, sizes ...int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrEmpty
	}
	trimmed := strings.TrimPrefix(s, prefix)
	var key []byte
	if trimmed == s {
		for _, n := range sizes {
			if len(s) == 2*n {
				key, _ = hex.DecodeString(s)
			}
		}
	}
	if key == nil {
		key, _ = Base64Loose(trimmed)
	}
	for _, n := range sizes {
		if len(key) == n {
			return key, nil
		}
	}
	return nil, fmt.Errorf("want an Ed25519 key as %q plus base64, as hex, or as base64 of %v bytes", prefix, sizes)
}

// CheckP256 returns an error when k is nil, not on the P-256 curve, or
// not a valid point.
func CheckP256(k *ecdsa.PublicKey) error {
	if k == nil {
		return errors.New("nil key")
	}
	if k.Curve != elliptic.P256() {
		return errors.New("not a P-256 key")
	}
	// Bytes fails for a point that is not on the curve.
	if _, err := k.Bytes(); err != nil {
		return err
	}
	return nil
}

// JWK is the subset of a JSON Web Key (RFC 7517) an EC public key uses:
// what verify.ParseP256JWK reads and keys.MarshalP256JWK writes.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}
