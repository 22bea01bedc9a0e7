package providers

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // builds the SHA-1 signatures a downgrade would present
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Twilio SharedKey signatures (issue 15, provider accuracy): when a
// Webhook Rule matches the URL, Twilio signs with a SharedKey's secret and
// the Setting's algorithm instead of the auth token, and announces it in
// X-Twilio-Webhooks-Signature-Settings: key=<key ID>,algorithm=HMAC_SHA256.
// X-Twilio-Signature stays the base64 HMAC of the URL followed by the
// sorted form parameters (or of the URL with bodySHA256 for a JSON body);
// only the hash changes. Sources: twilio-node lib/webhooks/webhooks.js
// (SIGNATURE_SETTINGS_HEADER, getSignatureAlgorithm,
// getExpectedTwilioSignature) and examples/WebhookSignatureValidation.md;
// www.twilio.com/docs/usage/webhooks/webhook-shared-keys.

const (
	twKeyID  = "webhooks_sharedkey_01jexample"
	twSecret = "shared-key-secret-0123456789abcdef"
	twURL    = "https://mycompany.com/myapp.php?foo=1&bar=2"
	twForm   = "Digits=1234&CallSid=CA1234567890ABCDE&To=%2B18005551212&Caller=%2B14158675309&From=%2B14158675309"
	twJSON   = `{"property": "value", "boolean": true}`
	twHook   = "https://hooks.example.com/twilio"
	twMulti  = "MessageSid=SM1&MessageStatus=delivered&Tag=b&Tag=a&Tag=b"
)

