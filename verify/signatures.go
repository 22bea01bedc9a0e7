package verify

// MaxSignatures is how many signatures one request may carry. Senders send
// one, or two while a secret is being rotated; a header with more is
// malformed.
const MaxSignatures = 16

// Signatures is a fixed-size set of decoded signatures. It lives on the
// stack of the verifying function, so collecting signatures allocates
// nothing. The zero value is an empty set ready to use.
type Signatures struct {
	n    int
	size [MaxSignatures]uint8
	buf  [MaxSignatures][MaxSignatureSize]byte
}

// Len returns the number of signatures in the set.
func (s *Signatures) Len() int { return s.n }

// At returns the i'th decoded signature. The slice aliases the set.
func (s *Signatures) At(i int) []byte { return s.buf[i][:s.size[i]] }

// Reset empties the set.
func (s *Signatures) Reset() { s.n = 0 }

// Full reports whether the set holds [MaxSignatures] signatures.
func (s *Signatures) Full() bool { return s.n == MaxSignatures }

// Add decodes encoded with enc and adds it to the set. It reports false,
// leaving the set unchanged, when encoded does not decode or the set is
// full.
func (s *Signatures) Add(enc Encoding, encoded string) bool {
	if s.n == MaxSignatures {
		return false
	}
	n, ok := enc.Decode(s.buf[s.n][:], encoded)
	if !ok {
		return false
	}
	s.size[s.n] = uint8(n)
	s.n++
	return true
}

// AddRaw adds a copy of an already decoded signature. It reports false when
// sig is empty or longer than [MaxSignatureSize], or the set is full.
func (s *Signatures) AddRaw(sig []byte) bool {
	if s.n == MaxSignatures || len(sig) == 0 || len(sig) > MaxSignatureSize {
		return false
	}
	s.size[s.n] = uint8(copy(s.buf[s.n][:], sig))
	s.n++
	return true
}
