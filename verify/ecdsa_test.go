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
	"testing"

	"github.com/hookguard/hookguard/internal/keyfmt"
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
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestECDSAP256SendGridVector(t *testing.T) {
	pub, err := ParseP256PublicKey(sendgridPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewECDSAP256(pub)
	if err != nil {
		t.Fatal(err)
	}
	sig := mustDecode(t, sendgridSignature)
	m := Message{Prefix: [4]string{sendgridTimestamp}, Body: []byte(sendgridPayload)}
	if i, err := v.Match(&m, sig); err != nil || i != 0 {
		t.Fatalf("published vector: Match = %d, %v", i, err)
	}
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
		if _, err := v.Match(&tc.m, tc.sig); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("%s: err = %v, want ErrSignatureMismatch", tc.name, err)
		}
	}
}

// signP256 signs the SHA-256 of m with priv in both forms ECDSAP256
// accepts: ASN.1 DER and raw r||s of 64 bytes.
func signP256(t testing.TB, priv *ecdsa.PrivateKey, m *Message) (der, raw []byte) {
	t.Helper()
	digest := sha256.Sum256(m.AppendTo(nil))
	der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	raw = make([]byte, keyfmt.P256SignatureSize)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	return der, raw
}

func TestECDSAP256RoundTripBothForms(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v, err := NewECDSAP256(&other.PublicKey, &priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	m := Message{Prefix: [4]string{"1700000000"}, Body: []byte(`[{"event":"delivered"}]` + "\r\n")}
	der, raw := signP256(t, priv, &m)
	for name, sig := range map[string][]byte{"der": der, "raw": raw} {
		if i, err := v.Match(&m, sig); err != nil || i != 1 {
			t.Errorf("%s: Match = %d, %v; want key 1", name, i, err)
		}
		bad := m
		bad.Body = []byte(`[{"event":"bounce"}]` + "\r\n")
		if _, err := v.Match(&bad, sig); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("%s: tampered body verified", name)
		}
	}
	only, _ := NewECDSAP256(&other.PublicKey)
	if _, err := only.Match(&m, der); !errors.Is(err, ErrSignatureMismatch) {
		t.Error("wrong key verified")
	}
	digest := sha256.Sum256(m.AppendTo(nil))
	if verifyP256(nil, digest[:], der) || verifyP256(&priv.PublicKey, digest[:], make([]byte, keyfmt.MaxDERSignatureSize+1)) {
		t.Error("verifyP256 accepted a nil key or an oversized signature")
	}
}

func TestNewECDSAP256Rejects(t *testing.T) {
	if _, err := NewECDSAP256(); !errors.Is(err, ErrEmptySecret) {
		t.Errorf("no keys: %v", err)
	}
	if _, err := NewECDSAP256(nil); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("nil key: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := NewECDSAP256(&p384.PublicKey); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("P-384 key: %v", err)
	}
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
		if err != nil || !k.Equal(&priv.PublicKey) {
			t.Errorf("public %s: %v", name, err)
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
		if _, err := ParseP256PublicKey(tc.s); !errors.Is(err, tc.want) {
			t.Errorf("public %s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}
