package keys_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
)

// SendGrid's published Event Webhook key pair, from sendgrid/sendgrid-go
// helpers/eventwebhook/eventwebhook_test.go.
const (
	sendgridPublicKey  = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
	sendgridPrivateKey = "MHcCAQEEIEQmZgBEh9DcU9zMl34czK3xov4AYvm9P3r7rNB2dNXtoAoGCCqGSM49AwEHoUQDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
)

// testKey derives a deterministic key pair from a one-byte seed pattern.
func testKey(b byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b + byte(i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return priv.Public().(ed25519.PublicKey), priv
}

func TestSendGridPrivateKeyMatchesPublicKey(t *testing.T) {
	pub, err := verify.ParseP256PublicKey(sendgridPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// The published private key is the SEC 1 form of the same key pair.
	priv, err := keys.ParseP256PrivateKey(sendgridPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("published private key does not belong to the published public key")
	}
}

func TestParseP256PrivateKey(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
	sec1, _ := x509.MarshalECPrivateKey(priv)
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	b64 := base64.StdEncoding.EncodeToString

	forms := map[string]string{
		"PKCS8 base64": b64(pkcs8),
		"SEC1 base64":  b64(sec1),
		"PKCS8 PEM":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"SEC1 PEM":     string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})),
	}
	for name, s := range forms {
		k, err := keys.ParseP256PrivateKey(s)
		if err != nil || !k.Equal(priv) {
			t.Errorf("%s: %v", name, err)
		}
	}
	p384der, _ := x509.MarshalPKCS8PrivateKey(p384)
	bad := []struct {
		name string
		s    string
		want error
	}{
		{"empty", "", verify.ErrEmptySecret},
		{"blank", " \n", verify.ErrEmptySecret},
		{"public as private", b64(spki), verify.ErrInvalidSecret},
		{"P-384", b64(p384der), verify.ErrInvalidSecret},
		{"not base64", "not a key!", verify.ErrInvalidSecret},
		{"wrong PEM type", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})), verify.ErrInvalidSecret},
	}
	for _, tc := range bad {
		k, err := keys.ParseP256PrivateKey(tc.s)
		if !errors.Is(err, tc.want) || k != nil {
			t.Errorf("%s: %v, %v; want nil, %v", tc.name, k, err, tc.want)
		}
	}
}

func TestMarshalP256Keys(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	b64 := base64.StdEncoding.EncodeToString
	s, err := keys.MarshalP256PrivateKey(priv)
	if err != nil || s != b64(pkcs8) {
		t.Errorf("MarshalP256PrivateKey = %q, %v", s, err)
	}
	if back, err := keys.ParseP256PrivateKey(s); err != nil || !back.Equal(priv) {
		t.Errorf("ParseP256PrivateKey(MarshalP256PrivateKey) = %v", err)
	}
	s, err = keys.MarshalP256PublicKey(&priv.PublicKey)
	if err != nil || s != b64(spki) {
		t.Errorf("MarshalP256PublicKey = %q, %v", s, err)
	}
	if back, err := verify.ParseP256PublicKey(s); err != nil || !back.Equal(&priv.PublicKey) {
		t.Errorf("verify.ParseP256PublicKey(MarshalP256PublicKey) = %v", err)
	}
}

func TestSignP256VerifiesInBothForms(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v, err := verify.NewECDSAP256(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	m := verify.Message{Prefix: [4]string{"1700000000"}, Body: []byte(`[{"event":"delivered"}]`)}
	der, err := keys.SignP256(priv, &m)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := keys.SignP256Raw(priv, &m)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != keys.P256SignatureSize || len(der) > keys.MaxDERSignatureSize || der[0] != 0x30 {
		t.Fatalf("signature sizes: raw %d, DER %d (tag %#x)", len(raw), len(der), der[0])
	}
	for name, sig := range map[string][]byte{"der": der, "raw": raw} {
		if i, err := v.Match(&m, sig); err != nil || i != 0 {
			t.Errorf("%s: Match = %d, %v", name, i, err)
		}
		other := verify.Message{Prefix: m.Prefix, Body: []byte(`[{"event":"bounce"}]`)}
		if _, err := v.Match(&other, sig); !errors.Is(err, verify.ErrSignatureMismatch) {
			t.Errorf("%s: signature of another body verified: %v", name, err)
		}
	}
}

func TestSignEd25519SignsTheLaidOutMessage(t *testing.T) {
	pub, priv := testKey(1)
	m := verify.Message{Prefix: [4]string{"msg_1", ".", "1700000000", "."}, Body: []byte(`{"type":"ping"}`), Suffix: "!"}
	sig := keys.SignEd25519(priv, &m)
	if !ed25519.Verify(pub, []byte(`msg_1.1700000000.{"type":"ping"}!`), sig) {
		t.Fatal("SignEd25519 does not sign the concatenated message")
	}
	v, err := verify.NewEd25519(pub)
	if err != nil {
		t.Fatal(err)
	}
	var sigs verify.Signatures
	sigs.AddRaw(sig)
	if i, err := v.Match(&m, &sigs); err != nil || i != 0 {
		t.Errorf("Match = %d, %v", i, err)
	}
}

func TestMarshalP256JWK(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, err := keys.MarshalP256JWK("bfbd5111", &priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	kid, pub, err := verify.ParseP256JWK(b)
	if err != nil || kid != "bfbd5111" || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("round trip: %q, %v", kid, err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, k := range map[string]*ecdsa.PublicKey{"nil": nil, "P-384": &p384.PublicKey} {
		if _, err := keys.MarshalP256JWK("k", k); !errors.Is(err, verify.ErrInvalidSecret) {
			t.Errorf("%s key: %v, want ErrInvalidSecret", name, err)
		}
	}
}

func TestParseEd25519PrivateKey(t *testing.T) {
	pub, priv := testKey(9)
	seed := priv.Seed()
	_, other := testKey(10)
	mismatched := append(append([]byte(nil), seed...), other.Public().(ed25519.PublicKey)...)
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"whsk seed", keys.PrivateKeyPrefix + base64.StdEncoding.EncodeToString(seed), nil},
		{"whsk full key", keys.PrivateKeyPrefix + base64.StdEncoding.EncodeToString(priv), nil},
		{"hex seed", hex.EncodeToString(seed), nil},
		{"hex full key", hex.EncodeToString(priv), nil},
		{"bare base64 seed", base64.RawStdEncoding.EncodeToString(seed), nil},
		{"bare base64 full key", base64.StdEncoding.EncodeToString(priv), nil},
		{"empty", "", verify.ErrEmptySecret},
		{"wrong prefix", keys.PublicKeyPrefix + base64.StdEncoding.EncodeToString(seed), verify.ErrInvalidSecret},
		{"48 bytes", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfe}, 48)), verify.ErrInvalidSecret},
		{"public half does not match seed", hex.EncodeToString(mismatched), verify.ErrInvalidSecret},
		{"garbage", "whsk_***", verify.ErrInvalidSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keys.ParseEd25519PrivateKey(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), strings.TrimPrefix(tc.in, keys.PrivateKeyPrefix)) && tc.in != "" {
					t.Errorf("error %q echoes the key", err)
				}
				return
			}
			if !got.Equal(priv) || !got.Public().(ed25519.PublicKey).Equal(pub) {
				t.Errorf("parsed key differs from the original")
			}
		})
	}
}
