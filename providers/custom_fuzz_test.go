package providers

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// Fuzz tests for the declarative schemes: the template parser, the JSON
// parser (every scheme it accepts must sign and verify its own requests)
// and Verify under a scheme. Seeds are in testdata/fuzz and
// testdata/schemes. Run one with, for example:
//
//	go test -run='^$' -fuzz='^FuzzParseScheme$' -fuzztime=20s ./providers

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"{body}", "{timestamp}.{body}", "v0:{timestamp}:{body}", "{id}.{timestamp}.{body}",
		"{method}{url}{body}{timestamp}", "{header:X-Request-Id}|{body}", "{{", "}}", "{", "}", "{}",
		"{header:}", "{body", "x{{y}}z{body}", "{header:a b}{body}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := parseTemplate(s)
		if err != nil {
			require.Nil(t, parts, "parts %v with error %v", parts, err)
			return
		}
		require.NotEmpty(t, parts, "parts")
		require.LessOrEqual(t, len(parts), maxTemplateParts, "%d parts", len(parts))
		// Writing the parts back gives a template that compiles to the
		// same parts.
		var b strings.Builder
		for i, p := range parts {
			switch p.kind {
			case partLiteral:
				if i > 0 {
					require.NotEqual(t, partLiteral, parts[i-1].kind, "adjacent literals in %v", parts)
				}
				b.WriteString(strings.NewReplacer("{", "{{", "}", "}}").Replace(p.text))
			case partHeader:
				require.True(t, isHeaderToken(p.text), "header part %q is not a token", p.text)
				b.WriteString("{header:" + p.text + "}")
			default:
				b.WriteString("{" + map[partKind]string{partBody: "body", partID: "id", partTimestamp: "timestamp", partURL: "url", partMethod: "method"}[p.kind] + "}")
			}
		}
		again, err := parseTemplate(b.String())
		require.NoError(t, err, "%q -> %v -> %q", s, parts, b.String())
		require.Equal(t, parts, again, "%q -> %v -> %q -> %v", s, parts, b.String(), again)
	})
}

// fuzzSecretFor returns a secret that a scheme of algorithm alg and
// secret format format accepts and can sign with.
func fuzzSecretFor(alg, format string) string {
	if alg == "ed25519" {
		seed := make([]byte, ed25519.SeedSize)
		return keys.PrivateKeyPrefix + base64.StdEncoding.EncodeToString(seed)
	}
	switch format {
	case "hex":
		return "00ff10"
	case "base64":
		return "c2VjcmV0"
	case "whsec":
		return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	}
	return "s3cret"
}

func FuzzParseScheme(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "schemes", "*.json"))
	require.NoError(f, err, "no scheme files")
	require.NotEmpty(f, files, "no scheme files")
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"name":"a","header":"S","algorithm":"hmac-sha512","encoding":"base64url","secret_format":"hex","signed":"{method} {url} {header:Content-Type} {body}"}`))
	f.Add([]byte(`{"name":"a","header":"S","algorithm":"ed25519","encoding":"hex","signed":"{timestamp}{body}","timestamp":{"header":"T","unit":"ms"}}`))
	f.Add([]byte(`{"name":"a","header":"S","separator":"semicolon","version_key":"h1","algorithm":"hmac-sha256","encoding":"hex","signed":"{timestamp}:{body}","timestamp":{"key":"ts"}}`))
	f.Add([]byte(`{"name":"a","extra":1}`))
	f.Add([]byte(`{"name":"a"} {}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScheme(data)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidScheme)
			return
		}
		p, err := NewCustom(s, fuzzSecretFor(s.Algorithm, s.SecretFormat))
		require.NoError(t, err, "ParseScheme accepted a scheme NewCustom rejects")
		o := Outgoing{Body: []byte(`{"id":"evt_1","type":"t"}`), ID: "id-1", Type: "t", Timestamp: fuzzNow, URL: "https://example.com/h", Method: "PUT"}
		h, err := p.Sign(o)
		if err != nil {
			require.ErrorIs(t, err, ErrCannotSign, "Sign")
			return
		}
		req := verify.Request{Method: o.Method, URL: o.URL, Header: h, Body: o.Body}
		_, err = p.Verify(req, fuzzNow)
		require.NoError(t, err, "a request signed under the scheme does not verify\nheaders %v", h)
		req.Body = []byte(`{"id":"evt_1","type":"u"}`)
		_, err = p.Verify(req, fuzzNow)
		require.ErrorIs(t, err, verify.ErrSignatureMismatch, "an altered body")
	})
}

// FuzzVerifyCustom checks Verify under the stripe and slack descriptions
// with the same oracle as the preset fuzzers: a request verifies only
// when its header carries the correct MAC.
func FuzzVerifyCustom(f *testing.F) {
	stripe := mustCustom(f, loadScheme(f, "stripe"), fuzzSecret)
	slack := mustCustom(f, loadScheme(f, "slack"), fuzzSecret)
	f.Add(false, "t=1700000000,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7", "", []byte(`{"id":"evt_1"}`))
	f.Add(false, ",t=1700000001,,v0=00,t=1700000001", "", []byte(`{}`))
	f.Add(true, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504", "1700000000", []byte(`token=x`))
	f.Add(true, "V0=00 v0=", " 1700000000 ", []byte(``))
	f.Fuzz(func(t *testing.T, useSlack bool, sig, ts string, body []byte) {
		if !useSlack {
			req := verify.Request{Header: http.Header{"Stripe-Signature": {sig}}, Body: body}
			var h customHeader
			stripe.c.parseSignatures([]string{sig}, &h)
			checkVerify(t, stripe, req, "Stripe-Signature", mac([]byte(fuzzSecret), h.t, ".", string(body)))
			return
		}
		req := verify.Request{Header: http.Header{"X-Slack-Signature": {sig}, "X-Slack-Request-Timestamp": {ts}}, Body: body}
		checkVerify(t, slack, req, "X-Slack-Signature", mac([]byte(fuzzSecret), "v0:", trimOWS(ts), ":", string(body)))
	})
}
