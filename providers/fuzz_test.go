package providers

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// Fuzz tests for every header parser and every preset's Verify. Run one
// with, for example:
//
//	go test -run='^$' -fuzz='^FuzzVerifyStripe$' -fuzztime=20s ./providers

func FuzzStripeHeader(f *testing.F) {
	for _, s := range []string{
		"t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef",
		"t=,v1=,v0=", "t,v1=,v0", "t,,", ",,", "t", "", "=", "v1=v1=v1", "t=1,t=2", " t=1 , v1=00 ",
		"t=1" + strings.Repeat(",v1="+strings.Repeat("ab", 32), 20),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p stripeHeader
		ok := parseStripeHeader([]string{s}, &p)
		require.LessOrEqual(t, p.sigs.Len(), verify.MaxSignatures, "signatures")
		for i := 0; i < p.sigs.Len(); i++ {
			require.Len(t, p.sigs.At(i), sha256.Size, "signature %d", i)
		}
		if !ok {
			require.Greater(t, strings.Count(s, "v1="), verify.MaxSignatures, "reported too many v1 entries in %q", s)
		}
		if p.t != "" {
			require.Contains(t, s, "t="+p.t, "t = %q not in %q", p.t, s)
		}
	})
}

func FuzzStandardSignatureHeader(f *testing.F) {
	for _, s := range []string{
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		"v1a,AAAA v1,", "v1", ",", "  ", "v1,,,", "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, asym bool) {
		want, size := "v1", sha256.Size
		if asym {
			want, size = "v1a", 64
		}
		var sigs verify.Signatures
		ok := parseStandardSignatures([]string{s}, want, size, &sigs)
		for i := 0; i < sigs.Len(); i++ {
			require.Len(t, sigs.At(i), size, "signature %d", i)
		}
		if !ok {
			require.Greater(t, strings.Count(s, want+","), verify.MaxSignatures, "reported too many entries in %q", s)
		}
	})
}

func FuzzPrefixedHexHeader(f *testing.F) {
	for _, s := range []string{
		"sha256=b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b",
		"SHA256=B1F8020F5B4CD42042F807DD939015C4A418BC1FF7F604DD55B0A19B5D953D9B",
		"sha1=126f2c800419c60137ce748d7672e77b65cf16d6", "sha256=", "sha256", "", " sha256=00 ",
		"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, prefix := range []string{"sha256=", "sha1=", "v0="} {
			var sigs verify.Signatures
			parsePrefixedHex([]string{s, s}, prefix, 32, &sigs)
			for i := 0; i < sigs.Len(); i++ {
				require.Len(t, sigs.At(i), 32, "signature %d", i)
			}
		}
	})
}

func FuzzBase64Header(f *testing.F) {
	for _, s := range []string{"B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g", "====", "", "!!", " x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var sigs verify.Signatures
		parseBase64Values([]string{s}, 32, &sigs)
		require.LessOrEqual(t, sigs.Len(), 1, "signatures from one value")
		if sigs.Len() == 1 {
			require.Len(t, sigs.At(0), 32, "the signature from one value")
		}
	})
}

// fuzzNow is the clock of the Verify fuzz tests; seeds use timestamps near it.
var fuzzNow = time.Unix(1700000000, 0)

const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// mac computes HMAC-SHA256 with the standard library, independently of
// package verify, as the fuzz tests' oracle.
func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// checkVerify asserts what must hold for every input: a failure is a
// *verify.Error with a status, and a success means the header really
// carried the correct MAC, want (so random signatures never verify).
func checkVerify(t *testing.T, p Provider, req verify.Request, sigHeader string, want []byte) {
	t.Helper()
	d, err := p.Verify(req, fuzzNow)
	if err != nil {
		var ve *verify.Error
		require.ErrorAs(t, err, &ve, "error %v (%T) is not a *verify.Error with a status", err, err)
		require.NotZero(t, ve.Status, "error %v (%T) is not a *verify.Error with a status", err, err)
		require.Nil(t, d.Reply, "Reply set on a failed verification")
		return
	}
	require.True(t, carries(req.Header.Values(sigHeader), want), "Verify accepted %s %q; the correct MAC is %x", sigHeader, req.Header.Values(sigHeader), want)
}

