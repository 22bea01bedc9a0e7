package providers

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadScheme reads testdata/schemes/name.json.
func loadScheme(t testing.TB, name string) Scheme {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "schemes", name+".json"))
	require.NoError(t, err)
	s, err := ParseScheme(data)
	require.NoError(t, err, "ParseScheme(%s.json)", name)
	return s
}

func mustCustom(t testing.TB, s Scheme, secret string, opts ...Option) *custom {
	t.Helper()
	p, err := newCustom(s, secret, opts...)
	require.NoError(t, err, "NewCustom(%s)", s.Name)
	return p
}

// cloneRequest deep-copies a request, so that each verifier sees its own.
func cloneRequest(r verify.Request) verify.Request {
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	return r
}

// sameOutcome fails unless the preset and the custom scheme agree on req:
// both accept it with the same Delivery, or both reject it with the same
// sentinel and status.
func sameOutcome(t *testing.T, preset, custom Provider, req verify.Request, now time.Time) {
	t.Helper()
	dp, errP := preset.Verify(cloneRequest(req), now)
	dc, errC := custom.Verify(cloneRequest(req), now)
	require.Equal(t, errP == nil, errC == nil, "preset err = %v, custom err = %v", errP, errC)
	if errP != nil {
		kind := sentinelOf(errP)
		require.ErrorIs(t, errC, kind, "preset err = %v, custom err = %v", errP, errC)
		require.Equal(t, verify.StatusCode(errP), verify.StatusCode(errC), "status: preset err = %v, custom err = %v", errP, errC)
		var ve *verify.Error
		require.ErrorAs(t, errC, &ve, "custom err: want a *verify.Error of %q with a reason", custom.Name())
		require.Equal(t, custom.Name(), ve.Provider, "custom err = %#v: Provider", errC)
		require.NotEmpty(t, ve.Reason, "custom err = %#v: want a reason", errC)
		return
	}
	const differ = "deliveries differ:\npreset %+v\ncustom %+v"
	require.Equal(t, dp.Provider, dc.Provider, differ, dp, dc)
	require.Equal(t, dp.ID, dc.ID, differ, dp, dc)
	require.Equal(t, dp.Type, dc.Type, differ, dp, dc)
	require.WithinDuration(t, dp.Timestamp, dc.Timestamp, 0, differ, dp, dc)
	require.Equal(t, dp.SecretIndex, dc.SecretIndex, differ, dp, dc)
	require.Equal(t, dp.Replayable, dc.Replayable, differ, dp, dc)
	require.Equal(t, dp.Digest, dc.Digest, differ, dp, dc)
	require.Equal(t, dp.Reply == nil, dc.Reply == nil, differ, dp, dc)
}

