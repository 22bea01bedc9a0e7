package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJWTES256RoundTrip(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := `{"iat":1700000000,"request_body_sha256":"abc"}`
	tok, err := SignES256(priv, "kid-1", []byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	j, err := ParseJWT(tok)
	if err != nil {
		t.Fatal(err)
	}
	if j.Alg != "ES256" || j.Kid != "kid-1" || j.Typ != "JWT" || string(j.Claims) != claims || len(j.Signature) != P256SignatureSize {
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
	fj, err := ParseJWT(forged)
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
	if _, err := ParseJWT(none); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("alg none with empty signature parsed: %v", err)
	}
	none2 := enc([]byte(`{"alg":"none"}`)) + "." + payload + "." + enc(make([]byte, 64))
	if j, err := ParseJWT(none2); err != nil || j.VerifyES256(&priv.PublicKey) {
		t.Errorf("alg none: %v", err)
	}
	pubBytes, _ := priv.PublicKey.Bytes()
	input := enc([]byte(`{"alg":"HS256"}`)) + "." + payload
	mac := hmac.New(sha256.New, pubBytes)
	mac.Write([]byte(input))
	hs := input + "." + enc(mac.Sum(nil))
	if j, err := ParseJWT(hs); err != nil || j.VerifyES256(&priv.PublicKey) {
		t.Errorf("HS256 keyed with the public key verified (err %v)", err)
	}
	// A valid ES256 signature under a header that claims ES384.
	sig, _ := SignP256Raw(priv, &Message{Prefix: [4]string{enc([]byte(`{"alg":"ES384"}`)) + "." + payload}})
	es384 := enc([]byte(`{"alg":"ES384"}`)) + "." + payload + "." + enc(sig)
	if j, err := ParseJWT(es384); err != nil || j.VerifyES256(&priv.PublicKey) {
		t.Errorf("ES384-labelled token verified as ES256 (err %v)", err)
	}
}

func TestParseJWTMalformed(t *testing.T) {
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
		"huge":            h + "." + strings.Repeat("A", MaxJWTSize) + "." + s,
		"signature bad":   h + "." + p + ".*",
	} {
		if _, err := ParseJWT(tok); !errors.Is(err, ErrMalformedSignature) {
			t.Errorf("%s: err = %v, want ErrMalformedSignature", name, err)
		}
	}
}

func TestP256JWK(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, err := MarshalP256JWK("bfbd5111", &priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	kid, pub, err := ParseP256JWK(b)
	if err != nil || kid != "bfbd5111" || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("round trip: %q, %v", kid, err)
	}
	// The whole /webhook_verification_key/get response is accepted.
	resp := `{"key":` + string(b) + `,"request_id":"RZ6Omi1bzzwDaLo"}`
	if kid, pub, err := ParseP256JWK([]byte(resp)); err != nil || kid != "bfbd5111" || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("wrapped: %q, %v", kid, err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	mut := func(k string, v any) []byte {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		out, _ := json.Marshal(c)
		return out
	}
	enc := base64.RawURLEncoding.EncodeToString
	for name, data := range map[string][]byte{
		"not json":       []byte("nope"),
		"RSA":            mut("kty", "RSA"),
		"P-384":          mut("crv", "P-384"),
		"alg HS256":      mut("alg", "HS256"),
		"short x":        mut("x", enc(make([]byte, 31))),
		"padded y":       mut("y", m["y"].(string)+"="),
		"off curve":      mut("y", enc(append(make([]byte, 31), 1))),
		"missing x":      mut("x", nil),
		"huge":           append([]byte(`{"kty":"EC","pad":"`), append([]byte(strings.Repeat("a", maxJWKSize)), `"}`...)...),
		"key not object": []byte(`{"key":"x"}`),
	} {
		if _, _, err := ParseP256JWK(data); !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("%s: err = %v, want ErrInvalidSecret", name, err)
		}
	}
}
