package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// P256SignatureSize is the size of a raw ECDSA P-256 signature, r||s with
// each half big-endian and zero-padded to 32 bytes (the JWS ES256 form).
const P256SignatureSize = 64

// MaxDERSignatureSize bounds an ASN.1 DER ECDSA P-256 signature: a
// SEQUENCE of two INTEGERs of at most 33 bytes each.
const MaxDERSignatureSize = 72

// maxKeyText bounds a key given as text (base64 or PEM): far above any
// P-256 key in any of the accepted forms.
const maxKeyText = 8 << 10

// ECDSAP256 verifies ECDSA P-256 signatures over the SHA-256 of a
// [Message] under one or more public keys, as the SendGrid Event Webhook
// (DER signatures) and ES256 JSON Web Tokens (raw r||s) use.
//
// An ECDSAP256 is safe for concurrent use by multiple goroutines.
type ECDSAP256 struct {
	keys []*ecdsa.PublicKey
}

// NewECDSAP256 returns a verifier for keys, tried in order. It returns
// [ErrEmptySecret] when keys is empty and an error wrapping
// [ErrInvalidSecret] when a key is nil or not on the P-256 curve.
func NewECDSAP256(keys ...*ecdsa.PublicKey) (*ECDSAP256, error) {
	if len(keys) == 0 {
		return nil, ErrEmptySecret
	}
	v := &ECDSAP256{keys: make([]*ecdsa.PublicKey, 0, len(keys))}
	for i, k := range keys {
		if err := checkP256(k); err != nil {
			return nil, fmt.Errorf("%w: key #%d: %w", ErrInvalidSecret, i, err)
		}
		v.keys = append(v.keys, k)
	}
	return v, nil
}

// Keys returns how many public keys v verifies against.
func (v *ECDSAP256) Keys() int { return len(v.keys) }

// Match returns the index of the first key under which sig verifies the
// SHA-256 of m, or [ErrSignatureMismatch]. sig is either ASN.1 DER or raw
// r||s of [P256SignatureSize] bytes; anything else never matches.
func (v *ECDSAP256) Match(m *Message, sig []byte) (int, error) {
	if len(sig) == 0 || len(sig) > MaxDERSignatureSize {
		return -1, ErrSignatureMismatch
	}
	digest := messageSHA256(m)
	for i, k := range v.keys {
		if VerifyP256(k, digest[:], sig) {
			return i, nil
		}
	}
	return -1, ErrSignatureMismatch
}

// VerifyP256 reports whether sig is a valid ECDSA signature of digest
// under pub. sig is either ASN.1 DER (a SEQUENCE of r and s) or raw r||s
// of [P256SignatureSize] bytes. A DER signature is recognised by its
// SEQUENCE tag and exact length; a 64-byte signature that is not valid DER
// is read as r||s.
func VerifyP256(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	if pub == nil || len(sig) == 0 || len(sig) > MaxDERSignatureSize {
		return false
	}
	if isDERSequence(sig) && ecdsa.VerifyASN1(pub, digest, sig) {
		return true
	}
	if len(sig) != P256SignatureSize {
		return false
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(pub, digest, r, s)
}

// isDERSequence reports whether sig starts with a SEQUENCE header whose
// short-form length covers exactly the rest of sig.
func isDERSequence(sig []byte) bool {
	return len(sig) >= 8 && sig[0] == 0x30 && int(sig[1]) == len(sig)-2 && sig[1] < 0x80
}

// SignP256 signs the SHA-256 of m with priv and returns an ASN.1 DER
// signature.
func SignP256(priv *ecdsa.PrivateKey, m *Message) ([]byte, error) {
	digest := messageSHA256(m)
	return ecdsa.SignASN1(rand.Reader, priv, digest[:])
}

// SignP256Raw signs the SHA-256 of m with priv and returns the raw r||s
// form of [P256SignatureSize] bytes that ES256 JSON Web Tokens use.
func SignP256Raw(priv *ecdsa.PrivateKey, m *Message) ([]byte, error) {
	digest := messageSHA256(m)
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, P256SignatureSize)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

func messageSHA256(m *Message) [32]byte {
	h := sha256.New()
	for _, p := range m.Prefix {
		h.Write([]byte(p))
	}
	h.Write(m.Body)
	h.Write([]byte(m.Suffix))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func checkP256(k *ecdsa.PublicKey) error {
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

// ParseP256PublicKey reads an ECDSA P-256 public key written as base64
// (standard or URL-safe, padded or not) of its ASN.1 DER
// SubjectPublicKeyInfo, the form SendGrid shows, or as a PEM "PUBLIC KEY"
// block. It returns [ErrEmptySecret] for an empty string and an error
// wrapping [ErrInvalidSecret] for anything else that is not such a key.
func ParseP256PublicKey(s string) (*ecdsa.PublicKey, error) {
	der, err := keyDER(s, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: want a P-256 public key as base64 DER (SubjectPublicKeyInfo) or PEM", ErrInvalidSecret)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || checkP256(pub) != nil {
		return nil, fmt.Errorf("%w: the public key is not an ECDSA P-256 key", ErrInvalidSecret)
	}
	return pub, nil
}

// ParseP256PrivateKey reads an ECDSA P-256 private key written as base64
// of its ASN.1 DER PKCS #8 or SEC 1 ("EC PRIVATE KEY") encoding, or as a
// PEM block of either. It returns [ErrEmptySecret] for an empty string and
// an error wrapping [ErrInvalidSecret] for anything else.
func ParseP256PrivateKey(s string) (*ecdsa.PrivateKey, error) {
	der, err := keyDER(s, "PRIVATE KEY", "EC PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var priv *ecdsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		priv, _ = k.(*ecdsa.PrivateKey)
	} else if k, err := x509.ParseECPrivateKey(der); err == nil {
		priv = k
	}
	if priv == nil || checkP256(&priv.PublicKey) != nil {
		return nil, fmt.Errorf("%w: want a P-256 private key as base64 DER (PKCS #8 or SEC 1) or PEM", ErrInvalidSecret)
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
// SubjectPublicKeyInfo, the form SendGrid shows and [ParseP256PublicKey]
// reads.
func MarshalP256PublicKey(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// keyDER returns the DER bytes of a key written as PEM (one of types) or
// as base64.
func keyDER(s string, types ...string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrEmptySecret
	}
	if len(s) > maxKeyText {
		return nil, fmt.Errorf("%w: key text longer than %d bytes", ErrInvalidSecret, maxKeyText)
	}
	if strings.HasPrefix(s, "-----BEGIN ") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, fmt.Errorf("%w: malformed PEM block", ErrInvalidSecret)
		}
		for _, t := range types {
			if block.Type == t {
				return block.Bytes, nil
			}
		}
		return nil, fmt.Errorf("%w: PEM block %q, want one of %q", ErrInvalidSecret, block.Type, types)
	}
	der, err := decodeBase64Loose(s)
	if err != nil || len(der) == 0 {
		return nil, fmt.Errorf("%w: the key is neither PEM nor base64", ErrInvalidSecret)
	}
	return der, nil
}