// sentinel returns the verify sentinel err wraps.
func sentinelOf(err error) error {
	for _, s := range []error{verify.ErrMissingSignature, verify.ErrMalformedSignature, verify.ErrSignatureMismatch,
		verify.ErrMissingTimestamp, verify.ErrMalformedTimestamp, verify.ErrTimestampTooOld, verify.ErrTimestampTooNew,
		verify.ErrMissingHeader} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// TestSchemeFilesVerifyPublishedVectors proves that each preset of the
// first release is expressible as a Scheme: the JSON description in
// testdata/schemes verifies every published vector of vectors_test.go
// exactly as the hand-written preset does, and rejects the vector with one
// byte appended to the body.
func TestSchemeFilesVerifyPublishedVectors(t *testing.T) {
	for _, v := range vectors() {
		t.Run(v.name, func(t *testing.T) {
			if len(v.opts) > 0 || v.name == "svix/go-unbranded" {
				// WithLegacySHA1 and Svix's fallback to webhook-* headers
				// are preset extras: a Scheme has one signature header.
				// The SHA-1 vector is checked with its own scheme in
				// TestCustomAlgorithms.
				t.Skip("preset extra, not part of the declarative form")
			}
			preset := mustNew(t, v.provider, v.secret)
			custom := mustCustom(t, loadScheme(t, v.provider), v.secret)
			req := request(v.header, v.body)
			d, err := custom.Verify(cloneRequest(req), v.now)
			require.NoError(t, err, "custom Verify (%s)", v.source)
			assert.Equal(t, v.wantID, d.ID, "ID")
			assert.Equal(t, v.wantType, d.Type, "Type")
			sameOutcome(t, preset, custom, req, v.now)
			sameOutcome(t, preset, custom, request(v.header, v.body+" "), v.now)
		})
	}
}

// TestSchemeFilesSignLikePresets checks that each description signs
// exactly as its preset: the published signature header of
// TestSignReproducesVectors, and every header both set.
func TestSchemeFilesSignLikePresets(t *testing.T) {
	tests := []struct {
		provider, secret string
		o                Outgoing
		header, want     string
	}{
		{"stripe", "webhook_secret", Outgoing{Body: []byte(stripeVectorBody), Timestamp: time.Unix(1533204620, 0)},
			"Stripe-Signature", "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7"},
		{"github", "0123456789abcdef", Outgoing{Body: []byte(`{"yo":true}`), ID: "dead-beef", Type: "ping"},
			"X-Hub-Signature-256", "sha256=b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b"},
		{"shopify", "test_secret_key", Outgoing{Body: []byte(`{"foo": "bar"}`), ID: "123456789", Type: "PRODUCTS_CREATE"},
			"X-Shopify-Hmac-Sha256", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="},
		{"slack", "8f742231b10e8888abcd99yyyzzz85a5", Outgoing{Body: []byte(slackVectorBody), Timestamp: time.Unix(1531420618, 0)},
			"X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
		{"standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Outgoing{Body: []byte(`{"test": 2432232314}`), ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)},
			"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Outgoing{Body: []byte(`{"test": 2432232314}`), ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: time.Unix(1614265330, 0)},
			"svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			custom := mustCustom(t, loadScheme(t, tt.provider), tt.secret)
			got, err := custom.Sign(tt.o)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Get(tt.header), tt.header)
			want, err := mustNew(t, tt.provider, tt.secret).Sign(tt.o)
			require.NoError(t, err)
			for k, v := range got {
				assert.Equal(t, want[k], v, "header %s: the preset's, then the scheme's", k)
			}
		})
	}
}

// schemeTamper is one way to alter a signed request.
type schemeTamper struct {
	name   string
	mutate func(t *testing.T, ps preset, r *verify.Request)
	now    time.Duration // added to t0
}

func schemeTampers() []schemeTamper {
	setSig := func(f func(string) string) func(*testing.T, preset, *verify.Request) {
		return func(_ *testing.T, ps preset, r *verify.Request) { r.Header.Set(ps.sigH, f(r.Header.Get(ps.sigH))) }
	}
	const hex64 = "b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b"
	tt := []schemeTamper{
		{name: "untouched", mutate: func(*testing.T, preset, *verify.Request) {}},
		{name: "body byte flipped", mutate: func(_ *testing.T, _ preset, r *verify.Request) { r.Body[10] ^= 0x01 }},
		{name: "body truncated", mutate: func(_ *testing.T, _ preset, r *verify.Request) { r.Body = r.Body[:len(r.Body)-1] }},
		{name: "body appended", mutate: func(_ *testing.T, _ preset, r *verify.Request) { r.Body = append(r.Body, '\n') }},
		{name: "empty body", mutate: func(_ *testing.T, _ preset, r *verify.Request) { r.Body = nil }},
		{name: "signature char flipped", mutate: func(_ *testing.T, ps preset, r *verify.Request) { setSig(flipSigChar)(nil, ps, r) }},
		{name: "no signature header", mutate: func(_ *testing.T, ps preset, r *verify.Request) { r.Header.Del(ps.sigH) }},
		{name: "empty signature header", mutate: setSig(func(string) string { return "" })},
		{name: "garbage signature header", mutate: setSig(func(string) string { return "not a signature at all" })},
		{name: "signature uppercased", mutate: setSig(strings.ToUpper)},
		{name: "signature lowercased", mutate: setSig(strings.ToLower)},
		{name: "surrounding whitespace", mutate: setSig(func(v string) string { return " \t" + v + " " })},
		{name: "signature truncated", mutate: setSig(func(v string) string { return v[:len(v)-2] })},
		{name: "signature extended", mutate: setSig(func(v string) string { return v + "00" })},
		{name: "unpadded", mutate: setSig(func(v string) string { return strings.TrimRight(v, "=") })},
		{name: "url-safe alphabet", mutate: setSig(func(v string) string { return strings.NewReplacer("+", "-", "/", "_").Replace(v) })},
		{name: "huge header", mutate: setSig(func(v string) string { return v + "," + strings.Repeat("x", maxHeaderBytes) })},
		{name: "hex instead", mutate: setSig(func(string) string { return hex64 })},
		{name: "junk line before", mutate: func(_ *testing.T, ps preset, r *verify.Request) {
			r.Header[ps.sigH] = append([]string{"junk"}, r.Header[ps.sigH]...)
		}},
		{name: "every line duplicated", mutate: func(_ *testing.T, _ preset, r *verify.Request) {
			for k, v := range r.Header {
				r.Header[k] = append(v, v...)
			}
		}},
		{name: "seventeen signatures", mutate: func(_ *testing.T, ps preset, r *verify.Request) {
			v := r.Header.Get(ps.sigH)
			r.Header[ps.sigH] = slices.Repeat([]string{v}, verify.MaxSignatures+1)
		}},
		{name: "non-canonical header keys", mutate: func(_ *testing.T, _ preset, r *verify.Request) {
			lower := http.Header{}
			for k, v := range r.Header {
				lower[strings.ToLower(k)] = v
			}
			r.Header = lower
		}},
		{name: "ID headers removed", mutate: func(_ *testing.T, _ preset, r *verify.Request) {
			for _, k := range []string{"X-Github-Delivery", "X-Shopify-Event-Id", "Webhook-Id", "Svix-Id"} {
				r.Header.Del(k)
			}
		}},
		{name: "ID header twice, different", mutate: func(_ *testing.T, _ preset, r *verify.Request) {
			for _, k := range []string{"Webhook-Id", "Svix-Id"} {
				if v := r.Header.Get(k); v != "" {
					r.Header.Add(k, v+"x")
				}
			}
		}},
		{name: "Shopify event ID removed", mutate: func(_ *testing.T, _ preset, r *verify.Request) { r.Header.Del("X-Shopify-Event-Id") }},
		{name: "type header removed", mutate: func(_ *testing.T, _ preset, r *verify.Request) {
			r.Header.Del("X-Github-Event")
			r.Header.Del("X-Shopify-Topic")
		}},
		{name: "old by the window", now: verify.DefaultTolerance},
		{name: "just too old", now: verify.DefaultTolerance + time.Second},
		{name: "just too new", now: -verify.DefaultTolerance - time.Second},
		{name: "a year later", now: 365 * 24 * time.Hour},
	}
	for _, delta := range []int64{1, -1, 1000} {
		tt = append(tt, schemeTamper{name: "timestamp shifted " + strconv.FormatInt(delta, 10), mutate: func(t *testing.T, ps preset, r *verify.Request) {
			if ps.stamp {
				shiftTimestamp(t, ps, r.Header, delta)
			}
		}})
	}
	for _, v := range []string{"", "abc", "-1700000000", "+1700000000", "1700000000.5", "17 00", "1e9", "99999999999999999999", "1700000000000"} {
		tt = append(tt, schemeTamper{name: "timestamp " + strconv.Quote(v), mutate: func(_ *testing.T, ps preset, r *verify.Request) {
			switch {
			case ps.tsH != "":
				r.Header.Set(ps.tsH, v)
			case ps.stamp:
				_, rest, _ := strings.Cut(r.Header.Get(ps.sigH), ",")
				r.Header.Set(ps.sigH, "t="+v+","+rest)
			}
		}})
	}
	tt = append(tt,
		schemeTamper{name: "timestamp removed", mutate: func(_ *testing.T, ps preset, r *verify.Request) {
			switch {
			case ps.tsH != "":
				r.Header.Del(ps.tsH)
			case ps.stamp:
				_, rest, _ := strings.Cut(r.Header.Get(ps.sigH), ",")
				r.Header.Set(ps.sigH, rest)
			}
		}},
		schemeTamper{name: "two different t", mutate: func(_ *testing.T, ps preset, r *verify.Request) {
			if ps.name == "stripe" {
				r.Header.Set(ps.sigH, r.Header.Get(ps.sigH)+",t=1")
			}
		}},
		schemeTamper{name: "Stripe v0 only", mutate: func(_ *testing.T, ps preset, r *verify.Request) {
			if ps.name == "stripe" {
				ts, _, _ := strings.Cut(r.Header.Get(ps.sigH), ",")
				r.Header.Set(ps.sigH, ts+",v0="+hex64)
			}
		}},
		schemeTamper{name: "unknown versions beside", mutate: setSig(func(v string) string { return "v2,abc v1a,AAAA " + v + " v3" })},
	)
	return tt
}

// knownDifference reports the cases where a preset goes beyond what its
// description can say, with the verdicts each gives.
func knownDifference(ps preset, tm schemeTamper) (presetErr, customErr error, ok bool) {
	if ps.name == "svix" && (tm.name == "timestamp removed" || tm.name == "ID headers removed") {
		// The preset falls back to the webhook-* headers when a svix-*
		// header is missing, then finds no signature there.
		custom := verify.ErrMissingTimestamp
		if tm.name == "ID headers removed" {
			custom = verify.ErrMissingHeader
		}
		return verify.ErrMissingSignature, custom, true
	}
	return nil, nil, false
}

// TestSchemeFilesMatchPresetsOnTampering runs every schemeTamper case against
// each preset and its description: they accept and reject the same
// requests, with the same error kinds, and return the same deliveries;
// requests signed by either verify with the other.
func TestSchemeFilesMatchPresetsOnTampering(t *testing.T) {
	for _, ps := range presets() {
		preset := mustNew(t, ps.name, ps.secret)
		custom := mustCustom(t, loadScheme(t, ps.name), ps.secret)
		for _, signer := range []Provider{preset, custom} {
			for _, tm := range schemeTampers() {
				t.Run(ps.name+"/signed by "+signerKind(signer)+"/"+tm.name, func(t *testing.T) {
					req := signed(t, signer, outgoing())
					req.Body = slices.Clone(req.Body)
					if tm.mutate != nil {
						tm.mutate(t, ps, &req)
					}
					now := t0.Add(tm.now)
					if pe, ce, ok := knownDifference(ps, tm); ok {
						_, err := preset.Verify(cloneRequest(req), now)
						wantErr(t, err, pe, ps.name)
						_, err = custom.Verify(cloneRequest(req), now)
						wantErr(t, err, ce, ps.name)
						return
					}
					sameOutcome(t, preset, custom, req, now)
				})
			}
		}
		t.Run(ps.name+"/wrong secret and rotation", func(t *testing.T) {
			other := signed(t, mustCustom(t, loadScheme(t, ps.name), ps.other), outgoing())
			sameOutcome(t, preset, custom, other, t0)
			sameOutcome(t, mustNew(t, ps.name, ps.secret, WithSecret(ps.other)),
				mustCustom(t, loadScheme(t, ps.name), ps.secret, WithSecret(ps.other)), other, t0)
		})
		t.Run(ps.name+"/options", func(t *testing.T) {
			optSets := [][]Option{{InsecureSkipVerification()}}
			timingOpts := [][]Option{{WithTolerance(time.Minute, time.Second)}, {WithoutTimestampCheck()}}
			if preset.Info().Timestamped {
				optSets = append(optSets, timingOpts...)
			} else {
				// No timestamp, no window: both refuse the timing options.
				for _, opts := range timingOpts {
					_, err := New(ps.name, ps.secret, opts...)
					assert.ErrorIs(t, err, ErrInvalidOption, "preset %s with a timing option", ps.name)
					_, err = NewCustom(loadScheme(t, ps.name), ps.secret, opts...)
					assert.ErrorIs(t, err, ErrInvalidOption, "scheme file %s with a timing option", ps.name)
				}
			}
			for _, opts := range optSets {
				p := mustNew(t, ps.name, ps.secret, opts...)
				c := mustCustom(t, loadScheme(t, ps.name), ps.secret, opts...)
				for _, d := range []time.Duration{0, 2 * time.Second, -2 * time.Second, 2 * time.Minute, -2 * time.Minute} {
					req := signed(t, p, outgoing())
					sameOutcome(t, p, c, req, t0.Add(d))
					req.Body[3] ^= 1
					sameOutcome(t, p, c, req, t0.Add(d))
				}
			}
		})
	}
}

func signerKind(p Provider) string {
	if _, ok := p.(*custom); ok {
		return "custom"
	}
	return "preset"
}

// TestSlackHandshakeStaysWithThePreset documents the one behaviour the
// slack description lacks: url_verification is answered only by the
// preset.
func TestSlackHandshakeStaysWithThePreset(t *testing.T) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	preset := mustNew(t, "slack", secret)
	custom := mustCustom(t, loadScheme(t, "slack"), secret)
	o := Outgoing{Body: []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`), Timestamp: t0}
	req := signed(t, preset, o)
	dp, err := preset.Verify(cloneRequest(req), t0)
	require.NoError(t, err, "preset: want a Reply")
	require.NotNil(t, dp.Reply, "preset: %+v; want a Reply", dp)
	dc, err := custom.Verify(cloneRequest(req), t0)
	require.NoError(t, err, "custom: want a verified url_verification and no Reply")
	require.Nil(t, dc.Reply, "custom: %+v; want no Reply", dc)
	require.Equal(t, "url_verification", dc.Type, "custom: %+v", dc)
}

func TestParseScheme(t *testing.T) {
	valid := `{"name":"acme","header":"X-Acme-Signature","algorithm":"hmac-sha256","encoding":"hex","signed":"{body}"}`
	tests := []struct {
		name, json string
		want       string // in the error; "" means success
	}{
		{"minimal", valid, ""},
		{"unknown field", strings.Replace(valid, `"name"`, `"colour":"red","name"`, 1), `unknown field "colour"`},
		{"misspelt field", strings.Replace(valid, `"header"`, `"headers"`, 1), `unknown field "headers"`},
		{"nested unknown field", strings.Replace(valid, `"signed":"{body}"`, `"signed":"{timestamp}{body}","timestamp":{"header":"T","zone":"UTC"}`, 1), `unknown field "zone"`},
		{"trailing object", valid + valid, "data after the JSON object"},
		{"trailing garbage", valid + " x", "data after the JSON object"},
		{"trailing whitespace", valid + "\n\t ", ""},
		{"not an object", `["acme"]`, "cannot unmarshal"},
		{"syntax error", `{"name":`, "unexpected EOF"},
		{"empty", ``, "EOF"},
		{"wrong type", strings.Replace(valid, `"signed":"{body}"`, `"signed":1`, 1), "cannot unmarshal number"},
		{"invalid scheme", strings.Replace(valid, `hmac-sha256`, `md5`, 1), `algorithm "md5" is unknown`},
		{"too large", valid[:len(valid)-1] + `,"title":"` + strings.Repeat("a", maxSchemeJSON) + `"}`, "at most 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseScheme([]byte(tt.json))
			if tt.want == "" {
				require.NoError(t, err, "ParseScheme")
				require.Equal(t, "acme", s.Name, "ParseScheme = %+v", s)
				return
			}
			require.ErrorIs(t, err, ErrInvalidScheme)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, s.Name, "returned a scheme with an error: %+v", s)
		})
	}
}

// base returns a minimal valid scheme to break in tests.
func customBase() Scheme {
	return Scheme{Name: "acme", Header: "X-Acme-Signature", Algorithm: "hmac-sha256", Encoding: "hex", Signed: "{body}"}
}

func TestSchemeValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Scheme)
		want []string // each in the error; none means valid
	}{
		{"valid", func(*Scheme) {}, nil},
		{"empty name", func(s *Scheme) { s.Name = "" }, []string{"name is empty"}},
		{"uppercase name", func(s *Scheme) { s.Name = "Acme" }, []string{`name "Acme" must be`}},
		{"name with slash", func(s *Scheme) { s.Name = "a/b" }, []string{"lowercase letters"}},
		{"long name", func(s *Scheme) { s.Name = strings.Repeat("a", 65) }, []string{"at most 64"}},
		{"no header", func(s *Scheme) { s.Header = "" }, []string{"header \"\" is not a header name"}},
		{"header with space", func(s *Scheme) { s.Header = "X Sig" }, []string{"is not a header name"}},
		{"unknown separator", func(s *Scheme) { s.Separator = "pipe" }, []string{`separator "pipe" is unknown`}},
		{"prefix holds separator", func(s *Scheme) { s.Separator = "comma"; s.Prefix = "v1," }, []string{"holds the separator"}},
		{"prefix with space", func(s *Scheme) { s.Prefix = "sha 256=" }, []string{"printable ASCII"}},
		{"version key without separator", func(s *Scheme) { s.VersionKey = "v1" }, []string{"version_key needs a separator"}},
		{"version key and prefix", func(s *Scheme) { s.VersionKey = "v1"; s.Separator = "comma"; s.Prefix = "x" }, []string{"cannot both be set"}},
		{"version key with =", func(s *Scheme) { s.VersionKey = "v=1"; s.Separator = "comma" }, []string{"plain word"}},
		{"unknown algorithm", func(s *Scheme) { s.Algorithm = "sha256" }, []string{`algorithm "sha256" is unknown`}},
		{"unknown encoding", func(s *Scheme) { s.Encoding = "base32" }, []string{`encoding "base32" is unknown`}},
		{"secret in secret_format", func(s *Scheme) { s.SecretFormat = "whsec_c2VjcmV0" }, []string{"secret_format is unknown"}},
		{"secret format for ed25519", func(s *Scheme) { s.Algorithm = "ed25519"; s.Encoding = "base64"; s.SecretFormat = "raw" }, []string{"must be empty for ed25519"}},
		{"empty template", func(s *Scheme) { s.Signed = "" }, []string{"signed: empty"}},
		{"no body", func(s *Scheme) { s.Signed = "{url}" }, []string{"has no {body}"}},
		{"body twice", func(s *Scheme) { s.Signed = "{body}{body}" }, []string{"{body} twice"}},
		{"unknown placeholder", func(s *Scheme) { s.Signed = "{nonce}.{body}" }, []string{"{nonce} at byte 0: unknown placeholder"}},
		{"unclosed brace", func(s *Scheme) { s.Signed = "{body}.{timestamp" }, []string{"never closed"}},
		{"lone closing brace", func(s *Scheme) { s.Signed = "{body}}" }, []string{"lone }"}},
		{"bad header placeholder", func(s *Scheme) { s.Signed = "{header:}{body}" }, []string{"not a valid header name"}},
		{"signs its own signature", func(s *Scheme) { s.Signed = "{header:x-acme-signature}{body}" }, []string{"signature header itself"}},
		{"timestamp signed, not located", func(s *Scheme) { s.Signed = "{timestamp}.{body}" }, []string{"timestamp is not set"}},
		{"timestamp located, not signed", func(s *Scheme) { s.Timestamp = &SchemeTimestamp{Header: "X-Ts"} }, []string{"unsigned timestamp protects against nothing"}},
		{"timestamp nowhere", func(s *Scheme) { s.Signed = "{timestamp}{body}"; s.Timestamp = &SchemeTimestamp{} }, []string{"set header"}},
		{"timestamp twice", func(s *Scheme) {
			s.Signed = "{timestamp}{body}"
			s.Timestamp = &SchemeTimestamp{Header: "X-Ts", Key: "t"}
		}, []string{"not both"}},
		{"timestamp key without version key", func(s *Scheme) { s.Signed = "{timestamp}{body}"; s.Timestamp = &SchemeTimestamp{Key: "t"} }, []string{"needs version_key"}},
		{"timestamp key is version key", func(s *Scheme) {
			s.Signed, s.Separator, s.VersionKey = "{timestamp}{body}", "comma", "v1"
			s.Timestamp = &SchemeTimestamp{Key: "v1"}
		}, []string{"are both"}},
		{"timestamp header is signature header", func(s *Scheme) {
			s.Signed = "{timestamp}{body}"
			s.Timestamp = &SchemeTimestamp{Header: "x-acme-signature"}
		}, []string{"is the signature header"}},
		{"bad unit", func(s *Scheme) {
			s.Signed = "{timestamp}{body}"
			s.Timestamp = &SchemeTimestamp{Header: "T", Unit: "us"}
		}, []string{`unit "us"`}},
		{"bad tolerance", func(s *Scheme) {
			s.Signed = "{timestamp}{body}"
			s.Timestamp = &SchemeTimestamp{Header: "T", Tolerance: "5 minutes"}
		}, []string{`tolerance "5 minutes"`}},
		{"negative tolerance", func(s *Scheme) {
			s.Signed = "{timestamp}{body}"
			s.Timestamp = &SchemeTimestamp{Header: "T", Tolerance: "-1m"}
		}, []string{"positive"}},
		{"signed id from json", func(s *Scheme) { s.Signed = "{id}{body}"; s.ID = []SchemeField{{JSON: []string{"id"}}} }, []string{"exactly one header"}},
		{"signed id, two sources", func(s *Scheme) { s.Signed = "{id}{body}"; s.ID = []SchemeField{{Header: "A"}, {Header: "B"}} }, []string{"exactly one header"}},
		{"field with both", func(s *Scheme) { s.ID = []SchemeField{{Header: "A", JSON: []string{"id"}}} }, []string{"id[0]: set header or json, not both"}},
		{"field with neither", func(s *Scheme) { s.Type = []SchemeField{{}} }, []string{"type[0]: set header"}},
		{"empty json key", func(s *Scheme) { s.Type = []SchemeField{{JSON: []string{"data", ""}}} }, []string{"empty key"}},
		{"too many sources", func(s *Scheme) { s.ID = slices.Repeat([]SchemeField{{Header: "A"}}, 5) }, []string{"at most 4"}},
		{"several problems at once", func(s *Scheme) { s.Header = ""; s.Algorithm = "md5"; s.Signed = "{url}" }, []string{"header", "algorithm", "{body}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := customBase()
			tt.edit(&s)
			err := s.Validate()
			_, nerr := NewCustom(s, "secret")
			if len(tt.want) == 0 {
				require.NoError(t, err, "Validate")
				require.NoError(t, nerr, "NewCustom")
				return
			}
			for _, e := range []error{err, nerr} {
				require.ErrorIs(t, e, ErrInvalidScheme)
				for _, w := range tt.want {
					assert.ErrorContains(t, e, w)
				}
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in   string
		want []part
	}{
		{"{body}", []part{{kind: partBody}}},
		{"{timestamp}.{body}", []part{{kind: partTimestamp}, {text: "."}, {kind: partBody}}},
		{"v0:{timestamp}:{body}", []part{{text: "v0:"}, {kind: partTimestamp}, {text: ":"}, {kind: partBody}}},
		{"{{literal}}{body}", []part{{text: "{literal}"}, {kind: partBody}}},
		{"{method}{url}{body}{timestamp}", []part{{kind: partMethod}, {kind: partURL}, {kind: partBody}, {kind: partTimestamp}}},
		{"{header:x-request-id}|{body}", []part{{kind: partHeader, text: "X-Request-Id"}, {text: "|"}, {kind: partBody}}},
		{"{id}{{}}{body}", []part{{kind: partID}, {text: "{}"}, {kind: partBody}}},
	}
	for _, tt := range tests {
		got, err := parseTemplate(tt.in)
		if assert.NoError(t, err, "parseTemplate(%q)", tt.in) {
			assert.Equal(t, tt.want, got, "parseTemplate(%q)", tt.in)
		}
	}
	for _, bad := range []string{"", "{", "}", "{body", "{Body}", "{ body }", "{header:a b}", "{header:}", "{}", strings.Repeat("{url}", maxTemplateParts+1), strings.Repeat("x", maxTemplateBytes+1)} {
		got, err := parseTemplate(bad)
		assert.Error(t, err, "parseTemplate(%q) = %v, want an error", bad, got)
	}
}

func hmacHex(h func() hash.Hash, key, msg string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// TestCustomAlgorithms checks each algorithm, encoding and secret format
// against a MAC computed independently with crypto/hmac, or against the
// Standard Webhooks preset for Ed25519.
func TestCustomAlgorithms(t *testing.T) {
	t.Run("hmac-sha1 with the go-github legacy vector", func(t *testing.T) {
		// google/go-github github/messages_test.go TestValidatePayload (defaultSignature).
		s := Scheme{Name: "github-sha1", Header: "X-Hub-Signature", Prefix: "sha1=", Algorithm: "hmac-sha1", Encoding: "hex", Signed: "{body}"}
		p := mustCustom(t, s, "0123456789abcdef")
		req := request(hdr("X-Hub-Signature", "sha1=126f2c800419c60137ce748d7672e77b65cf16d6"), `{"yo":true}`)
		_, err := p.Verify(req, t0)
		require.NoError(t, err)
		req.Body = []byte(`{"yo":false}`)
		_, err = p.Verify(req, t0)
		wantErr(t, err, verify.ErrSignatureMismatch, "github-sha1")
	})
	t.Run("hmac-sha512 base64url with a hex secret", func(t *testing.T) {
		key := "2b7e151628aed2a6abf7158809cf4f3c"
		rawKey, _ := hex.DecodeString(key)
		s := Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha512", Encoding: "base64url", SecretFormat: "hex",
			Signed: "{method} {url}\n{body}"}
		p := mustCustom(t, s, key)
		body := `{"id":1}`
		m := hmac.New(sha512.New, rawKey)
		m.Write([]byte("POST https://example.com/hook\n" + body))
		want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		h, err := p.Sign(Outgoing{Body: []byte(body), URL: "https://example.com/hook"})
		require.NoError(t, err)
		require.Equal(t, want, h.Get("X-Sig"), "X-Sig")
		req := verify.Request{Method: "POST", URL: "https://example.com/hook", Header: h, Body: []byte(body)}
		_, err = p.Verify(req, t0)
		require.NoError(t, err)
		req.URL = "https://example.com/hook2"
		_, err = p.Verify(req, t0)
		wantErr(t, err, verify.ErrSignatureMismatch, "acme")
		req.URL = ""
		_, err = p.Verify(req, t0)
		wantErr(t, err, verify.ErrMissingHeader, "acme")
		req.URL, req.Method = "https://example.com/hook", "PUT"
		_, err = p.Verify(req, t0)
		wantErr(t, err, verify.ErrSignatureMismatch, "acme")
	})
	t.Run("secret formats name the same key", func(t *testing.T) {
		key := []byte("a key of thirty-two bytes, no more")
		forms := map[string]string{
			"raw":    string(key),
			"hex":    hex.EncodeToString(key),
			"base64": base64.StdEncoding.EncodeToString(key),
			"whsec":  "whsec_" + base64.StdEncoding.EncodeToString(key),
		}
		body := `{"id":"evt"}`
		want := hmacHex(sha256.New, string(key), body)
		for format, secret := range forms {
			s := customBase()
			s.SecretFormat = format
			h, err := mustCustom(t, s, secret).Sign(Outgoing{Body: []byte(body)})
			if assert.NoError(t, err, format) {
				assert.Equal(t, want, h.Get("X-Acme-Signature"), "%s: signature", format)
			}
		}
		for format, secret := range map[string]string{"hex": "abc", "base64": "***", "whsec": "whsec_***"} {
			s := customBase()
			s.SecretFormat = format
			_, err := NewCustom(s, secret)
			if assert.ErrorIs(t, err, verify.ErrInvalidSecret, "%s secret %q", format, secret) {
				assert.NotContains(t, err.Error(), secret, "%s secret: the error must not hold the secret", format)
			}
		}
	})
	t.Run("ed25519 interoperates with Standard Webhooks v1a", func(t *testing.T) {
		priv, pub := newEd25519Key(t)
		s := loadScheme(t, "standardwebhooks")
		s.Name, s.Prefix, s.Algorithm, s.SecretFormat = "swv1a", "v1a,", "ed25519", ""
		preset := mustNew(t, "standardwebhooks", priv)
		for _, tc := range []struct {
			name   string
			signer Provider
			verif  Provider
		}{
			{"preset signs, custom verifies with the public key", preset, mustCustom(t, s, pub)},
			{"custom signs, preset verifies", mustCustom(t, s, priv), mustNew(t, "standardwebhooks", pub)},
			{"custom signs, custom verifies", mustCustom(t, s, priv), mustCustom(t, s, priv)},
		} {
			req := signed(t, tc.signer, outgoing())
			d, err := tc.verif.Verify(cloneRequest(req), t0)
			if assert.NoError(t, err, tc.name) {
				assert.Equal(t, "delivery-1", d.ID, "%s: ID", tc.name)
			}
			req.Body[3] ^= 1
			_, err = tc.verif.Verify(req, t0)
			assert.ErrorIs(t, err, verify.ErrSignatureMismatch, "%s, tampered", tc.name)
		}
		_, err := mustCustom(t, s, pub).Sign(outgoing())
		assert.ErrorIs(t, err, ErrCannotSign, "Sign with a public key")
		// An HMAC description never reads the v1a entries.
		_, err = mustCustom(t, loadScheme(t, "standardwebhooks"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").Verify(signed(t, preset, outgoing()), t0)
		wantErr(t, err, verify.ErrMalformedSignature, "standardwebhooks")
	})
	t.Run("ed25519 keys as senders publish them", func(t *testing.T) {
		pk, sk, _ := ed25519.GenerateKey(rand.Reader)
		s := Scheme{Name: "discordlike", Header: "X-Signature-Ed25519", Algorithm: "ed25519", Encoding: "hex",
			Signed: "{timestamp}{body}", Timestamp: &SchemeTimestamp{Header: "X-Signature-Timestamp"}}
		signer := mustCustom(t, s, hex.EncodeToString(sk)) // the 64-byte private key, bare
		req := signed(t, signer, outgoing())
		for _, pub := range []string{hex.EncodeToString(pk), base64.StdEncoding.EncodeToString(pk), "whpk_" + base64.StdEncoding.EncodeToString(pk)} {
			_, err := mustCustom(t, s, pub).Verify(req, t0)
			assert.NoError(t, err, "public key %q", pub[:8])
		}
		for _, bad := range []string{"abcd", hex.EncodeToString(sk[:40]), "whsk_AAAA"} {
			_, err := NewCustom(s, bad)
			assert.ErrorIs(t, err, verify.ErrInvalidSecret, "key %q", bad)
		}
	})
}

// TestCustomTemplates checks templates that do not fit a verify.Message
// (more than four parts before the body, or two after it), milliseconds,
// headers in the signed content and the replay flags.
func TestCustomTemplates(t *testing.T) {
	body := `{"id":"evt_9","kind":"order.paid"}`
	tests := []struct {
		name       string
		scheme     Scheme
		o          Outgoing
		req        func(h http.Header) verify.Request
		message    string // the signed content, computed by hand
		replayable bool
	}{
		{
			name: "five parts before the body",
			scheme: Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
				Signed: "{method} {url} {id} {timestamp} {body}", Timestamp: &SchemeTimestamp{Header: "X-Ts"},
				ID: []SchemeField{{Header: "X-Id"}}, Type: []SchemeField{{JSON: []string{"kind"}}}},
			o: Outgoing{Body: []byte(body), ID: "id-1", Timestamp: t0, URL: "https://h/x", Method: "PUT"},
			req: func(h http.Header) verify.Request {
				return verify.Request{Method: "PUT", URL: "https://h/x", Header: h, Body: []byte(body)}
			},
			message: "PUT https://h/x id-1 1700000000 " + body,
		},
		{
			name: "two parts after the body, milliseconds",
			scheme: Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
				Signed: "{body}.{timestamp}", Timestamp: &SchemeTimestamp{Header: "X-Ts", Unit: "ms"}},
			o: Outgoing{Body: []byte(body), Timestamp: t0.Add(123 * time.Millisecond)},
			req: func(h http.Header) verify.Request {
				return verify.Request{Method: "POST", Header: h, Body: []byte(body)}
			},
			message: body + ".1700000000123",
		},
		{
			name: "a signed header, the ID, no timestamp",
			scheme: Scheme{Name: "acme", Header: "X-Sig", Algorithm: "hmac-sha256", Encoding: "hex",
				Signed: "{header:Content-Type}|{id}|{body}", ID: []SchemeField{{Header: "X-Id"}}},
			o: Outgoing{Body: []byte(body), ID: "id-2"},
			req: func(h http.Header) verify.Request {
				return verify.Request{Method: "POST", Header: h, Body: []byte(body)}
			},
			message: "application/json|id-2|" + body,
		},
		{
			name:       "body only: replayable",
			scheme:     customBase(),
			o:          Outgoing{Body: []byte(body)},
			req:        func(h http.Header) verify.Request { return verify.Request{Header: h, Body: []byte(body)} },
			message:    body,
			replayable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCustom(t, tt.scheme, "s3cret")
			h, err := p.Sign(tt.o)
			require.NoError(t, err)
			sig := h.Get(tt.scheme.Header)
			want := hmacHex(sha256.New, "s3cret", tt.message)
			require.Equal(t, want, sig, "signature: want the HMAC of %q", tt.message)
			now := tt.o.Timestamp
			if now.IsZero() {
				now = t0
			}
			d, err := p.Verify(tt.req(h), now)
			require.NoError(t, err)
			// A delivery without an ID gets a Digest too (issue 15).
			assert.Equal(t, tt.replayable, d.Replayable, "Replayable")
			assert.Equal(t, tt.replayable || d.ID == "", d.Digest != [32]byte{}, "Digest set (ID %q)", d.ID)
			if tt.scheme.Timestamp != nil {
				assert.WithinDuration(t, tt.o.Timestamp, d.Timestamp, 0, "Timestamp")
			}
			for i := 0; i < len(tt.message); i += 7 {
				// Every altered byte of the body breaks it; so does
				// every altered header.
				r := tt.req(h.Clone())
				if i >= len(r.Body) {
					break
				}
				r.Body[i] ^= 0x20
				_, err := p.Verify(r, now)
				require.ErrorIs(t, err, verify.ErrSignatureMismatch, "body byte %d altered", i)
			}
			for k := range h {
				if k == http.CanonicalHeaderKey(tt.scheme.Header) {
					continue
				}
				r := tt.req(h.Clone())
				r.Header.Set(k, r.Header.Get(k)+"1")
				_, err := p.Verify(r, now)
				signedHeader := strings.Contains(tt.scheme.Signed, "{header:"+k+"}") || (k == "X-Id" && strings.Contains(tt.scheme.Signed, "{id}")) || k == "X-Ts"
				assert.Equal(t, signedHeader, err != nil, "header %s altered: err = %v, signed %v", k, err, signedHeader)
			}
		})
	}
}

func TestCustomOptionsAndErrors(t *testing.T) {
	s := loadScheme(t, "slack")
	s.Name = "acme"
	s.Timestamp.Tolerance = "1m"
	sign := func(p Provider) verify.Request { return signed(t, p, outgoing()) }
	p := mustCustom(t, s, "k")
	// The scheme's tolerance applies, in both directions.
	for d, want := range map[time.Duration]error{
		time.Minute: nil, time.Minute + time.Second: verify.ErrTimestampTooOld,
		-time.Minute: nil, -time.Minute - time.Second: verify.ErrTimestampTooNew,
	} {
		_, err := p.Verify(sign(p), t0.Add(d))
		wantErr(t, err, want, "acme")
	}
	// WithTolerance overrides it.
	wide := mustCustom(t, s, "k", WithTolerance(time.Hour, time.Hour))
	_, err := wide.Verify(sign(wide), t0.Add(30*time.Minute))
	assert.NoError(t, err, "WithTolerance(1h)")
	for _, tc := range []struct {
		name   string
		secret string
		opts   []Option
		want   error
	}{
		{"empty secret", "", nil, verify.ErrEmptySecret},
		{"empty rotation secret", "k", []Option{WithSecret("")}, verify.ErrEmptySecret},
		{"legacy SHA-1", "k", []Option{WithLegacySHA1()}, ErrInvalidOption},
		{"an option of another preset", "k", []Option{WithSignatureVersion("v3")}, ErrInvalidOption},
		{"bad tolerance", "k", []Option{WithTolerance(0, time.Second)}, ErrInvalidOption},
	} {
		_, err := NewCustom(s, tc.secret, tc.opts...)
		assert.ErrorIs(t, err, tc.want, tc.name)
	}
	// Sign cannot invent what the scheme signs and Outgoing lacks.
	for _, tc := range []struct {
		signed string
		o      Outgoing
	}{
		{"{url}{body}", Outgoing{}},
		{"{header:X-Nonce}{body}", Outgoing{}},
	} {
		sc := customBase()
		sc.Signed = tc.signed
		_, err := mustCustom(t, sc, "k").Sign(tc.o)
		assert.ErrorIs(t, err, ErrCannotSign, "Sign with %s", tc.signed)
	}
	// Errors never carry the secret, the body or a signature.
	secret := "a-long-and-private-secret"
	right := mustCustom(t, s, secret)
	req := sign(mustCustom(t, s, "another-long-secret"))
	want := sign(right).Header.Get("X-Slack-Signature")
	_, err = right.Verify(req, t0)
	require.Error(t, err)
	for _, leak := range []string{secret, eventBody, want[3:20], req.Header.Get("X-Slack-Signature")[3:20]} {
		assert.NotContains(t, err.Error(), leak, "error leaks")
	}
	// Info describes the scheme.
	info := mustCustom(t, loadScheme(t, "stripe"), "k").Info()
	assert.Equal(t, "stripe", info.Name, "Info = %+v", info)
	assert.Equal(t, "Stripe", info.Title, "Info = %+v", info)
	assert.Equal(t, "Stripe-Signature", info.SignatureHeader, "Info = %+v", info)
	assert.True(t, info.Timestamped, "Info = %+v", info)
	assert.Equal(t, "HMAC-SHA256 (hex, v1=)", info.Algorithm, "Info = %+v", info)
	assert.Equal(t, `body "id"`, info.IDSource, "Info = %+v", info)
	info = mustCustom(t, loadScheme(t, "shopify"), "k").Info()
	assert.False(t, info.Timestamped, "Info = %+v", info)
	assert.Equal(t, "X-Shopify-Event-Id header, else X-Shopify-Webhook-Id header", info.IDSource, "Info = %+v", info)
}

func TestCustomSignaturePathDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation count: skipped in -short mode and under the race detector")
	}
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustCustom(t, loadScheme(t, ps.name), ps.secret)
			o := outgoing()
			o.Body = []byte(`["opaque", "body"]`)
			req := signed(t, p, o)
			_, err := p.Verify(req, t0)
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(100, func() {
				_, err := p.Verify(req, t0)
				require.NoError(t, err)
			})
			assert.Zero(t, allocs, "Verify allocations per call on the signature path")
		})
	}
}

// BenchmarkCustomVsPreset measures the Stripe description beside the
// hand-written Stripe preset in the same run: compare the ns/op of each
// pair.
func BenchmarkCustomVsPreset(b *testing.B) {
	for _, name := range []string{"stripe", "standardwebhooks"} {
		secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		for _, n := range []int{1 << 10, 64 << 10} {
			body := eventJSON(n)
			for _, p := range []Provider{mustNew(b, name, secret), mustCustom(b, loadScheme(b, name), secret)} {
				o := outgoing()
				o.Body = body
				h, err := p.Sign(o)
				if err != nil {
					b.Fatal(err)
				}
				req := verify.Request{Method: "POST", Header: h, Body: body}
				b.Run(name+"/"+sizeName(n)+"/"+signerKind(p), func(b *testing.B) {
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := p.Verify(req, t0); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
