package providers

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// Fuzz tests for the parsers of the shared-secret presets and for their
// Verify. Seeds live in testdata/fuzz. Run one with, for example:
//
//	go test -run='^$' -fuzz='^FuzzStampHeaderParse$' -fuzztime=10s ./providers

func FuzzStampHeaderParse(f *testing.F) {
	for _, s := range []string{
		"ts=1710929255;h1=6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8",
		"t=1565125718,v1=invalid-sig,v1=854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7",
		"ts=;h1=;", ";;", "=", "ts=1;ts=2", " t=1 , v1=00 ", "h1=h1=h1",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, paddle bool) {
		sep, tsKey, sigKey := byte(','), "t", "v1"
		if paddle {
			sep, tsKey, sigKey = ';', "ts", "h1"
		}
		var p stampHeader
		ok := parseStampHeader([]string{s}, sep, tsKey, sigKey, &p)
		for i := 0; i < p.sigs.Len(); i++ {
			require.Len(t, p.sigs.At(i), sha256.Size, "signature %d", i)
		}
		if !ok {
			require.Greater(t, strings.Count(s, sigKey+"="), verify.MaxSignatures, "reported too many %s entries in %q", sigKey, s)
		}
		if p.t != "" {
			require.Contains(t, s, tsKey+"="+p.t, "%s = %q not in %q", tsKey, p.t, s)
		}
	})
}

func FuzzSigValues(f *testing.F) {
	for _, s := range []string{
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"sha1=21ff2e149e0fdcac6f947740f6177f6434bda921",
		"sha256=dXNlIHRoZSByYXcgYm9keQ==", "SHA256=", "sha256", "", " \t ", "sha256=====",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, kind uint8) {
		specs := []*bodySpec{&bitbucketSpec, &intercomSpec, &typeformSpec, &vercelSpec}
		sp := specs[int(kind)%len(specs)]
		var sigs verify.Signatures
		parseSigValues([]string{s, s}, sp.prefix, sp.enc, sp.alg.Size(), &sigs)
		require.LessOrEqual(t, sigs.Len(), 2, "signatures from two values")
		for i := 0; i < sigs.Len(); i++ {
			require.Len(t, sigs.At(i), sp.alg.Size(), "signature %d", i)
		}
		if sigs.Len() > 0 {
			require.True(t, hasPrefixFold(trimOWS(s), sp.prefix), "accepted %q without the %q prefix", s, sp.prefix)
		}
	})
}

func FuzzBasicAuth(f *testing.F) {
	for _, s := range []string{"Basic dXNlcjpwYXNz", "basic dXNlcjpwYXNz", "Basic ", "Basic %%%", "Bearer x", "Basic dXNlcnBhc3M=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		creds, ok := parseBasicAuth(s)
		if !ok {
			require.Empty(t, creds, "credentials returned with ok false")
			return
		}
		require.Contains(t, creds, ":", "accepted %q as %q", s, creds)
		require.LessOrEqual(t, len(s), maxBasicAuth, "accepted %q as %q", s, creds)
		enc := base64.StdEncoding.EncodeToString([]byte(creds))
		require.Contains(t, s, enc, "%q is not the base64 %q of %q", s, enc, creds)
	})
}

