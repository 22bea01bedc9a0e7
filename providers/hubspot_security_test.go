package providers

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 15, finding 2: the HubSpot preset fell back to v1,
// SHA-256(secret || body), whenever a request carried no v3 header. v1 has
// no timestamp and is open to length extension, so one captured v1
// signature let anyone sign the body plus a suffix without the secret, and
// stripping the v3 headers from a captured delivery got it accepted again.
// The preset now verifies exactly the version it was built for (v3 by
// default) whatever the request carries.

const (
	hsSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
	hsURL    = "https://hooks.example.com/hubspot"
	hsBody   = `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
)

// sha256Padding returns the padding SHA-256 appends to a message of n
// bytes: 0x80, zeros up to 56 mod 64, and the length in bits.
func sha256Padding(n int) []byte {
	pad := []byte{0x80}
	for (n+len(pad))%64 != 56 {
		pad = append(pad, 0)
	}
	return binary.BigEndian.AppendUint64(pad, uint64(n)*8)
}

// extendSHA256 is a SHA-256 length extension, computed without the
// secret: given sum = SHA-256(m) for an unknown m of n bytes, it returns
// SHA-256(m || sha256Padding(n) || suffix). It restores crypto/sha256's
// marshaled state ("sha\x03", the eight state words, which are sum
// itself, an empty block buffer, the length so far) and writes suffix.
func extendSHA256(t *testing.T, sum []byte, n int, suffix []byte) []byte {
	t.Helper()
	processed := n + len(sha256Padding(n))
	state := append([]byte("sha\x03"), sum...)
	state = append(state, make([]byte, 64)...)
	state = binary.BigEndian.AppendUint64(state, uint64(processed))
	h := sha256.New()
	err := h.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(state)
	require.NoError(t, err, "restoring a SHA-256 state")
	h.Write(suffix)
	return h.Sum(nil)
}

// TestExtendSHA256 checks the attack helper against a direct hash, so
// that the refusals below are not an artefact of a broken helper.
func TestExtendSHA256(t *testing.T) {
	for _, m := range []string{"", "k", hsSecret + hsBody, strings.Repeat("x", 55), strings.Repeat("x", 64), strings.Repeat("x", 119)} {
		suffix := []byte(`,{"eventId":666}]`)
		sum := sha256.Sum256([]byte(m))
		want := sha256.Sum256(append(append([]byte(m), sha256Padding(len(m))...), suffix...))
		got := extendSHA256(t, sum[:], len(m), suffix)
		assert.Equal(t, want[:], got, "extendSHA256(len %d)", len(m))
	}
}

// forgeV1 returns a v1 request for the captured body followed by padding
// and suffix, signed by length extension of the captured v1 signature; the
// attacker needs the secret's length only, which is public for HubSpot
// (client secrets are UUIDs) and could be guessed in a few tries.
func forgeV1(t *testing.T, captured http.Header, body string, secretLen int, suffix string) verify.Request {
	t.Helper()
	sum, err := hex.DecodeString(captured.Get(hubspotLegacyHeader))
	require.NoError(t, err, "captured X-HubSpot-Signature %q is not a hex SHA-256", captured.Get(hubspotLegacyHeader))
	require.Len(t, sum, sha256.Size, "captured X-HubSpot-Signature %q is not a hex SHA-256", captured.Get(hubspotLegacyHeader))
	n := secretLen + len(body)
	forged := append(append([]byte(body), sha256Padding(n)...), suffix...)
	sig := extendSHA256(t, sum, n, []byte(suffix))
	return verify.Request{Method: http.MethodPost, URL: hsURL, Body: forged,
		Header: hdr("Content-Type", "application/json", hubspotVersionHeader, "v1", hubspotLegacyHeader, hex.EncodeToString(sig))}
}

// captureHubSpot returns the headers of a delivery as HubSpot sends it to
// a webhook subscription: v3 (with its timestamp) and v1 side by side.
func captureHubSpot(t testing.TB, body string, at time.Time) http.Header {
	t.Helper()
	p := implOf(mustNew(t, "hubspot", hsSecret)).(*hubspot)
	h, err := p.Sign(Outgoing{Body: []byte(body), URL: hsURL, Timestamp: at})
	require.NoError(t, err)
	legacy, err := p.SignLegacy("v1", Outgoing{Body: []byte(body)})
	require.NoError(t, err)
	for k, v := range legacy {
		h[k] = v
	}
	return h
}

// wantRefused fails unless err is a 401 refusal (ErrSignatureMismatch)
// whose reason names each of words.
func wantRefused(t *testing.T, err error, words ...string) {
	t.Helper()
	wantErr(t, err, verify.ErrSignatureMismatch, "hubspot")
	assert.Equal(t, http.StatusUnauthorized, verify.StatusCode(err), "status")
	for _, w := range words {
		assert.ErrorContains(t, err, w, "the reason does not say %q", w)
	}
}

// TestHubSpotV1LengthExtension is the attack of finding 2: from one
// captured v1 signature, a body with the attacker's suffix is signed
// without the secret. The default preset refuses it (before the fix it
// answered 200); a preset built for v1 accepts it, which is what
// WithSignatureVersion's doc warns of, and shows the forgery is real.
func TestHubSpotV1LengthExtension(t *testing.T) {
	captured := captureHubSpot(t, hsBody, t0)
	forged := forgeV1(t, captured, hsBody, len(hsSecret), `,{"eventId":666,"subscriptionType":"contact.deletion"}]`)

	_, err := mustNew(t, "hubspot", hsSecret).Verify(forged, t0)
	wantRefused(t, err, "v1", "v3", "WithSignatureVersion")

	d, err := mustNew(t, "hubspot", hsSecret, WithSignatureVersion("v1")).Verify(forged, t0)
	require.NoError(t, err, "WithSignatureVersion(v1) and the extended signature; the forgery helper is broken")
	assert.True(t, d.Replayable, "a v1 delivery must be Replayable: %+v", d)

	// The figure for the README: forgeries of many captured deliveries,
	// each with its own suffix, against both receivers.
	const n = 1000
	def, legacy := mustNew(t, "hubspot", hsSecret), mustNew(t, "hubspot", hsSecret, WithSignatureVersion("v1"))
	refused, accepted := 0, 0
	for i := range n {
		body := strings.Replace(hsBody, `"eventId":1,`, `"eventId":`+strconv.Itoa(1000+i)+`,`, 1)
		forged := forgeV1(t, captureHubSpot(t, body, t0), body, len(hsSecret), `,{"eventId":`+strconv.Itoa(i)+`}]`)
		if _, err := def.Verify(forged, t0); errors.Is(err, verify.ErrSignatureMismatch) {
			refused++
		}
		if _, err := legacy.Verify(forged, t0); err == nil {
			accepted++
		}
	}
	assert.Equal(t, n, refused, "%d length-extension forgeries: refused by default (want all)", n)
	assert.Equal(t, n, accepted, "%d length-extension forgeries: accepted under v1 (want all: the helper forges)", n)
}

// TestHubSpotStrippedV3Refused: a captured delivery with its v3 headers
// removed (only v1 left) must not verify by default, and the reason says
// which version the receiver expects and which option changes it.
func TestHubSpotStrippedV3Refused(t *testing.T) {
	p := mustNew(t, "hubspot", hsSecret)
	captured := captureHubSpot(t, hsBody, t0)
	full := verify.Request{Method: http.MethodPost, URL: hsURL, Header: captured, Body: []byte(hsBody)}
	_, err := p.Verify(full, t0)
	require.NoError(t, err, "the captured delivery itself")
	_, err = p.Verify(full, t0.Add(time.Hour))
	assert.ErrorIs(t, err, verify.ErrTimestampTooOld, "the captured delivery an hour later")
	tests := []struct {
		name  string
		strip []string
		words []string
	}{
		{"v3 signature stripped", []string{hubspotV3Header}, []string{"v1 (X-HubSpot-Signature)", "accepts v3", "WithSignatureVersion"}},
		{"v3 signature and timestamp stripped", []string{hubspotV3Header, hubspotTimestampHeader}, []string{"v1", "v3", "WithSignatureVersion"}},
		{"and the version header", []string{hubspotV3Header, hubspotTimestampHeader, hubspotVersionHeader}, []string{"v1", "v3", "WithSignatureVersion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cloneReq(full)
			for _, k := range tt.strip {
				req.Header.Del(k)
			}
			// An hour later, when the v3 timestamp would be refused too.
			_, err := p.Verify(req, t0.Add(time.Hour))
			wantRefused(t, err, tt.words...)
		})
	}
}

// TestHubSpotSignatureVersions: each version verifies its own requests
// only; the other versions' headers neither help nor hurt.
func TestHubSpotSignatureVersions(t *testing.T) {
	body := []byte(hsBody)
	v3Hdr := captureHubSpot(t, hsBody, t0) // v3 and v1, as HubSpot sends
	v1Only := hdr(hubspotVersionHeader, "v1", hubspotLegacyHeader, v3Hdr.Get(hubspotLegacyHeader))
	v1NoVersion := hdr(hubspotLegacyHeader, v3Hdr.Get(hubspotLegacyHeader))
	v3Only := hdr(hubspotV3Header, v3Hdr.Get(hubspotV3Header), hubspotTimestampHeader, v3Hdr.Get(hubspotTimestampHeader))
	v2p := implOf(mustNew(t, "hubspot", hsSecret, WithSignatureVersion("v2"))).(*hubspot)
	v2Hdr, err := v2p.SignLegacy("v2", Outgoing{Body: body, URL: hsURL})
	require.NoError(t, err)
	badV1 := v1Only.Clone()
	badV1.Set(hubspotLegacyHeader, strings.Repeat("0", 64))
	badV3 := v3Only.Clone()
	badV3.Set(hubspotV3Header, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	merge := func(hs ...http.Header) http.Header {
		out := http.Header{}
		for _, h := range hs {
			for k, v := range h {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name    string
		version string // "" for the default
		h       http.Header
		want    error
	}{
		// v3 by default.
		{"default, v3 and v1 as HubSpot sends", "", v3Hdr, nil},
		{"default, v3 only", "", v3Only, nil},
		{"default, v1 only", "", v1Only, verify.ErrSignatureMismatch},
		{"default, v1 without version header", "", v1NoVersion, verify.ErrSignatureMismatch},
		{"default, v2 only", "", v2Hdr, verify.ErrSignatureMismatch},
		{"default, bad v3 beside a good v1", "", merge(v1Only, badV3), verify.ErrSignatureMismatch},
		{"default, nothing", "", http.Header{}, verify.ErrMissingSignature},
		{"v3 explicitly, v1 only", "v3", v1Only, verify.ErrSignatureMismatch},
		// With v1, a v3 header changes nothing either way.
		{"v1, v1 only", "v1", v1Only, nil},
		{"v1, without version header", "v1", v1NoVersion, nil},
		{"v1, v1 and a good v3", "v1", v3Hdr, nil},
		{"v1, v1 and a bad v3", "v1", merge(v1Only, badV3), nil},
		{"v1, bad v1 and a good v3", "v1", merge(badV1, v3Only), verify.ErrSignatureMismatch},
		{"v1, v3 only", "v1", v3Only, verify.ErrSignatureMismatch},
		{"v1, v2 signature", "v1", v2Hdr, verify.ErrSignatureMismatch},
		{"v1, nothing", "v1", http.Header{}, verify.ErrMissingSignature},
		// v2 wants v2 exactly.
		{"v2, v2", "v2", v2Hdr, nil},
		{"v2, v2 and a bad v3", "v2", merge(v2Hdr, badV3), nil},
		{"v2, v1", "v2", v1Only, verify.ErrSignatureMismatch},
		{"v2, v1 without version header", "v2", v1NoVersion, verify.ErrSignatureMismatch},
		{"v2, v3 only", "v2", v3Only, verify.ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.version != "" {
				opts = append(opts, WithSignatureVersion(tt.version))
			}
			p := mustNew(t, "hubspot", hsSecret, opts...)
			req := verify.Request{Method: http.MethodPost, URL: hsURL, Header: tt.h.Clone(), Body: body}
			d, err := p.Verify(req, t0)
			wantErr(t, err, tt.want, "hubspot")
			if err == nil {
				assert.Equal(t, tt.version == "v1" || tt.version == "v2", d.Replayable, "Replayable under %q", tt.version)
			}
			if errors.Is(err, verify.ErrSignatureMismatch) && tt.h.Get(hubspotV3Header)+tt.h.Get(hubspotLegacyHeader) != "" {
				want := tt.version
				if want == "" {
					want = "v3"
				}
				assert.ErrorContains(t, err, want, "the reason does not name the expected version")
			}
		})
	}
}

// TestWithSignatureVersionValues: only "v1", "v2" and "v3" are accepted,
// and the preset's Info and Sign follow the configured version.
func TestWithSignatureVersionValues(t *testing.T) {
	for _, v := range []string{"", "V3", "v4", "3", "v3 ", "v1,v3", "\x00"} {
		p, err := NewHubSpot(hsSecret, WithSignatureVersion(v))
		assert.Nil(t, p, "WithSignatureVersion(%q)", v)
		assert.ErrorIs(t, err, ErrInvalidOption, "WithSignatureVersion(%q)", v)
		assert.ErrorContains(t, err, "WithSignatureVersion", "WithSignatureVersion(%q)", v)
	}
	for _, tt := range []struct {
		version, header string
		timestamped     bool
	}{
		{"v3", "X-HubSpot-Signature-v3", true},
		{"v2", "X-HubSpot-Signature", false},
		{"v1", "X-HubSpot-Signature", false},
	} {
		p := mustNew(t, "hubspot", hsSecret, WithSignatureVersion(tt.version))
		info := p.Info()
		assert.Equal(t, tt.header, info.SignatureHeader, "%s: Info = %+v", tt.version, info)
		assert.Equal(t, tt.timestamped, info.Timestamped, "%s: Info = %+v", tt.version, info)
		assert.Contains(t, info.Algorithm, tt.version, "%s: Info = %+v", tt.version, info)
		o := Outgoing{Body: []byte(hsBody), URL: hsURL, Timestamp: t0}
		req := asymSigned(t, p, o)
		_, err := p.Verify(req, t0)
		assert.NoError(t, err, "%s: its own signature", tt.version)
		if tt.version != "v3" {
			assert.Equal(t, tt.version, req.Header.Get(hubspotVersionHeader), "%s: the version Sign sent", tt.version)
		}
	}
	info := mustNew(t, "hubspot", hsSecret).Info()
	assert.True(t, info.Timestamped, "default Info = %+v, want v3", info)
	assert.Equal(t, "X-HubSpot-Signature-v3", info.SignatureHeader, "default Info = %+v, want v3", info)
}

// FuzzHubSpotNoDowngrade: whatever HubSpot headers a request carries,
// the default preset's outcome depends on the v3 headers alone (removing
// the legacy ones changes nothing, removing v3 refuses it), and a v1
// preset's on the v1 headers alone (removing the v3 ones changes nothing).
//
//	go test ./providers -run '^$' -fuzz FuzzHubSpotNoDowngrade
func FuzzHubSpotNoDowngrade(f *testing.F) {
	good := captureHubSpot(f, hsBody, t0)
	f.Add(good.Get(hubspotLegacyHeader), "v1", good.Get(hubspotV3Header), good.Get(hubspotTimestampHeader), hsBody)
	f.Add(good.Get(hubspotLegacyHeader), "", "", "", hsBody)
	f.Add(good.Get(hubspotLegacyHeader), "v1", "", good.Get(hubspotTimestampHeader), hsBody)
	f.Add("", "v2", "AAAA", "1700000000000", "[]")
	def := mustNew(f, "hubspot", hsSecret)
	v1 := mustNew(f, "hubspot", hsSecret, WithSignatureVersion("v1"))
	f.Fuzz(func(t *testing.T, legacy, version, v3, ts, body string) {
		h := http.Header{}
		for _, kv := range [][2]string{{hubspotLegacyHeader, legacy}, {hubspotVersionHeader, version}, {hubspotV3Header, v3}, {hubspotTimestampHeader, ts}} {
			if kv[1] != "" {
				h.Set(kv[0], kv[1])
			}
		}
		verifyWithout := func(p Provider, drop ...string) error {
			req := verify.Request{Method: http.MethodPost, URL: hsURL, Header: h.Clone(), Body: []byte(body)}
			for _, k := range drop {
				req.Header.Del(k)
			}
			_, err := p.Verify(req, t0)
			return err
		}
		err := verifyWithout(def)
		noLegacy := verifyWithout(def, hubspotLegacyHeader, hubspotVersionHeader)
		require.Equal(t, err == nil, noLegacy == nil, "default preset: %v with the v1 headers, %v without", err, noLegacy)
		if err == nil {
			require.Error(t, verifyWithout(def, hubspotV3Header, hubspotTimestampHeader), "default preset accepted a request without v3 headers")
		}
		err = verifyWithout(v1)
		noV3 := verifyWithout(v1, hubspotV3Header, hubspotTimestampHeader)
		require.Equal(t, err == nil, noV3 == nil, "v1 preset: %v with the v3 headers, %v without", err, noV3)
		if err == nil {
			require.Error(t, verifyWithout(v1, hubspotLegacyHeader), "v1 preset accepted a request without X-HubSpot-Signature")
		}
	})
}
