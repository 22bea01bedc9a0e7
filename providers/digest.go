package providers

import (
	"crypto/sha256"
	"crypto/sha512"

	"github.com/hookguard/hookguard/verify"
)

// This file holds the fingerprints behind [verify.Delivery.Digest] for
// deliveries that carry no event ID: the receiver dedupes such a delivery
// on its Digest, so that the same signed request sent again inside the
// replay window is answered as a duplicate. A preset that found an ID
// computes none of this.

// macDigest returns the Digest of content m that an HMAC under secret i
// verified against sigs: the SHA-256 of the MAC, exactly what
// [verify.HMAC.Match] writes when asked for a digest. The MAC is a
// function of the key and the signed bytes only, so the digest is equal
// for a replay and different for any other signed content. With one
// candidate signature, that signature is the MAC (Match compared it in
// full); with several, the MAC is computed again. A negative i means
// nothing was verified ([InsecureSkipVerification]): see [signedDigest].
func macDigest(mac *verify.HMAC, i int, m *verify.Message, sigs *verify.Signatures) [32]byte {
	if i < 0 || mac == nil {
		return sha256.Sum256(m.Body)
	}
	if sigs != nil && sigs.Len() == 1 {
		return sha256.Sum256(sigs.At(0))
	}
	var buf [sha512.Size]byte
	return sha256.Sum256(mac.AppendSum(buf[:0], i, m))
}

// signedDigest returns [contentDigest] of m for a delivery verified under
// secret or key secret. For an unverified one (secret < 0,
// [InsecureSkipVerification]) it returns the SHA-256 of the body, as every
// preset does then: nothing was checked, so no other header is trusted
// to tell two deliveries apart.
func signedDigest(secret int, m *verify.Message) [32]byte {
	if secret < 0 {
		return sha256.Sum256(m.Body)
	}
	return contentDigest(m)
}

// contentDigest returns the SHA-256 of the signed content m, laid out as
// it was signed: the fingerprint for schemes whose signature bytes are
// not unique to the content (an ECDSA signature (r, s) has a twin
// (r, n-s) that verifies as well, and every new signature of the same
// content differs), and for unverified deliveries.
func contentDigest(m *verify.Message) [32]byte {
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

// startsObject reports whether body's first byte after JSON whitespace is
// '{': a JSON object, which may carry an event ID, rather than a form.
func startsObject(body []byte) bool {
	for _, c := range body {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}
