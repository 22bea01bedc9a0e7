package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testJWK writes pub as the public JWK Plaid returns, with kid.
func testJWK(kid string, pub *ecdsa.PublicKey) []byte {
	pt, err := pub.Bytes() // 0x04 || x || y
	if err != nil {
		panic(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	b, _ := json.Marshal(map[string]string{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
		"x": b64(pt[1:33]), "y": b64(pt[33:]),
	})
	return b
}

func TestParseP256JWK(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b := testJWK("bfbd5111", &priv.PublicKey)
	kid, pub, err := ParseP256JWK(b)
	require.NoError(t, err, "round trip")
	require.Equal(t, "bfbd5111", kid, "round trip: kid")
	require.True(t, pub.Equal(&priv.PublicKey), "round trip: parsed another key")
	// The whole /webhook_verification_key/get response is accepted.
	resp := `{"key":` + string(b) + `,"request_id":"RZ6Omi1bzzwDaLo"}`
	kid, pub, err = ParseP256JWK([]byte(resp))
	require.NoError(t, err, "wrapped")
	require.Equal(t, "bfbd5111", kid, "wrapped: kid")
	require.True(t, pub.Equal(&priv.PublicKey), "wrapped: parsed another key")
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
		_, _, err := ParseP256JWK(data)
		assert.ErrorIs(t, err, ErrInvalidSecret, name)
	}
}
