package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// Prefixes of Standard Webhooks asymmetric keys.
const (
	PublicKeyPrefix  = "whpk_"
	PrivateKeyPrefix = "whsk_"
)

// maxPooledMessage is the largest signed-content buffer an [Ed25519] keeps
// for reuse.
const maxPooledMessage = 64 << 10

// Ed25519 verifies Ed25519 signatures under one or more public keys, as the
// Standard Webhooks "v1a" scheme and Discord interactions use.
//
// An Ed25519 is safe for concurrent use by multiple goroutines.
type Ed25519 struct {
	keys []ed25519.PublicKey
	bufs sync.Pool // of *[]byte: the signed content, laid out contiguously
}

// NewEd25519 returns a verifier for keys, tried in order. It returns
// [ErrEmptySecret] when keys is empty and an error wrapping
// [ErrInvalidSecret] when a key is not 32 bytes.
func NewEd25519(keys ...ed25519.PublicKey) (*Ed25519, error) {
	if len(keys) == 0 {
		return nil, ErrEmptySecret
	}
	v := &Ed25519{}
	for _, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: an Ed25519 public key is %d bytes, got %d", ErrInvalidSecret, ed25519.PublicKeySize, len(k))
		}
		v.keys = append(v.keys, append(ed25519.PublicKey(nil), k...))
	}
	v.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	return v, nil
}

// Keys returns how many public keys v verifies against.
func (v *Ed25519) Keys() int { return len(v.keys) }

// Match returns the index of the first key under which any 64-byte
// signature in sigs verifies m, or [ErrSignatureMismatch].
func (v *Ed25519) Match(m *Message, sigs *Signatures) (int, error) {
	bp := v.bufs.Get().(*[]byte)
	msg := m.AppendTo((*bp)[:0])
	defer func() {
		// Keep only modest buffers: one huge body must not pin its copy
		// in the pool.
		if cap(msg) <= maxPooledMessage {
			*bp = msg[:0]
			v.bufs.Put(bp)
		}
	}()
	for i, k := range v.keys {
		for j := 0; j < sigs.Len(); j++ {
			sig := sigs.At(j)
			if len(sig) == ed25519.SignatureSize && ed25519.Verify(k, msg, sig) {
				return i, nil
			}
		}
	}
	return -1, ErrSignatureMismatch
}

// SignEd25519 signs m with priv.
func SignEd25519(priv ed25519.PrivateKey, m *Message) []byte {
	return ed25519.Sign(priv, m.AppendTo(nil))
}

// ParseEd25519PublicKey reads a public key written as "whpk_" plus base64
// (Standard Webhooks), as 64 hex digits (Discord), or as bare base64.
func ParseEd25519PublicKey(s string) (ed25519.PublicKey, error) {
	key, err := parseKey(s, PublicKeyPrefix, ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(key), nil
}

// ParseEd25519PrivateKey reads a private key written as "whsk_" plus base64,
// as hex or as bare base64, holding either the 32-byte seed or the 64-byte
// private key.
func ParseEd25519PrivateKey(s string) (ed25519.PrivateKey, error) {
	key, err := parseKey(s, PrivateKeyPrefix, ed25519.SeedSize, ed25519.PrivateKeySize)
	if err != nil {
		return nil, err
	}
	if len(key) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(key), nil
	}
	// A 64-byte key is seed||public key. Reject a public half that does not
	// belong to the seed: signing under it yields invalid signatures, and
	// two signatures of one message under different public halves reveal
	// the private scalar.
	if !bytes.Equal(ed25519.NewKeyFromSeed(key[:ed25519.SeedSize])[ed25519.SeedSize:], key[ed25519.SeedSize:]) {
		return nil, fmt.Errorf("%w: the last 32 bytes of a 64-byte Ed25519 private key must be the public key of its first 32 bytes", ErrInvalidSecret)
	}
	return ed25519.PrivateKey(key), nil
}

func parseKey(s, prefix string, sizes ...int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrEmptySecret
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
		key, _ = decodeBase64Loose(trimmed)
	}
	for _, n := range sizes {
		if len(key) == n {
			return key, nil
		}
	}
	return nil, fmt.Errorf("%w: want an Ed25519 key as %q plus base64, as hex, or as base64 of %v bytes", ErrInvalidSecret, prefix, sizes)
}
