package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
)

// Fuzz tests for the asymmetric primitives: the JWT and JWK parsers and
// the ECDSA signature decoder must never panic, and must never accept what
// they did not verify.

func FuzzParseJWT(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := SignES256(priv, "k", []byte(`{"iat":1700000000,"request_body_sha256":"00"}`))
	for _, s := range []string{
		good, "a.b.c", "..", "e30.e30.AA", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat(".", 10),
		"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.AA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := ParseJWT(s)
		if err != nil {
			return
		}
		if len(s) > MaxJWTSize || strings.Count(s, ".") != 2 {
			t.Fatalf("accepted %q", s)
		}
		// Only the genuine token verifies under priv.
		if j.VerifyES256(&priv.PublicKey) && s != good {
			// A different encoding of the same token would be a
			// malleability bug.
			t.Fatalf("forged token %q verifies", s)
		}
	})
}

func FuzzParseP256JWK(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := MarshalP256JWK("k", &priv.PublicKey)
	for _, s := range []string{string(good), `{"key":` + string(good) + `}`, `{}`, `{"kty":"EC","crv":"P-256","x":"","y":""}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, pub, err := ParseP256JWK(data)
		if err != nil {
			return
		}
		if checkP256(pub) != nil {
			t.Fatalf("accepted an invalid key from %q", data)
		}
	})
}

func FuzzVerifyP256(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	m := Message{Prefix: [4]string{"1588788367"}, Body: []byte(`[{"event":"open"}]`)}
	der, _ := SignP256(priv, &m)
	raw, _ := SignP256Raw(priv, &m)
	for _, s := range [][]byte{der, raw, {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, {}, make([]byte, 64), make([]byte, 72)} {
		f.Add(s)
	}
	digest := sha256.Sum256(m.AppendTo(nil))
	f.Fuzz(func(t *testing.T, sig []byte) {
		ok := VerifyP256(&priv.PublicKey, digest[:], sig)
		if ok && len(sig) > MaxDERSignatureSize {
			t.Fatalf("accepted a %d-byte signature", len(sig))
		}
	})
}

func FuzzParseP256PublicKey(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := MarshalP256PublicKey(&priv.PublicKey)
	for _, s := range []string{pub, "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", "MFkw", "", "===="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseP256PublicKey(s)
		if err == nil && checkP256(k) != nil {
			t.Fatalf("accepted an invalid key from %q", s)
		}
		_, _ = ParseP256PrivateKey(s)
	})
}
