package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/hookguard/hookguard/internal/keyfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SendGrid's published Event Webhook vector, from sendgrid/sendgrid-go
// helpers/eventwebhook/eventwebhook_test.go: the payload is json.Marshal of
// a map, so its keys are sorted.
const (
	sendgridPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
	sendgridSignature = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
	sendgridTimestamp = "1588788367"
	sendgridPayload   = `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
)

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestECDSAP256SendGridVector(t *testing.T) {
	pub, err := ParseP256PublicKey(sendgridPublicKey)
	require.NoError(t, err)
	v, err := NewECDSAP256(pub)
	require.NoError(t, err)
	sig := mustDecode(t, sendgridSignature)
	m := Message{Prefix: [4]string{sendgridTimestamp}, Body: []byte(sendgridPayload)}
	i, err := v.Match(&m, sig)
	require.NoError(t, err, "published vector: Match")
	require.Equal(t, 0, i, "published vector: Match index")
	tampered := []struct {
		name string
		m    Message
		sig  []byte
	}{
		{"body", Message{Prefix: [4]string{sendgridTimestamp}, Body: []byte(sendgridPayload + " ")}, sig},
		{"timestamp", Message{Prefix: [4]string{"1588788368"}, Body: []byte(sendgridPayload)}, sig},
		{"empty timestamp", Message{Body: []byte(sendgridPayload)}, sig},
		{"signature", m, append(append([]byte(nil), sig[:len(sig)-1]...), sig[len(sig)-1]^1)},
		{"truncated signature", m, sig[:len(sig)-1]},
		{"empty signature", m, nil},
	}
	for _, tc := range tampered {
		_, err := v.Match(&tc.m, tc.sig)
		assert.ErrorIs(t, err, ErrSignatureMismatch, "tampered %s", tc.name)
	}
}

// signP256 signs the SHA-256 of m with priv in both forms ECDSAP256
// accepts: ASN.1 DER and raw r||s of 64 bytes.
func signP256(t testing.TB, priv *ecdsa.PrivateKey, m *Message) (der, raw []byte) {
	t.Helper()
	digest := sha256.Sum256(m.AppendTo(nil))
	der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	require.NoError(t, err)
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	require.NoError(t, err)
	raw = make([]byte, keyfmt.P256SignatureSize)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	return der, raw
}

func TestECDSAP256RoundTripBothForms(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v, err := NewECDSAP256(&other.PublicKey, &priv.PublicKey)
	require.NoError(t, err)
	m := Message{Prefix: [4]string{"1700000000"}, Body: []byte(`[{"event":"delivered"}]` + "\r\n")}
	der, raw := signP256(t, priv, &m)
	for name, sig := range map[string][]byte{"der": der, "raw": raw} {
		i, err := v.Match(&m, sig)
		assert.NoError(t, err, "%s: Match", name)
		assert.Equal(t, 1, i, "%s: Match must name key 1", name)
		bad := m
		bad.Body = []byte(`[{"event":"bounce"}]` + "\r\n")
		_, err = v.Match(&bad, sig)
		assert.ErrorIs(t, err, ErrSignatureMismatch, "%s: tampered body verified", name)
	}
	only, _ := NewECDSAP256(&other.PublicKey)
	_, err = only.Match(&m, der)
	assert.ErrorIs(t, err, ErrSignatureMismatch, "wrong key verified")
	digest := sha256.Sum256(m.AppendTo(nil))
	assert.False(t, verifyP256(nil, digest[:], der), "verifyP256 accepted a nil key")
	assert.False(t, verifyP256(&priv.PublicKey, digest[:], make([]byte, keyfmt.MaxDERSignatureSize+1)), "verifyP256 accepted an oversized signature")
}

func TestNewECDSAP256Rejects(t *testing.T) {
	_, err := NewECDSAP256()
	assert.ErrorIs(t, err, ErrEmptySecret, "no keys")
	_, err = NewECDSAP256(nil)
	assert.ErrorIs(t, err, ErrInvalidSecret, "nil key")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, err = NewECDSAP256(&p384.PublicKey)
	assert.ErrorIs(t, err, ErrInvalidSecret, "P-384 key")
}

func TestParseP256PublicKey(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	spki384, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	b64 := base64.StdEncoding.EncodeToString

	pubForms := map[string]string{
		"base64 DER":   b64(spki),
		"raw base64":   base64.RawStdEncoding.EncodeToString(spki),
		"url base64":   base64.RawURLEncoding.EncodeToString(spki),
		"PEM":          string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
		"spaces round": "  " + b64(spki) + "\n",
	}
	for name, s := range pubForms {
		k, err := ParseP256PublicKey(s)
		if assert.NoError(t, err, "public %s", name) {
			assert.True(t, k.Equal(&priv.PublicKey), "public %s: parsed a different key", name)
		}
	}
	bad := []struct {
		name string
		s    string
		want error
	}{
		{"empty", "", ErrEmptySecret},
		{"blank", "   ", ErrEmptySecret},
		{"not base64", "not a key!", ErrInvalidSecret},
		{"P-384", b64(spki384), ErrInvalidSecret},
		{"private as public", b64(pkcs8), ErrInvalidSecret},
		{"wrong PEM type", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: spki})), ErrInvalidSecret},
		{"broken PEM", "-----BEGIN PUBLIC KEY-----\nAAAA", ErrInvalidSecret},
		{"huge", string(make([]byte, keyfmt.MaxKeyText+1)), ErrInvalidSecret},
	}
	for _, tc := range bad {
		_, err := ParseP256PublicKey(tc.s)
		assert.ErrorIs(t, err, tc.want, "public %s", tc.name)
	}
}
