package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"

	"github.com/hookguard/hookguard/internal/keyfmt"
	"github.com/stretchr/testify/require"
)

// Fuzz tests for the asymmetric primitives: the JWK and key parsers and
// the ECDSA signature decoder must never panic, and must never accept what
// they did not verify.

func FuzzParseP256JWK(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := testJWK("k", &priv.PublicKey)
	for _, s := range []string{string(good), `{"key":` + string(good) + `}`, `{}`, `{"kty":"EC","crv":"P-256","x":"","y":""}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, pub, err := ParseP256JWK(data)
		if err != nil {
			return
		}
		require.NoError(t, keyfmt.CheckP256(pub), "accepted an invalid key from %q", data)
	})
}

func FuzzVerifyP256(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	m := Message{Prefix: [4]string{"1588788367"}, Body: []byte(`[{"event":"open"}]`)}
	der, raw := signP256(f, priv, &m)
	for _, s := range [][]byte{der, raw, {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, {}, make([]byte, 64), make([]byte, 72)} {
		f.Add(s)
	}
	digest := sha256.Sum256(m.AppendTo(nil))
	f.Fuzz(func(t *testing.T, sig []byte) {
		if verifyP256(&priv.PublicKey, digest[:], sig) {
			require.LessOrEqual(t, len(sig), keyfmt.MaxDERSignatureSize, "accepted an oversized signature")
		}
	})
}

func FuzzParseP256PublicKey(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pub := base64.StdEncoding.EncodeToString(spki)
	for _, s := range []string{pub, "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", "MFkw", "", "===="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseP256PublicKey(s); err == nil {
			require.NoError(t, keyfmt.CheckP256(k), "accepted an invalid key from %q", s)
		}
	})
}