func FuzzVerifyMailgun(f *testing.F) {
	const key = "key-mailgun-signing"
	p, err := NewMailgun(key)
	require.NoError(f, err)
	f.Add([]byte(`{"signature":{"timestamp":"1700000000","token":"tok","signature":"00"},"event-data":{"event":"delivered"}}`))
	f.Add([]byte(`{"signature":{"timestamp":1700000000,"token":"","signature":""}}`))
	f.Add([]byte(`{"signature":"x"}`))
	f.Add([]byte(`[{"signature":{}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := p.Verify(verify.Request{Body: body}, fuzzNow)
		if err != nil {
			checkVerify(t, p, verify.Request{Body: body}, "", nil)
			return
		}
		// Success means the body's signature is the HMAC of its timestamp
		// and token, recomputed here with crypto/hmac.
		ts, _ := jsonscan.Field(body, "signature", "timestamp")
		sig, _ := jsonscan.Field(body, "signature", "signature")
		want := mac([]byte(key), ts, d.ID)
		got, err := hex.DecodeString(sig)
		require.NoError(t, err, "accepted signature %q; the correct MAC is %x", sig, want)
		require.Equal(t, want, got, "accepted signature %q; the correct MAC is %x", sig, want)
	})
}

// fuzzPresets are the presets FuzzVerifyHMACPresets exercises, with how
// to recompute their MAC from the header value and the body.
var fuzzPresets = []struct {
	name, header string
	want         func(sig string, body []byte) []byte
}{
	{"bitbucket", "X-Hub-Signature", func(_ string, b []byte) []byte { return mac([]byte(fuzzSecret), string(b)) }},
	{"intercom", "X-Hub-Signature", func(_ string, b []byte) []byte { return sha1MAC([]byte(fuzzSecret), string(b)) }},
	{"typeform", "Typeform-Signature", func(_ string, b []byte) []byte { return mac([]byte(fuzzSecret), string(b)) }},
	{"sentry", "Sentry-Hook-Signature", func(_ string, b []byte) []byte { return mac([]byte(fuzzSecret), string(b)) }},
	{"mux", "Mux-Signature", func(s string, b []byte) []byte {
		var p stampHeader
		parseStampHeader([]string{s}, ',', "t", "v1", &p)
		return mac([]byte(fuzzSecret), p.t, ".", string(b))
	}},
	{"paddle", "Paddle-Signature", func(s string, b []byte) []byte {
		var p stampHeader
		parseStampHeader([]string{s}, ';', "ts", "h1", &p)
		return mac([]byte(fuzzSecret), p.t, ":", string(b))
	}},
}

func sha1MAC(key []byte, parts ...string) []byte {
	return oracleMAC(sha1.New, string(key), parts...)
}

func FuzzVerifyHMACPresets(f *testing.F) {
	provs := make([]Provider, len(fuzzPresets))
	for i, fp := range fuzzPresets {
		p, err := New(fp.name, fuzzSecret)
		require.NoError(f, err)
		provs[i] = p
	}
	f.Add(uint8(0), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte(`Hello, World!`))
	f.Add(uint8(1), "sha1=21ff2e149e0fdcac6f947740f6177f6434bda921", []byte(`{"type":"notification_event"}`))
	f.Add(uint8(2), "sha256=", []byte(``))
	f.Add(uint8(4), "t=1700000000,v1=854ece4c22acef7c66b57d4e504153bc512595e8e9c772ece2a68150548c19a7", []byte(`{"test":"body"}`))
	f.Add(uint8(5), "ts=1700000000;h1=6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8", []byte(`{}`))
	f.Fuzz(func(t *testing.T, which uint8, sig string, body []byte) {
		i := int(which) % len(fuzzPresets)
		fp := fuzzPresets[i]
		req := verify.Request{Header: http.Header{fp.header: {sig}}, Body: body}
		checkVerify(t, provs[i], req, fp.header, fp.want(sig, body))
	})
}

func FuzzVerifyGitLab(f *testing.F) {
	p, err := NewGitLab("gl-token", WithSecret("older-token"))
	require.NoError(f, err)
	for _, s := range []string{"gl-token", " gl-token ", "gl-toke", "older-token", "", "GL-TOKEN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		d, err := p.Verify(verify.Request{Header: http.Header{"X-Gitlab-Token": {tok}}}, fuzzNow)
		if err != nil {
			return
		}
		got := trimOWS(tok)
		require.True(t, got == "gl-token" && d.SecretIndex == 0 || got == "older-token" && d.SecretIndex == 1, "accepted token %q as secret %d", tok, d.SecretIndex)
	})
}
