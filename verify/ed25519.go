package verify

import (
	"crypto/ed25519"
	"fmt"
	"sync"

	"github.com/hookguard/hookguard/internal/keyfmt"
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

// ParseEd25519PublicKey reads a public key written as "whpk_" plus base64
// (Standard Webhooks), as 64 hex digits (Discord), or as bare base64.
func ParseEd25519PublicKey(s string) (ed25519.PublicKey, error) {
	key, err := keyfmt.Ed25519(s, keyfmt.PublicKeyPrefix, ed25519.PublicKeySize)
	if err != nil {
		return nil, keyfmt.Classify(err, ErrEmptySecret, ErrInvalidSecret)
	}
	return ed25519.PublicKey(key), nil
}
