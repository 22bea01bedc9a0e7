package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/jwt"
	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
)

func TestJWTES256RoundTrip(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := `{"iat":1700000000,"request_body_sha256":"abc"}`
	tok, err := jwt.SignES256(priv, "kid-1", []byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	j, err := jwt.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if j.Alg != "ES256" || j.Kid != "kid-1" || j.Typ != "JWT" || string(j.Claims) != claims || len(j.Signature) != keys.P256SignatureSize {
		t.Fatalf("parsed %+v", j)
	}
	if !j.VerifyES256(&priv.PublicKey) {
		t.Fatal("token does not verify under its key")
	}
	if j.VerifyES256(&other.PublicKey) {
		t.Fatal("token verifies under another key")
	}
	// Tamper with the payload: the signature must fail.
	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iat":1700000001,"request_body_sha256":"abc"}`)) + "." + parts[2]
	fj, err := jwt.Parse(forged)
	if err != nil {
		t.Fatal(err)
	}
	if fj.VerifyES256(&priv.PublicKey) {
		t.Fatal("forged payload verifies")
	}
}

// TestJWTRefusesOtherAlgorithms checks the classic JWT attacks: "none",
// and HS256 with the public key as the HMAC secret.
func TestJWTRefusesOtherAlgorithms(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc := base64.RawURLEncoding.EncodeToString
	payload := enc([]byte(`{"iat":1}`))

	none := enc([]byte(`{"alg":"none"}`)) + "." + payload + "."
	if _, err := jwt.Parse(none); !errors.Is(err, verify.ErrMalformedSignature) {
		t.Errorf("alg none with empty signature parsed: %v", err)
	}
	none2 := enc([]byte(`{"alg":"none"}`)) + "." + payload + "." + enc(make([]byte, 64))
	if j, err := jwt.Parse(none2); err != nil || j.VerifyES256(&priv.PublicKey) {
		t.Errorf("alg none: %v", err)
	}
	pubBytes, _ := priv.PublicKey.Bytes()
	input := enc([]byte(`{"alg":"HS256"}`)) + "." + payload
	mac := hmac.New(sha256.New, pubBytes)
	mac.Write([]byte(input))
	hs := input + "." + enc(mac.Sum(nil))
	if j, err := jwt.Parse(hs); err != nil || j.VerifyES256(&priv.PublicKey) {
		t.Errorf("HS256 keyed with the public key verified (err %v)", err)
	}
	// A valid ES256 signature under a header that claims ES384.
	sig, _ := keys.SignP256Raw(priv, &verify.Message{Prefix: [4]string{enc([]byte(`{"alg":"ES384"}`)) + "." + payload}})
	es384 := enc([]byte(`{"alg":"ES384"}`)) + "." + payload + "." + enc(sig)
	if j, err := jwt.Parse(es384); err != nil || j.VerifyES256(&priv.PublicKey) {
		t.Errorf("ES384-labelled token verified as ES256 (err %v)", err)
	}
}

func TestParseMalformed(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	h, p, s := enc([]byte(`{"alg":"ES256","kid":"k"}`)), enc([]byte(`{"iat":1}`)), enc(make([]byte, 64))
	for name, tok := range map[string]string{
		"empty":           "",
		"two parts":       h + "." + p,
		"four parts":      h + "." + p + "." + s + "." + s,
		"empty header":    "." + p + "." + s,
		"empty payload":   h + ".." + s,
		"padded header":   h + "==." + p + "." + s,
		"std alphabet":    strings.ReplaceAll(h, "-", "+") + "+." + p + "." + s,
		"header not json": enc([]byte(`not json`)) + "." + p + "." + s,
		"no alg":          enc([]byte(`{"kid":"k"}`)) + "." + p + "." + s,
		"crit":            enc([]byte(`{"alg":"ES256","crit":["b64"]}`)) + "." + p + "." + s,
		"payload array":   h + "." + enc([]byte(`[1]`)) + "." + s,
		"payload invalid": h + "." + enc([]byte(`{"iat":`)) + "." + s,
		"huge":            h + "." + strings.Repeat("A", jwt.MaxSize) + "." + s,
		"signature bad":   h + "." + p + ".*",
	} {
		if _, err := jwt.Parse(tok); !errors.Is(err, verify.ErrMalformedSignature) {
			t.Errorf("%s: err = %v, want ErrMalformedSignature", name, err)
		}
	}
}

// TestVerifyES256RefusesDER checks that an ES256 token's signature is the
// raw r||s of RFC 7518 only: a valid ASN.1 DER signature of the same
// signing input under the same key does not verify.
func TestVerifyES256RefusesDER(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, err := jwt.SignES256(priv, "k", []byte(`{"iat":1}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	input := parts[0] + "." + parts[1]
	for range 20 {
		der, err := keys.SignP256(priv, &verify.Message{Prefix: [4]string{input}})
		if err != nil {
			t.Fatal(err)
		}
		j, err := jwt.Parse(input + "." + base64.RawURLEncoding.EncodeToString(der))
		if err != nil {
			t.Fatal(err)
		}
		if j.VerifyES256(&priv.PublicKey) {
			t.Fatalf("a %d-byte DER signature verified as ES256", len(der))
		}
	}
	if j, _ := jwt.Parse(tok); j.VerifyES256(nil) {
		t.Error("a nil key verified")
	}
}

func FuzzParse(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := jwt.SignES256(priv, "k", []byte(`{"iat":1700000000,"request_body_sha256":"00"}`))
	for _, s := range []string{
		good, "a.b.c", "..", "e30.e30.AA", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat(".", 10),
		"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.AA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := jwt.Parse(s)
		if err != nil {
			return
		}
		if len(s) > jwt.MaxSize || strings.Count(s, ".") != 2 {
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
