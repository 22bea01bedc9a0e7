package verify

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/hookguard/hookguard/internal/keyfmt"
)

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
		if err := keyfmt.CheckP256(k); err != nil {
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
// r||s of 64 bytes; anything else never matches.
func (v *ECDSAP256) Match(m *Message, sig []byte) (int, error) {
	if len(sig) == 0 || len(sig) > keyfmt.MaxDERSignatureSize {
		return -1, ErrSignatureMismatch
	}
	digest := messageSHA256(m)
	for i, k := range v.keys {
		if verifyP256(k, digest[:], sig) {
			return i, nil
		}
	}
	return -1, ErrSignatureMismatch
}

// verifyP256 reports whether sig is a valid ECDSA signature of digest
// under pub. sig is either ASN.1 DER (a SEQUENCE of r and s) or raw r||s
// of 64 bytes. A DER signature is recognised by its SEQUENCE tag and
// exact length; a 64-byte signature that is not valid DER is read as r||s.
func verifyP256(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	if pub == nil || len(sig) == 0 || len(sig) > keyfmt.MaxDERSignatureSize {
		return false
	}
	if isDERSequence(sig) && ecdsa.VerifyASN1(pub, digest, sig) {
		return true
	}
	if len(sig) != keyfmt.P256SignatureSize {
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

// ParseP256PublicKey reads an ECDSA P-256 public key written as base64
// (standard or URL-safe, padded or not) of its ASN.1 DER
// SubjectPublicKeyInfo, the form SendGrid shows, or as a PEM "PUBLIC KEY"
// block. It returns [ErrEmptySecret] for an empty string and an error
// wrapping [ErrInvalidSecret] for anything else that is not such a key.
func ParseP256PublicKey(s string) (*ecdsa.PublicKey, error) {
	der, err := keyfmt.DER(s, "PUBLIC KEY")
	if err != nil {
		return nil, keyfmt.Classify(err, ErrEmptySecret, ErrInvalidSecret)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: want a P-256 public key as base64 DER (SubjectPublicKeyInfo) or PEM", ErrInvalidSecret)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || keyfmt.CheckP256(pub) != nil {
		return nil, fmt.Errorf("%w: the public key is not an ECDSA P-256 key", ErrInvalidSecret)
	}
	return pub, nil
}
