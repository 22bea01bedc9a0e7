package verify

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // SHA-1 HMAC is what GitHub's legacy header and Twilio use.
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"sync"
)

// Algorithm is the hash function under an HMAC.
type Algorithm uint8

const (
	// SHA256 is HMAC-SHA256, used by most senders.
	SHA256 Algorithm = iota + 1
	// SHA1 is HMAC-SHA1 (GitHub's legacy header, Twilio).
	SHA1
	// SHA512 is HMAC-SHA512.
	SHA512
)

// Size returns the MAC length in bytes, or 0 for an unknown algorithm.
func (a Algorithm) Size() int {
	switch a {
	case SHA256:
		return sha256.Size
	case SHA1:
		return sha1.Size
	case SHA512:
		return sha512.Size
	}
	return 0
}

// String returns "sha256", "sha1" or "sha512".
func (a Algorithm) String() string {
	switch a {
	case SHA256:
		return "sha256"
	case SHA1:
		return "sha1"
	case SHA512:
		return "sha512"
	}
	return "unknown"
}

func (a Algorithm) newHash() func() hash.Hash {
	switch a {
	case SHA1:
		return sha1.New
	case SHA512:
		return sha512.New
	}
	return sha256.New
}

// HMAC computes and checks MACs under one or more secrets. It keeps keyed
// HMAC states in a pool per secret and resets them between uses, so a warm
// verification neither re-keys nor allocates.
//
// An HMAC is safe for concurrent use by multiple goroutines.
type HMAC struct {
	alg   Algorithm
	pools []*sync.Pool // one per secret, of *macState
}

// macState is one keyed HMAC with the scratch space a computation needs,
// pooled together so that neither escapes to the heap per call.
type macState struct {
	h       hash.Hash
	sum     [MaxSignatureSize]byte
	scratch [256]byte
}

// NewHMAC returns an HMAC that verifies against every secret in secrets, in
// order. It returns [ErrEmptySecret] when secrets is empty or one of them
// is empty.
func NewHMAC(alg Algorithm, secrets ...Secret) (*HMAC, error) {
	if alg.Size() == 0 {
		return nil, ErrInvalidSecret
	}
	if len(secrets) == 0 {
		return nil, ErrEmptySecret
	}
	h := &HMAC{alg: alg, pools: make([]*sync.Pool, len(secrets))}
	newHash := alg.newHash()
	for i, s := range secrets {
		if s.IsZero() {
			return nil, ErrEmptySecret
		}
		key := s.bytes()
		h.pools[i] = &sync.Pool{New: func() any {
			return &macState{h: hmac.New(newHash, key)}
		}}
	}
	return h, nil
}

// Algorithm returns the hash under the MAC.
func (h *HMAC) Algorithm() Algorithm { return h.alg }

// Secrets returns how many secrets h verifies against.
func (h *HMAC) Secrets() int { return len(h.pools) }

// mac computes the MAC of m under st's key into st.sum and returns it.
func (st *macState) mac(m *Message) []byte {
	st.h.Reset()
	// The prefix parts (a timestamp, an ID, dots) go in one Write when
	// they fit the scratch buffer: each Write through the hash.Hash
	// interface costs a call and a partial-block copy.
	n := 0
	for _, p := range m.Prefix {
		if n+len(p) > len(st.scratch) {
			st.h.Write(st.scratch[:n])
			n = 0
			st.writeString(p)
			continue
		}
		n += copy(st.scratch[n:], p)
	}
	if n > 0 {
		st.h.Write(st.scratch[:n])
	}
	if len(m.Body) > 0 {
		st.h.Write(m.Body)
	}
	st.writeString(m.Suffix)
	return st.h.Sum(st.sum[:0])
}

// writeString feeds s to the hash through the pooled scratch buffer: a
// []byte(s) conversion passed to the hash.Hash interface would allocate.
func (st *macState) writeString(s string) {
	for len(s) > 0 {
		n := copy(st.scratch[:], s)
		st.h.Write(st.scratch[:n])
		s = s[n:]
	}
}

// AppendSum appends the MAC of m under secret i (0 is the first secret)
// to dst. Signers use the first secret. It panics when i is not in
// [0, h.Secrets()).
func (h *HMAC) AppendSum(dst []byte, i int, m *Message) []byte {
	st := h.pools[i].Get().(*macState)
	dst = append(dst, st.mac(m)...)
	h.pools[i].Put(st)
	return dst
}

// Match computes the MAC of m under each secret in order and returns the
// index of the first secret whose MAC equals any signature in sigs,
// compared in constant time with [hmac.Equal]. It returns
// [ErrSignatureMismatch] when none does (including when sigs is empty).
//
// When digest is not nil, Match also writes into it a SHA-256 of the
// matching MAC: a fingerprint of the signed content that is equal for equal
// content under the same secret, usable as a dedupe key, and that is not
// itself a valid signature.
func (h *HMAC) Match(m *Message, sigs *Signatures, digest *[32]byte) (int, error) {
	if sigs.Len() == 0 {
		return -1, ErrSignatureMismatch
	}
	for i, p := range h.pools {
		st := p.Get().(*macState)
		mac := st.mac(m)
		for j := 0; j < sigs.Len(); j++ {
			if hmac.Equal(mac, sigs.At(j)) {
				if digest != nil {
					*digest = sha256.Sum256(mac)
				}
				p.Put(st)
				return i, nil
			}
		}
		p.Put(st)
	}
	return -1, ErrSignatureMismatch
}