// carries reports whether any token of vals (split at spaces, commas and
// '=') decodes, as hex or as base64, to want.
func carries(vals []string, want []byte) bool {
	for _, v := range vals {
		for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '=' }) {
			if b, err := hex.DecodeString(tok); err == nil && hmac.Equal(b, want) {
				return true
			}
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(tok); err == nil && hmac.Equal(b, want) {
					return true
				}
			}
		}
	}
	return false
}

func FuzzVerifyStripe(f *testing.F) {
	p, err := NewStripe(fuzzSecret)
	require.NoError(f, err)
	f.Add("t=1700000000,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7", []byte(`{"id":"evt_1","type":"x"}`))
	f.Add("t=1700000000,v1=", []byte(`{}`))
	f.Add("t=99999999999999,v1=00", []byte(``))
	f.Add(",t=1700000001,,v0=00", []byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		req := verify.Request{Header: http.Header{"Stripe-Signature": {sig}}, Body: body}
		var ph stripeHeader
		parseStripeHeader([]string{sig}, &ph)
		want := mac([]byte(fuzzSecret), ph.t, ".", string(body))
		checkVerify(t, p, req, "Stripe-Signature", want)
	})
}

func FuzzVerifyGitHub(f *testing.F) {
	p, err := NewGitHub("0123456789abcdef", WithLegacySHA1())
	require.NoError(f, err)
	f.Add("sha256=b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9c", []byte(`{"yo":true}`))
	f.Add("sha1=126f2c800419c60137ce748d7672e77b65cf16d7", []byte(`{"yo":true}`))
	f.Add("", []byte(`payload=%7B%7D`))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		name := "X-Hub-Signature-256"
		want := mac([]byte("0123456789abcdef"), string(body))
		if strings.HasPrefix(sig, "sha1=") {
			name = "X-Hub-Signature"
			m := hmac.New(sha1.New, []byte("0123456789abcdef"))
			m.Write(body)
			want = m.Sum(nil)
		}
		req := verify.Request{Header: http.Header{name: {sig}, "X-Github-Delivery": {"d"}}, Body: body}
		checkVerify(t, p, req, name, want)
	})
}

func FuzzVerifyShopify(f *testing.F) {
	p, err := NewShopify("test_secret_key")
	require.NoError(f, err)
	f.Add("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7h=", []byte(`{"foo": "bar"}`))
	f.Add("", []byte(``))
	f.Add("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g", []byte(`{"foo": "baz"}`))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		req := verify.Request{Header: http.Header{"X-Shopify-Hmac-Sha256": {sig}}, Body: body}
		want := mac([]byte("test_secret_key"), string(body))
		checkVerify(t, p, req, "X-Shopify-Hmac-Sha256", want)
	})
}

func FuzzVerifySlack(f *testing.F) {
	p, err := NewSlack("8f742231b10e8888abcd99yyyzzz85a5")
	require.NoError(f, err)
	f.Add("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504", "1700000000", []byte(`{"type":"url_verification","challenge":"c"}`))
	f.Add("v0=", "", []byte(``))
	f.Add("v1=00", "1700000000", []byte(`token=x`))
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		req := verify.Request{Header: http.Header{"X-Slack-Signature": {sig}, "X-Slack-Request-Timestamp": {ts}}, Body: body}
		want := mac([]byte("8f742231b10e8888abcd99yyyzzz85a5"), "v0:", trimOWS(ts), ":", string(body))
		checkVerify(t, p, req, "X-Slack-Signature", want)
	})
}

func FuzzVerifyStandardWebhooks(f *testing.F) {
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(f, err)
	for _, name := range []string{"standardwebhooks", "svix"} {
		f.Add(name == "svix", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1700000000", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	}
	f.Add(false, "", "", "v1,", []byte(``))
	f.Add(true, "a.b", "1700000000", "v2,AAAA v1a,AAAA v1,AAAA", []byte(`{"type":1}`))
	std, err := NewStandardWebhooks(fuzzSecret)
	require.NoError(f, err)
	svix, err := NewSvix(fuzzSecret)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, useSvix bool, id, ts, sig string, body []byte) {
		p, prefix := Provider(std), "Webhook-"
		if useSvix {
			p, prefix = svix, "Svix-"
		}
		req := verify.Request{Header: http.Header{prefix + "Id": {id}, prefix + "Timestamp": {ts}, prefix + "Signature": {sig}}, Body: body}
		want := mac(key, trimOWS(id), ".", trimOWS(ts), ".", string(body))
		checkVerify(t, p, req, prefix+"Signature", want)
	})
}
