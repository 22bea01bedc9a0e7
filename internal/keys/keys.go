// Package keys holds what hookguard needs of private keys and key
// encodings beyond what package verify offers users: parsing and writing
// the private keys that presets sign test deliveries with, writing public
// keys in the text forms verify reads, and JSON Web Keys.
//
// It imports verify for [verify.Message] and the sentinel errors: its
// errors wrap [verify.ErrEmptySecret] or [verify.ErrInvalidSecret], so a
// caller tells a missing key from a bad one with errors.Is. Package
// verify does not import it.
package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/hookguard/hookguard/internal/keyfmt"
	"github.com/hookguard/hookguard/verify"
)

// Prefixes of Standard Webhooks asymmetric keys.
const (
	PublicKeyPrefix  = keyfmt.PublicKeyPrefix
	PrivateKeyPrefix = keyfmt.PrivateKeyPrefix
)

// P256SignatureSize is the size of a raw ECDSA P-256 signature, r||s with
// each half big-endian and zero-padded to 32 bytes (the JWS ES256 form).
const P256SignatureSize = keyfmt.P256SignatureSize

// MaxDERSignatureSize bounds an ASN.1 DER ECDSA P-256 signature: a
// SEQUENCE of two INTEGERs of at most 33 bytes each.
const MaxDERSignatureSize = keyfmt.MaxDERSignatureSize

// classify maps a keyfmt error onto verify's sentinels.
func classify(err error) error {
	return keyfmt.Classify(err, verify.ErrEmptySecret, verify.ErrInvalidSecret)
}

// ParseP256PrivateKey reads an ECDSA P-256 private key written as base64
// of its ASN.1 DER PKCS #8 or SEC 1 ("EC PRIVATE KEY") encoding, or as a
// PEM block of either. It returns [verify.ErrEmptySecret] for an empty
// string and an error wrapping [verify.ErrInvalidSecret] for anything
// else.
func ParseP256PrivateKey(s string) (*ecdsa.PrivateKey, error) {
	der, err := keyfmt.DER(s, "PRIVATE KEY", "EC PRIVATE KEY")
	if err != nil {
		return nil, classify(err)
	}
	var priv *ecdsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		priv, _ = k.(*ecdsa.PrivateKey)
	} else if k, err := x509.ParseECPrivateKey(der); err == nil {
		priv = k
	}
	if priv == nil || keyfmt.CheckP256(&priv.PublicKey) != nil {
		return nil, fmt.Errorf("%w: want a P-256 private key as base64 DER (PKCS #8 or SEC 1) or PEM", verify.ErrInvalidSecret)
	}
	return priv, nil
}

// MarshalP256PrivateKey returns priv as base64 of its PKCS #8 DER
// encoding, the text form [ParseP256PrivateKey] reads.
func MarshalP256PrivateKey(priv *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// MarshalP256PublicKey returns pub as base64 of its DER
// SubjectPublicKeyInfo, the form SendGrid shows and
// [verify.ParseP256PublicKey] reads.
func MarshalP256PublicKey(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// SignP256 signs the SHA-256 of m with priv and returns an ASN.1 DER
// signature, the form [verify.ECDSAP256] checks for SendGrid.
func SignP256(priv *ecdsa.PrivateKey, m *verify.Message) ([]byte, error) {
	digest := sha256.Sum256(m.AppendTo(nil))
	return ecdsa.SignASN1(rand.Reader, priv, digest[:])
}

// SignP256Raw signs the SHA-256 of m with priv and returns the raw r||s
// form of [P256SignatureSize] bytes that ES256 JSON Web Tokens use.
func SignP256Raw(priv *ecdsa.PrivateKey, m *verify.Message) ([]byte, error) {
	digest := sha256.Sum256(m.AppendTo(nil))
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, P256SignatureSize)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// SignEd25519 signs m with priv.
func SignEd25519(priv ed25519.PrivateKey, m *verify.Message) []byte {
	return ed25519.Sign(priv, m.AppendTo(nil))
}

// ParseEd25519PrivateKey reads a private key written as "whsk_" plus
// base64, as hex or as bare base64, holding either the 32-byte seed or the
// 64-byte private key. It returns [verify.ErrEmptySecret] for an empty
// string and an error wrapping [verify.ErrInvalidSecret] for anything
// else.
func ParseEd25519PrivateKey(s string) (ed25519.PrivateKey, error) {
	key, err := keyfmt.Ed25519(s, PrivateKeyPrefix, ed25519.SeedSize, ed25519.PrivateKeySize)
	if err != nil {
		return nil, classify(err)
	}
	if len(key) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(key), nil
	}
	// A 64-byte key is seed||public key. Reject a public half that does not
	// belong to the seed: signing under it yields invalid signatures, and
	// two signatures of one message under different public halves reveal
	// the private scalar.
	if !bytes.Equal(ed25519.NewKeyFromSeed(key[:ed25519.SeedSize])[ed25519.SeedSize:], key[ed25519.SeedSize:]) {
		return nil, fmt.Errorf("%w: the last 32 bytes of a 64-byte Ed25519 private key must be the public key of its first 32 bytes", verify.ErrInvalidSecret)
	}
	return ed25519.PrivateKey(key), nil
}