// twilioSHA256Vectors were produced by the official twilio npm package,
// version 6.3.1, function getExpectedTwilioSignature(secret, url, params,
// "HMAC_SHA256") from lib/webhooks/webhooks.js, keyed with twSecret; each
// was checked with the same package's validateRequest (or
// validateRequestWithBody for the JSON one) and the algorithm its
// getSignatureAlgorithm reads from "key=...,algorithm=HMAC_SHA256". As a
// cross-check, the same function with "HMAC_SHA1" and the auth token
// "12345" gives RSOYDt4T1cUTdK1PDd93/VVr8B8=, twilio-go's published form
// vector (TestTwilioPublishedVectors).
var twilioSHA256Vectors = []struct {
	name, url, ctype, body, sig string
}{
	{"form", twURL, "application/x-www-form-urlencoded", twForm, "hgcffglKoXyCEo7JlVH+YSExmPjAGh2EDWeGco8/uu0="},
	{"json with bodySHA256", twURL + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", "application/json", twJSON, "6JgQVoOSH7gBScZdWoGK8gFLhNGlj1Grj8bUl+g65Js="},
	// A repeated parameter: its values sorted, duplicates once.
	{"form, repeated parameter", twHook, "application/x-www-form-urlencoded", twMulti, "gHUpCcIZKICuFWjQtWYCGAo7ZIYU2WIz2lRadxWTiy0="},
	// Signed over https://hooks.example.com:443/twilio, received without
	// the port (validateRequest accepts it).
	{"form, signed with :443", twHook, "application/x-www-form-urlencoded", twMulti, "o6TWysgFH/B44SCsN8B0R9kvtvw8d6dcONl356gp39U="},
}

// twilioSettingsValue returns the settings header Twilio sends for key and
// alg.
func twilioSettingsValue(key, alg string) string {
	return "key=" + key + ",algorithm=" + alg
}

// twilioReq is a request as Twilio sends it; settings "" means no settings
// header.
func twilioReq(u, ctype, body, sig, settings string) verify.Request {
	h := hdr("Content-Type", ctype, twilioSignatureHeader, sig)
	if settings != "" {
		h.Set(twilioSettingsHeader, settings)
	}
	return verify.Request{Method: http.MethodPost, URL: u, Header: h, Body: []byte(body)}
}

// twilioMAC is Twilio's signature of rawURL and form under key with hash
// fn, built here independently of the preset for the downgrade cases.
func twilioMAC(t *testing.T, fn func() hash.Hash, key, rawURL, form string) string {
	t.Helper()
	vals, err := url.ParseQuery(form)
	require.NoError(t, err)
	m := hmac.New(fn, []byte(key))
	m.Write([]byte(rawURL))
	m.Write(twilioParams(vals))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestTwilioSharedKeyVectors(t *testing.T) {
	p := mustNew(t, "twilio", twSecret, WithSharedKey(twKeyID))
	settings := twilioSettingsValue(twKeyID, "HMAC_SHA256")
	for _, v := range twilioSHA256Vectors {
		t.Run(v.name, func(t *testing.T) {
			d, err := p.Verify(twilioReq(v.url, v.ctype, v.body, v.sig, settings), t0)
			require.NoError(t, err, "Verify")
			assert.Equal(t, 0, d.SecretIndex, "delivery = %+v; want secret 0", d)
			assert.True(t, d.Replayable, "delivery = %+v; want replayable", d)
			assert.NotZero(t, d.Digest, "delivery = %+v; want a digest", d)
		})
	}
	// Sign reproduces the vectors Twilio's SDK computes, and sends the
	// settings header for the first key.
	for _, v := range twilioSHA256Vectors[:3] {
		h, err := p.Sign(Outgoing{Body: []byte(v.body), URL: v.url, ContentType: v.ctype})
		if assert.NoError(t, err, "Sign %s", v.name) {
			assert.Equal(t, v.sig, h.Get(twilioSignatureHeader), "Sign %s: signature", v.name)
			assert.Equal(t, settings, h.Get(twilioSettingsHeader), "Sign %s: settings", v.name)
		}
	}
	info := p.Info()
	assert.Contains(t, info.Algorithm, "HMAC-SHA256", "Info = %+v", info)
	assert.False(t, info.Timestamped, "Info = %+v", info)
}

// TestTwilioSharedKeyBinding: the settings header must name a configured
// key and HMAC_SHA256; nothing the request carries moves a SharedKey
// receiver to another key or back to SHA-1, and an auth-token receiver
// refuses SharedKey requests.
func TestTwilioSharedKeyBinding(t *testing.T) {
	v := twilioSHA256Vectors[0]
	sha1Shared := twilioMAC(t, sha1.New, twSecret, twURL, twForm)   // SHA-1 under the shared secret
	sha256Token := twilioMAC(t, sha256.New, "12345", twURL, twForm) // SHA-256 under the auth token
	const sha1Token = "RSOYDt4T1cUTdK1PDd93/VVr8B8="                // twilio-go's vector, auth token "12345"
	sha256Shared := twilioMAC(t, sha256.New, twSecret, twURL, twForm)
	require.Equal(t, v.sig, sha256Shared, "twilioMAC: want the SDK's signature")
	shared := mustNew(t, "twilio", twSecret, WithSharedKey(twKeyID))
	rotating := mustNew(t, "twilio", "new-shared-secret", WithSharedKey("webhooks_sharedkey_new"), WithSecret(twSecret), WithSharedKey(twKeyID))
	token := mustNew(t, "twilio", "12345")
	tests := []struct {
		name     string
		p        Provider
		sig      string
		settings []string // header lines; nil for none
		want     error
	}{
		{"shared key", shared, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256"}, nil},
		{"spaces and lower case, as the SDK reads them", shared, v.sig, []string{" key = " + twKeyID + " , algorithm = hmac_sha256 "}, nil},
		{"algorithm first, unknown parameter", shared, v.sig, []string{"algorithm=HMAC_SHA256,version=2,key=" + twKeyID}, nil},
		{"repeated identical lines", shared, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256", "key=" + twKeyID + ",algorithm=HMAC_SHA256"}, nil},
		{"rotation, old key", rotating, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256"}, nil},
		// The key is bound: another key ID is refused, even with the
		// right signature.
		{"another key", shared, v.sig, []string{"key=webhooks_sharedkey_other,algorithm=HMAC_SHA256"}, verify.ErrSignatureMismatch},
		{"key ID differs in case", shared, v.sig, []string{"key=" + strings.ToUpper(twKeyID) + ",algorithm=HMAC_SHA256"}, verify.ErrSignatureMismatch},
		// Downgrades to SHA-1: no settings header (the auth-token scheme),
		// or settings naming HMAC_SHA1 or no algorithm.
		{"no settings, auth-token SHA-1", shared, sha1Token, nil, verify.ErrSignatureMismatch},
		{"no settings, SHA-1 under the shared secret", shared, sha1Shared, nil, verify.ErrSignatureMismatch},
		{"no settings, SHA-256 signature", shared, v.sig, nil, verify.ErrSignatureMismatch},
		{"HMAC_SHA1 named", shared, sha1Shared, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA1"}, verify.ErrSignatureMismatch},
		{"no algorithm named (means HMAC_SHA1)", shared, sha1Shared, []string{"key=" + twKeyID}, verify.ErrSignatureMismatch},
		{"unknown algorithm", shared, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA512"}, verify.ErrSignatureMismatch},
		{"wrong secret", shared, sha256Token, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256"}, verify.ErrSignatureMismatch},
		// Malformed settings.
		{"no key", shared, v.sig, []string{"algorithm=HMAC_SHA256"}, verify.ErrMalformedSignature},
		{"empty key", shared, v.sig, []string{"key=,algorithm=HMAC_SHA256"}, verify.ErrMalformedSignature},
		{"key twice", shared, v.sig, []string{"key=" + twKeyID + ",key=other,algorithm=HMAC_SHA256"}, verify.ErrMalformedSignature},
		{"algorithm twice", shared, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256,algorithm=HMAC_SHA1"}, verify.ErrMalformedSignature},
		{"not name=value", shared, v.sig, []string{"HMAC_SHA256"}, verify.ErrMalformedSignature},
		{"two different lines", shared, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256", "key=other,algorithm=HMAC_SHA256"}, verify.ErrMalformedSignature},
		{"SHA-1 sized signature", shared, sha1Shared, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256"}, verify.ErrMalformedSignature},
		// The auth-token receiver keeps SHA-1 and refuses SharedKey
		// requests, which it cannot check.
		{"auth token, SHA-1", token, sha1Token, nil, nil},
		{"auth token, SharedKey request", token, v.sig, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA256"}, verify.ErrSignatureMismatch},
		{"auth token, SHA-1 with a settings header", token, sha1Token, []string{"key=" + twKeyID + ",algorithm=HMAC_SHA1"}, verify.ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := twilioReq(twURL, "application/x-www-form-urlencoded", twForm, tt.sig, "")
			for _, s := range tt.settings {
				req.Header.Add(twilioSettingsHeader, s)
			}
			d, err := tt.p.Verify(req, t0)
			wantErr(t, err, tt.want, "twilio")
			if err == nil && tt.p == rotating {
				assert.Equal(t, 1, d.SecretIndex, "rotation: SecretIndex")
			}
			if err != nil {
				assert.NotContains(t, err.Error(), twSecret, "the error echoes the secret")
			}
		})
	}
}

// TestTwilioSharedKeyReasons: the refusals say what to configure.
func TestTwilioSharedKeyReasons(t *testing.T) {
	v := twilioSHA256Vectors[0]
	shared := mustNew(t, "twilio", twSecret, WithSharedKey(twKeyID))
	token := mustNew(t, "twilio", "12345")
	for _, tt := range []struct {
		name     string
		p        Provider
		settings string
		word     string
	}{
		{"downgrade", shared, "", "WithSharedKey"},
		{"other key", shared, "key=webhooks_sharedkey_attacker,algorithm=HMAC_SHA256", "WithSharedKey"},
		{"other algorithm", shared, "key=" + twKeyID + ",algorithm=HMAC_SHA1", "HMAC_SHA256"},
		{"SharedKey at an auth-token receiver", token, "key=" + twKeyID + ",algorithm=HMAC_SHA256", "WithSharedKey"},
	} {
		_, err := tt.p.Verify(twilioReq(twURL, "application/x-www-form-urlencoded", twForm, v.sig, tt.settings), t0)
		assert.ErrorContains(t, err, tt.word, "%s: want 401 naming %s", tt.name, tt.word)
		assert.Equal(t, http.StatusUnauthorized, verify.StatusCode(err), "%s: status", tt.name)
		if err != nil {
			assert.NotContains(t, err.Error(), "attacker", "%s: the error echoes the request's key ID", tt.name)
		}
	}
}

func TestWithSharedKeyValues(t *testing.T) {
	for _, id := range []string{"", " ", "a,b", "a=b", "a b", "a;b", "a\x00", "é", strings.Repeat("k", maxSharedKeyID+1)} {
		p, err := NewTwilio(twSecret, WithSharedKey(id))
		assert.Nil(t, p, "WithSharedKey(%q)", id)
		assert.ErrorIs(t, err, ErrInvalidOption, "WithSharedKey(%q)", id)
		assert.ErrorContains(t, err, "WithSharedKey", "WithSharedKey(%q)", id)
	}
	_, err := NewTwilio(twSecret, WithSharedKey(strings.Repeat("k", maxSharedKeyID)))
	assert.NoError(t, err, "a %d-byte key ID", maxSharedKeyID)
	_, err = NewTwilio("", WithSharedKey(twKeyID))
	assert.ErrorIs(t, err, verify.ErrEmptySecret, "WithSharedKey without a secret")
}

// FuzzTwilioSettings: the settings parser never panics, and a header it
// accepts names a non-empty key that, written back in Twilio's form,
// parses to the same settings.
//
//	go test ./providers -run '^$' -fuzz FuzzTwilioSettings
func FuzzTwilioSettings(f *testing.F) {
	for _, s := range []string{
		"key=webhooks_sharedkey_01jexample,algorithm=HMAC_SHA256", "key=x", "algorithm=HMAC_SHA1", "",
		" key = a , algorithm = b ", "key=a,key=b", "key==,algorithm==", ",,,", "key=a,,algorithm=HMAC_SHA256,",
	} {
		f.Add(s)
	}
	p := mustNew(f, "twilio", twSecret, WithSharedKey(twKeyID))
	f.Fuzz(func(t *testing.T, v string) {
		st, ok := parseTwilioSettings(v)
		if ok {
			require.NotEmpty(t, st.key, "parseTwilioSettings(%q) accepted an empty key", v)
			if !strings.ContainsAny(st.key, ",") && !strings.ContainsAny(st.algorithm, ",") {
				again, ok2 := parseTwilioSettings("key=" + st.key + ",algorithm=" + st.algorithm)
				const msg = "parseTwilioSettings(%q) = %+v, but its rewrite parses to %+v, %v"
				require.True(t, ok2, msg, v, st, again, ok2)
				require.Equal(t, st.key, again.key, msg, v, st, again, ok2)
				if st.hasAlgorithm {
					require.Equal(t, st.algorithm, again.algorithm, msg, v, st, again, ok2)
				}
			}
		}
		// Whatever the settings say, a wrong signature never verifies,
		// and the right one verifies only under twKeyID and HMAC_SHA256.
		req := twilioReq(twURL, "application/x-www-form-urlencoded", twForm, twilioSHA256Vectors[0].sig, v)
		_, err := p.Verify(req, t0)
		if !ok || st.key != twKeyID || !strings.EqualFold(st.algorithm, "HMAC_SHA256") {
			require.Error(t, err, "settings %q (%+v, %v) verified", v, st, ok)
		}
	})
}
