package providers

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// preset describes one preset for the tests that run against all of them.
type preset struct {
	name   string
	secret string // positional secret
	other  string // a second, different valid secret
	sigH   string // signature header
	tsH    string // separate timestamp header, "" when none
	stamp  bool   // signs a timestamp
}

func presets() []preset {
	return []preset{
		{name: "stripe", secret: "whsec_test_secret", other: "whsec_other_secret", sigH: "Stripe-Signature", stamp: true},
		{name: "github", secret: "gh-secret", other: "gh-other", sigH: "X-Hub-Signature-256"},
		{name: "shopify", secret: "shpss_secret", other: "shpss_other", sigH: "X-Shopify-Hmac-Sha256"},
		{name: "slack", secret: "8f742231b10e8888abcd99yyyzzz85a5", other: "0000000000000000000000000000000a", sigH: "X-Slack-Signature", tsH: "X-Slack-Request-Timestamp", stamp: true},
		{name: "standardwebhooks", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", other: "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", sigH: "Webhook-Signature", tsH: "Webhook-Timestamp", stamp: true},
		{name: "svix", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", other: "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", sigH: "Svix-Signature", tsH: "Svix-Timestamp", stamp: true},
	}
}

const eventBody = `{"id":"evt_1","event_id":"Ev1","type":"invoice.paid","data":{"object":{"id":"in_1","amount":100}}}`

func outgoing() Outgoing {
	return Outgoing{Body: []byte(eventBody), ID: "delivery-1", Type: "invoice.paid", Timestamp: t0}
}

// wantIDType is what each preset extracts from outgoing().
var wantIDType = map[string][2]string{
	"stripe":           {"evt_1", "invoice.paid"},
	"github":           {"delivery-1", "invoice.paid"},
	"shopify":          {"delivery-1", "invoice.paid"},
	"slack":            {"Ev1", "invoice.paid"},
	"standardwebhooks": {"delivery-1", "invoice.paid"},
	"svix":             {"delivery-1", "invoice.paid"},
}

// flipSigChar changes one character of the last signature in the header
// into another character of the same alphabet, so that it still decodes.
func flipSigChar(v string) string {
	i := len(v) - 5 // inside the last signature, before any base64 padding
	c := byte('0')
	if v[i] == '0' {
		c = '1'
	}
	return v[:i] + string(c) + v[i+1:]
}

func TestRoundTrip(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			req := signed(t, p, outgoing())
			d, err := p.Verify(req, t0)
			require.NoError(t, err, "Verify")
			want := wantIDType[ps.name]
			assert.Equal(t, ps.name, d.Provider, "Provider")
			assert.Equal(t, want[0], d.ID, "ID")
			assert.Equal(t, want[1], d.Type, "Type")
			assert.Equal(t, 0, d.SecretIndex, "SecretIndex")
			assert.Equal(t, ps.stamp, !d.Timestamp.IsZero(), "Timestamp = %v, timestamped %v", d.Timestamp, ps.stamp)
			if ps.stamp {
				assert.WithinDuration(t, t0, d.Timestamp, 0, "Timestamp")
			}
			assert.Equal(t, !ps.stamp, d.Replayable, "Replayable")
			if d.Replayable {
				assert.NotZero(t, d.Digest, "Replayable delivery without Digest")
			} else {
				assert.Zero(t, d.Digest, "Digest set on a timestamped delivery")
			}
			assert.Nil(t, d.Reply, "Reply")
			got := p.Info()
			assert.Equal(t, ps.name, got.Name, "Info = %+v", got)
			assert.Equal(t, ps.stamp, got.Timestamped, "Info = %+v", got)
			assert.True(t, strings.EqualFold(got.SignatureHeader, ps.sigH), "Info().SignatureHeader = %q, want %q in any case", got.SignatureHeader, ps.sigH)
			assert.Equal(t, "application/json", req.Header.Get("Content-Type"), "Content-Type")
		})
	}
}

func TestDigestIdentifiesSignedContent(t *testing.T) {
	for _, name := range []string{"github", "shopify"} {
		t.Run(name, func(t *testing.T) {
			p := mustNew(t, name, "s3cret")
			o := outgoing()
			d1, err := p.Verify(signed(t, p, o), t0)
			require.NoError(t, err)
			o.ID = "another-delivery" // a replay under a fresh, unsigned ID
			d2, err := p.Verify(signed(t, p, o), t0)
			require.NoError(t, err)
			// The same body under two IDs: different IDs, equal digests.
			assert.NotEqual(t, d1.ID, d2.ID, "same body under two IDs: IDs")
			assert.Equal(t, d1.Digest, d2.Digest, "same body under two IDs: digests")
			o.Body = []byte(`{"other":1}`)
			d3, err := p.Verify(signed(t, p, o), t0)
			require.NoError(t, err)
			assert.NotEqual(t, d1.Digest, d3.Digest, "different bodies share a digest")
		})
	}
}

func TestTampering(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			tests := []struct {
				name   string
				mutate func(*verify.Request)
				want   error
			}{
				{"body byte flipped", func(r *verify.Request) { r.Body[10] ^= 0x01 }, verify.ErrSignatureMismatch},
				{"body truncated", func(r *verify.Request) { r.Body = r.Body[:len(r.Body)-1] }, verify.ErrSignatureMismatch},
				{"signature char flipped", func(r *verify.Request) { r.Header.Set(ps.sigH, flipSigChar(r.Header.Get(ps.sigH))) }, verify.ErrSignatureMismatch},
				{"no signature header", func(r *verify.Request) { r.Header.Del(ps.sigH) }, verify.ErrMissingSignature},
				{"empty signature header", func(r *verify.Request) { r.Header.Set(ps.sigH, "") }, verify.ErrMalformedSignature},
				{"garbage signature header", func(r *verify.Request) { r.Header.Set(ps.sigH, "not a signature at all") }, verify.ErrMalformedSignature},
			}
			if ps.stamp {
				tests = append(tests, struct {
					name   string
					mutate func(*verify.Request)
					want   error
				}{"timestamp changed by one second", func(r *verify.Request) { shiftTimestamp(t, ps, r.Header, 1) }, verify.ErrSignatureMismatch})
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req := signed(t, p, outgoing())
					req.Body = slices.Clone(req.Body)
					tt.mutate(&req)
					_, err := p.Verify(req, t0)
					wantErr(t, err, tt.want, ps.name)
				})
			}
		})
	}
}

// shiftTimestamp adds delta seconds to the signed timestamp of a request,
// leaving the signature as it was.
func shiftTimestamp(t *testing.T, ps preset, h http.Header, delta int64) {
	t.Helper()
	if ps.tsH != "" {
		n, err := strconv.ParseInt(h.Get(ps.tsH), 10, 64)
		require.NoError(t, err)
		h.Set(ps.tsH, strconv.FormatInt(n+delta, 10))
		return
	}
	v := h.Get(ps.sigH) // Stripe: t=<unix>,v1=...
	ts, rest, _ := strings.Cut(strings.TrimPrefix(v, "t="), ",")
	n, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	h.Set(ps.sigH, "t="+strconv.FormatInt(n+delta, 10)+","+rest)
}

func TestWrongSecretAndRotation(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			sender := mustNew(t, ps.name, ps.other)
			req := signed(t, sender, outgoing())

			_, err := mustNew(t, ps.name, ps.secret).Verify(req, t0)
			wantErr(t, err, verify.ErrSignatureMismatch, ps.name)

			d, err := mustNew(t, ps.name, ps.secret, WithSecret(ps.other)).Verify(req, t0)
			require.NoError(t, err, "with WithSecret(other)")
			require.Equal(t, 1, d.SecretIndex, "with WithSecret(other): SecretIndex")
			d, err = mustNew(t, ps.name, ps.other, WithSecret(ps.secret)).Verify(req, t0)
			require.NoError(t, err, "other as positional")
			require.Equal(t, 0, d.SecretIndex, "other as positional: SecretIndex")
		})
	}
}

func TestTwoSignaturesDuringRotation(t *testing.T) {
	// The sender signs with old and new secret; the receiver knows only the new one.
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			oldReq := signed(t, mustNew(t, ps.name, ps.other), outgoing())
			newReq := signed(t, mustNew(t, ps.name, ps.secret), outgoing())
			h := newReq.Header
			switch ps.name {
			case "stripe":
				_, v1old, _ := strings.Cut(oldReq.Header.Get(ps.sigH), ",")
				h.Set(ps.sigH, v1old+" , "+h.Get(ps.sigH)) // whitespace around entries
			case "standardwebhooks", "svix":
				h.Set(ps.sigH, oldReq.Header.Get(ps.sigH)+"  "+h.Get(ps.sigH))
			default: // one signature per line: two header lines
				h[ps.sigH] = []string{oldReq.Header.Get(ps.sigH), h.Get(ps.sigH)}
			}
			d, err := mustNew(t, ps.name, ps.secret).Verify(newReq, t0)
			require.NoError(t, err, "header %q", h[ps.sigH])
			require.Equal(t, 0, d.SecretIndex, "SecretIndex (header %q)", h[ps.sigH])
		})
	}
}

func TestDuplicatedHeaderLines(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			req := signed(t, p, outgoing())
			// A proxy that repeats every line, and a stray extra line before them.
			for k, v := range req.Header {
				req.Header[k] = append(v, v...)
			}
			req.Header[ps.sigH] = append([]string{"junk"}, req.Header[ps.sigH]...)
			_, err := p.Verify(req, t0)
			require.NoError(t, err, "Verify with duplicated lines")
		})
	}
}

func TestTimestampWindow(t *testing.T) {
	const tol = verify.DefaultTolerance
	tests := []struct {
		name string
		now  time.Time // the request is signed at t0
		opts []Option
		want error
	}{
		{"exactly now", t0, nil, nil},
		{"just inside, past", t0.Add(tol), nil, nil},
		{"just outside, past", t0.Add(tol + time.Second), nil, verify.ErrTimestampTooOld},
		{"just inside, future", t0.Add(-tol), nil, nil},
		{"just outside, future", t0.Add(-tol - time.Second), nil, verify.ErrTimestampTooNew},
		{"custom window inside, past", t0.Add(time.Minute), []Option{WithTolerance(time.Minute, 10*time.Second)}, nil},
		{"custom window outside, past", t0.Add(time.Minute + time.Second), []Option{WithTolerance(time.Minute, 10*time.Second)}, verify.ErrTimestampTooOld},
		{"custom window inside, future", t0.Add(-10 * time.Second), []Option{WithTolerance(time.Minute, 10*time.Second)}, nil},
		{"custom window outside, future", t0.Add(-11 * time.Second), []Option{WithTolerance(time.Minute, 10*time.Second)}, verify.ErrTimestampTooNew},
		{"check disabled, a year later", t0.Add(365 * 24 * time.Hour), []Option{WithoutTimestampCheck()}, nil},
		{"check disabled, a year earlier", t0.Add(-365 * 24 * time.Hour), []Option{WithoutTimestampCheck()}, nil},
	}
	for _, ps := range presets() {
		if !ps.stamp {
			continue
		}
		for _, tt := range tests {
			t.Run(ps.name+"/"+tt.name, func(t *testing.T) {
				p := mustNew(t, ps.name, ps.secret, tt.opts...)
				d, err := p.Verify(signed(t, p, outgoing()), tt.now)
				wantErr(t, err, tt.want, ps.name)
				if err == nil {
					assert.WithinDuration(t, t0, d.Timestamp, 0, "Timestamp")
				}
			})
		}
	}
}

func TestUntimestampedIgnoreNow(t *testing.T) {
	for _, name := range []string{"github", "shopify"} {
		p := mustNew(t, name, "s")
		req := signed(t, p, outgoing())
		_, err := p.Verify(req, t0.Add(1000*time.Hour))
		assert.NoError(t, err, name)
	}
}

func TestMalformedTimestamps(t *testing.T) {
	bad := []string{"", "abc", "-1700000000", "+1700000000", "1700000000.5", "17 00", "1e9", "99999999999999999999"}
	for _, ps := range presets() {
		if !ps.stamp {
			continue
		}
		for _, v := range bad {
			t.Run(ps.name+"/"+strconv.Quote(v), func(t *testing.T) {
				for _, opts := range [][]Option{nil, {WithoutTimestampCheck()}} {
					p := mustNew(t, ps.name, ps.secret, opts...)
					req := signed(t, p, outgoing())
					if ps.tsH != "" {
						req.Header.Set(ps.tsH, v)
					} else {
						_, rest, _ := strings.Cut(req.Header.Get(ps.sigH), ",")
						req.Header.Set(ps.sigH, "t="+v+","+rest)
					}
					_, err := p.Verify(req, t0)
					want := verify.ErrMalformedTimestamp
					if v == "" && ps.name == "stripe" {
						want = verify.ErrMissingTimestamp // "t=" with no value reads as absent
					}
					wantErr(t, err, want, ps.name)
				}
			})
		}
	}
}

func TestMissingTimestampAndID(t *testing.T) {
	for _, ps := range presets() {
		if !ps.stamp {
			continue
		}
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			req := signed(t, p, outgoing())
			if ps.tsH != "" {
				req.Header.Del(ps.tsH)
			} else {
				_, rest, _ := strings.Cut(req.Header.Get(ps.sigH), ",")
				req.Header.Set(ps.sigH, rest)
			}
			_, err := p.Verify(req, t0)
			want := verify.ErrMissingTimestamp
			if ps.name == "svix" {
				want = verify.ErrMissingSignature // without svix-timestamp, Svix reads the webhook-* set
			}
			wantErr(t, err, want, ps.name)
		})
	}
	for _, name := range []string{"standardwebhooks", "svix"} {
		p := mustNew(t, name, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		req := signed(t, p, outgoing())
		req.Header.Del(map[string]string{"standardwebhooks": "Webhook-Id", "svix": "Svix-Id"}[name])
		_, err := p.Verify(req, t0)
		if name == "svix" {
			// Without svix-id, Svix reads the webhook-* set, which has no signature.
			wantErr(t, err, verify.ErrMissingSignature, name)
		} else {
			wantErr(t, err, verify.ErrMissingHeader, name)
		}
	}
}

func TestHeaderParsing(t *testing.T) {
	const hex64 = "b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b"
	good := func(name string) (Provider, verify.Request) {
		var p Provider
		switch name {
		case "standardwebhooks", "svix":
			p = mustNew(t, name, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		default:
			p = mustNew(t, name, "s3cret")
		}
		return p, signed(t, p, outgoing())
	}
	tests := []struct {
		provider string
		name     string
		edit     func(v string) string // the signature header value
		want     error
	}{
		// Stripe
		{"stripe", "uppercase hex", func(v string) string { i := strings.Index(v, "v1=") + 3; return v[:i] + strings.ToUpper(v[i:]) }, nil},
		{"stripe", "spaces around entries", func(v string) string { return " " + strings.ReplaceAll(v, ",", " ,\t") + " " }, nil},
		{"stripe", "empty entries", func(v string) string { return ",," + strings.ReplaceAll(v, ",", ",,") + "," }, nil},
		{"stripe", "unknown schemes ignored", func(v string) string { return v + ",v0=" + hex64 + ",v2=zz,x" }, nil},
		{"stripe", "only v0", func(v string) string { t, _, _ := strings.Cut(v, ","); return t + ",v0=" + hex64 }, verify.ErrMalformedSignature},
		{"stripe", "v1 not hex", func(v string) string { t, _, _ := strings.Cut(v, ","); return t + ",v1=" + strings.Repeat("zz", 32) }, verify.ErrMalformedSignature},
		{"stripe", "v1 truncated", func(v string) string { return v[:len(v)-2] }, verify.ErrMalformedSignature},
		{"stripe", "v1 odd length", func(v string) string { return v[:len(v)-1] }, verify.ErrMalformedSignature},
		{"stripe", "bad v1 beside good one", func(v string) string { return v + ",v1=nothex" }, nil},
		{"stripe", "two different t", func(v string) string { return v + ",t=1" }, verify.ErrMalformedTimestamp},
		{"stripe", "same t twice", func(v string) string { t, _, _ := strings.Cut(v, ","); return t + "," + v }, nil},
		{"stripe", "seventeen v1", func(v string) string { return v + strings.Repeat(",v1="+hex64, verify.MaxSignatures) }, verify.ErrMalformedSignature},
		{"stripe", "sixteen v1", func(v string) string { return v + strings.Repeat(",v1="+hex64, verify.MaxSignatures-1) }, nil},
		{"stripe", "huge header", func(v string) string { return v + "," + strings.Repeat("x", maxHeaderBytes) }, verify.ErrMalformedSignature},
		// GitHub
		{"github", "uppercase prefix and hex", func(v string) string { return strings.ToUpper(v) }, nil},
		{"github", "surrounding whitespace", func(v string) string { return " \t" + v + " " }, nil},
		{"github", "no prefix", func(v string) string { return strings.TrimPrefix(v, "sha256=") }, verify.ErrMalformedSignature},
		{"github", "sha1 prefix in the -256 header", func(v string) string { return "sha1=" + v[len(v)-40:] }, verify.ErrMalformedSignature},
		{"github", "truncated hex", func(v string) string { return v[:len(v)-2] }, verify.ErrMalformedSignature},
		{"github", "longer hex", func(v string) string { return v + "00" }, verify.ErrMalformedSignature},
		// Shopify
		{"shopify", "unpadded base64", func(v string) string { return strings.TrimRight(v, "=") }, nil},
		{"shopify", "url-safe base64", func(v string) string { return strings.NewReplacer("+", "-", "/", "_").Replace(v) }, nil},
		{"shopify", "surrounding whitespace", func(v string) string { return " " + v + "\t" }, nil},
		{"shopify", "truncated base64", func(v string) string { return v[:len(v)-5] }, verify.ErrMalformedSignature},
		{"shopify", "hex instead of base64", func(string) string { return hex64 }, verify.ErrMalformedSignature},
		{"shopify", "not base64", func(string) string { return "!!!!" }, verify.ErrMalformedSignature},
		// Slack
		{"slack", "uppercase hex", func(v string) string { return "v0=" + strings.ToUpper(v[3:]) }, nil},
		{"slack", "unknown version", func(v string) string { return "v1=" + v[3:] }, verify.ErrMalformedSignature},
		{"slack", "no prefix", func(v string) string { return v[3:] }, verify.ErrMalformedSignature},
		{"slack", "truncated", func(v string) string { return v[:len(v)-1] }, verify.ErrMalformedSignature},
		// Standard Webhooks
		{"standardwebhooks", "unknown versions ignored", func(v string) string { return "v2,abc v1a,AAAA " + v + " v3" }, nil},
		{"standardwebhooks", "tabs and repeated spaces", func(v string) string { return "\t  " + v + "   " }, nil},
		{"standardwebhooks", "only v2", func(v string) string { return "v2," + v[3:] }, verify.ErrMalformedSignature},
		{"standardwebhooks", "empty v1", func(string) string { return "v1," }, verify.ErrMalformedSignature},
		{"standardwebhooks", "no comma", func(v string) string { return "v1" + v[3:] }, verify.ErrMalformedSignature},
		{"standardwebhooks", "truncated base64", func(v string) string { return v[:len(v)-6] }, verify.ErrMalformedSignature},
		{"standardwebhooks", "seventeen v1", func(v string) string { return v + strings.Repeat(" "+v, verify.MaxSignatures) }, verify.ErrMalformedSignature},
		{"standardwebhooks", "comma-separated list is not the format", func(v string) string { return v + "," + v }, verify.ErrMalformedSignature},
		{"svix", "unpadded", func(v string) string { return strings.TrimRight(v, "=") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.name, func(t *testing.T) {
			p, req := good(tt.provider)
			key := map[string]string{"stripe": "Stripe-Signature", "github": "X-Hub-Signature-256", "shopify": "X-Shopify-Hmac-Sha256",
				"slack": "X-Slack-Signature", "standardwebhooks": "Webhook-Signature", "svix": "Svix-Signature"}[tt.provider]
			req.Header[key] = []string{tt.edit(req.Header.Get(key))}
			_, err := p.Verify(req, t0)
			wantErr(t, err, tt.want, tt.provider)
		})
	}
}

func TestNonCanonicalHeaderKeys(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			req := signed(t, p, outgoing())
			lower := http.Header{}
			for k, v := range req.Header {
				lower[strings.ToLower(k)] = v
			}
			req.Header = lower
			d, err := p.Verify(req, t0)
			require.NoError(t, err)
			want := wantIDType[ps.name]
			assert.Equal(t, want[0], d.ID, "ID")
			assert.Equal(t, want[1], d.Type, "Type")
		})
	}
}

func TestGitHubFormBody(t *testing.T) {
	// A form delivery is signed over the form body, exactly as sent.
	body := "payload=%7B%22zen%22%3A%22Keep+it+logically+awesome.%22%2C%22hook_id%22%3A1%7D"
	p, err := NewGitHub("s3cret")
	require.NoError(t, err)
	req := signed(t, p, Outgoing{Body: []byte(body), ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Type: "ping", ContentType: "application/x-www-form-urlencoded"})
	assert.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"), "Content-Type")
	d, err := p.Verify(req, t0)
	require.NoError(t, err)
	assert.Equal(t, "72d3162e-cc78-11e3-81ab-4c9367dc0958", d.ID, "ID")
	assert.Equal(t, "ping", d.Type, "Type")
	// The decoded JSON is not what was signed.
	req.Body = []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	_, err = p.Verify(req, t0)
	wantErr(t, err, verify.ErrSignatureMismatch, "github")
}

func TestGitHubLegacySHA1(t *testing.T) {
	legacy, err := NewGitHub("s3cret", WithLegacySHA1())
	require.NoError(t, err)
	plain, err := NewGitHub("s3cret")
	require.NoError(t, err)
	both := signed(t, legacy, outgoing())
	require.True(t, strings.HasPrefix(both.Header.Get("X-Hub-Signature"), "sha1="), "Sign with WithLegacySHA1: headers %v", both.Header)
	require.NotEmpty(t, both.Header.Get("X-Hub-Signature-256"), "Sign with WithLegacySHA1: headers %v", both.Header)
	h := signed(t, plain, outgoing()).Header
	assert.Empty(t, h.Get("X-Hub-Signature"), "Sign without WithLegacySHA1 set X-Hub-Signature")
	sha1Only := func() verify.Request {
		r := signed(t, legacy, outgoing())
		r.Header.Del("X-Hub-Signature-256")
		return r
	}
	_, err = legacy.Verify(sha1Only(), t0)
	assert.NoError(t, err, "legacy verifier, SHA-1 only")
	_, err = plain.Verify(sha1Only(), t0)
	wantErr(t, err, verify.ErrMissingSignature, "github")

	// A present but wrong -256 header never falls back to SHA-1.
	r := signed(t, legacy, outgoing())
	r.Header.Set("X-Hub-Signature-256", flipSigChar(r.Header.Get("X-Hub-Signature-256")))
	_, err = legacy.Verify(r, t0)
	wantErr(t, err, verify.ErrSignatureMismatch, "github")
	r.Header.Set("X-Hub-Signature-256", "garbage")
	_, err = legacy.Verify(r, t0)
	wantErr(t, err, verify.ErrMalformedSignature, "github")

	// A tampered SHA-1 signature fails.
	r = sha1Only()
	r.Header.Set("X-Hub-Signature", flipSigChar(r.Header.Get("X-Hub-Signature")))
	_, err = legacy.Verify(r, t0)
	wantErr(t, err, verify.ErrSignatureMismatch, "github")
}

func TestShopifyHeaders(t *testing.T) {
	p, err := NewShopify("s3cret")
	require.NoError(t, err)
	req := signed(t, p, Outgoing{Body: []byte(eventBody), ID: "e-1", Type: "orders/create", Timestamp: t0})
	for _, k := range []string{"X-Shopify-Topic", "X-Shopify-Event-Id", "X-Shopify-Webhook-Id", "X-Shopify-Triggered-At", "X-Shopify-Shop-Domain", "X-Shopify-Hmac-Sha256"} {
		assert.NotEmpty(t, req.Header.Get(k), "Sign did not set %s", k)
	}
	assert.Equal(t, t0.UTC().Format(time.RFC3339Nano), req.Header.Get("X-Shopify-Triggered-At"), "X-Shopify-Triggered-At")
	req.Header.Set("X-Shopify-Webhook-Id", "w-1")
	d, _ := p.Verify(req, t0)
	assert.Equal(t, "e-1", d.ID, "ID: want the event ID")
	req.Header.Del("X-Shopify-Event-Id")
	d, _ = p.Verify(req, t0)
	assert.Equal(t, "w-1", d.ID, "ID: want the webhook ID")
	// Shopify "Events" deliveries use Shopify-Hmac-Sha256.
	req.Header["Shopify-Hmac-Sha256"] = req.Header["X-Shopify-Hmac-Sha256"]
	req.Header.Del("X-Shopify-Hmac-Sha256")
	_, err = p.Verify(req, t0)
	assert.NoError(t, err, "Shopify-Hmac-Sha256")
}

func TestSlackBodies(t *testing.T) {
	p, err := NewSlack("8f742231b10e8888abcd99yyyzzz85a5")
	require.NoError(t, err)
	tests := []struct {
		name      string
		body      string
		id, typ   string
		replyBody string // "" for no reply
	}{
		{"url_verification", `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
			"", "url_verification", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
		{"event_callback", `{"type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention","text":"hi"}}`,
			"Ev0PV52K21", "app_mention", ""},
		{"event_callback without event.type", `{"type":"event_callback","event_id":"Ev1"}`, "Ev1", "event_callback", ""},
		{"slash command form", slackVectorBody, "", "", ""},
		{"interactivity form", "payload=%7B%22type%22%3A%22block_actions%22%7D", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signed(t, p, Outgoing{Body: []byte(tt.body), Timestamp: t0})
			d, err := p.Verify(req, t0)
			require.NoError(t, err)
			assert.Equal(t, tt.id, d.ID, "ID")
			assert.Equal(t, tt.typ, d.Type, "Type")
			if tt.replyBody == "" {
				assert.Nil(t, d.Reply, "Reply")
			} else if assert.NotNil(t, d.Reply, "Reply: want 200 text/plain %q", tt.replyBody) {
				assert.Equal(t, tt.replyBody, string(d.Reply.Body), "Reply body")
				assert.Equal(t, http.StatusOK, d.Reply.Status, "Reply status")
				assert.True(t, strings.HasPrefix(d.Reply.ContentType, "text/plain"), "Reply content type %q, want text/plain", d.Reply.ContentType)
			}
			// Unverified, the handshake is not answered.
			req.Body = append([]byte(" "), req.Body...)
			d, err = p.Verify(req, t0)
			wantErr(t, err, verify.ErrSignatureMismatch, "slack")
			assert.Nil(t, d.Reply, "Reply set on a failed verification")
		})
	}
}

func newEd25519Key(t *testing.T) (priv, pub string) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return keys.PrivateKeyPrefix + base64.StdEncoding.EncodeToString(sk.Seed()),
		keys.PublicKeyPrefix + base64.StdEncoding.EncodeToString(pk)
}

func TestStandardWebhooksEd25519(t *testing.T) {
	priv, pub := newEd25519Key(t)
	_, otherPub := newEd25519Key(t)
	for _, name := range []string{"standardwebhooks", "svix"} {
		t.Run(name, func(t *testing.T) {
			signer := mustNew(t, name, priv)
			req := signed(t, signer, outgoing())
			sigH := map[string]string{"standardwebhooks": "Webhook-Signature", "svix": "Svix-Signature"}[name]
			v := req.Header.Get(sigH)
			require.True(t, strings.HasPrefix(v, "v1a,"), "%s = %q, want a v1a entry", sigH, v)
			for _, tc := range []struct {
				name string
				p    Provider
				want int
			}{
				{"private key verifies", signer, 0},
				{"public key verifies", mustNew(t, name, pub), 0},
				{"second public key matches", mustNew(t, name, otherPub, WithSecret(pub)), 1},
			} {
				d, err := tc.p.Verify(req, t0)
				if assert.NoError(t, err, tc.name) {
					assert.Equal(t, tc.want, d.SecretIndex, "%s: SecretIndex", tc.name)
					assert.Equal(t, "delivery-1", d.ID, "%s: ID", tc.name)
					assert.Equal(t, "invoice.paid", d.Type, "%s: Type", tc.name)
				}
				assert.Contains(t, tc.p.Info().Algorithm, "Ed25519", "Info().Algorithm")
			}
			_, err := mustNew(t, name, otherPub).Verify(req, t0)
			wantErr(t, err, verify.ErrSignatureMismatch, name)

			tampered := signed(t, signer, outgoing())
			tampered.Body[3] ^= 1
			_, err = mustNew(t, name, pub).Verify(tampered, t0)
			wantErr(t, err, verify.ErrSignatureMismatch, name)

			_, err = mustNew(t, name, pub).Sign(outgoing())
			assert.ErrorIs(t, err, ErrCannotSign, "Sign with a public key")
		})
	}
}

func TestStandardWebhooksSchemeFixedByKey(t *testing.T) {
	_, pub := newEd25519Key(t)
	pubBytes, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub, keys.PublicKeyPrefix))
	// An attacker who knows the public key signs v1 with it as the HMAC key.
	forger, err := NewStandardWebhooks("whsec_" + base64.StdEncoding.EncodeToString(pubBytes))
	require.NoError(t, err)
	req := signed(t, forger, outgoing())
	_, err = mustNew(t, "standardwebhooks", pub).Verify(req, t0)
	wantErr(t, err, verify.ErrMalformedSignature, "standardwebhooks") // v1 entries are not even read

	// And a v1a entry is ignored by an HMAC verifier.
	priv, _ := newEd25519Key(t)
	req = signed(t, mustNew(t, "standardwebhooks", priv), outgoing())
	_, err = mustNew(t, "standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").Verify(req, t0)
	wantErr(t, err, verify.ErrMalformedSignature, "standardwebhooks")
}

func TestSvixFallsBackToWebhookHeaders(t *testing.T) {
	std := mustNew(t, "standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	svix := mustNew(t, "svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	d, err := svix.Verify(signed(t, std, outgoing()), t0)
	require.NoError(t, err, "svix on webhook-* headers: %+v", d)
	require.Equal(t, "delivery-1", d.ID, "svix on webhook-* headers: ID")
	require.Equal(t, "svix", d.Provider, "svix on webhook-* headers: Provider")
	// The standard preset does not read svix-* headers.
	_, err = std.Verify(signed(t, svix, outgoing()), t0)
	wantErr(t, err, verify.ErrMissingSignature, "standardwebhooks")
}

func TestInsecureSkipVerification(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret, InsecureSkipVerification())
			// Signed with another secret, an hour old, and tampered with.
			o := outgoing()
			req := signed(t, mustNew(t, ps.name, ps.other), o)
			d, err := p.Verify(req, t0.Add(time.Hour))
			require.NoError(t, err, "Verify")
			want := wantIDType[ps.name]
			assert.Equal(t, -1, d.SecretIndex, "SecretIndex")
			assert.Equal(t, want[0], d.ID, "ID")
			assert.Equal(t, want[1], d.Type, "Type")
			if ps.stamp {
				assert.WithinDuration(t, t0, d.Timestamp, 0, "Timestamp")
			}
			// No signature at all.
			req.Header.Del(ps.sigH)
			d, err = p.Verify(req, t0)
			if assert.NoError(t, err, "without signature") {
				assert.Equal(t, -1, d.SecretIndex, "without signature: SecretIndex")
			}
		})
	}
	p := mustNew(t, "slack", "x", InsecureSkipVerification())
	d, err := p.Verify(request(hdr(), `{"type":"url_verification","challenge":"abc"}`), t0)
	if assert.NoError(t, err, "insecure slack handshake") && assert.NotNil(t, d.Reply, "insecure slack handshake: Reply") {
		assert.Equal(t, "abc", string(d.Reply.Body), "insecure slack handshake: Reply body")
	}
}

func TestConstructionErrors(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		secret   string
		opts     []Option
		want     error
	}{
		{"empty secret", "stripe", "", nil, verify.ErrEmptySecret},
		{"empty github secret", "github", "", nil, verify.ErrEmptySecret},
		{"empty shopify secret", "shopify", "", nil, verify.ErrEmptySecret},
		{"empty slack secret", "slack", "", nil, verify.ErrEmptySecret},
		{"empty WithSecret", "github", "s", []Option{WithSecret("")}, verify.ErrEmptySecret},
		{"empty whsec", "standardwebhooks", "", nil, verify.ErrEmptySecret},
		{"whsec_ alone", "standardwebhooks", "whsec_", nil, verify.ErrEmptySecret},
		{"bad whsec", "standardwebhooks", "whsec_not base64!", nil, verify.ErrInvalidSecret},
		{"bad svix whsec", "svix", "whsec_%%%", nil, verify.ErrInvalidSecret},
		{"bad whpk", "standardwebhooks", "whpk_AAAA", nil, verify.ErrInvalidSecret},
		{"bad whsk", "svix", "whsk_AAAA", nil, verify.ErrInvalidSecret},
		{"mixed kinds", "standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []Option{WithSecret("whpk_" + strings.Repeat("A", 43))}, verify.ErrInvalidSecret},
		{"legacy on stripe", "stripe", "s", []Option{WithLegacySHA1()}, ErrInvalidOption},
		{"legacy on shopify", "shopify", "s", []Option{WithLegacySHA1()}, ErrInvalidOption},
		{"legacy on slack", "slack", "s", []Option{WithLegacySHA1()}, ErrInvalidOption},
		{"legacy on svix", "svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []Option{WithLegacySHA1()}, ErrInvalidOption},
		{"zero tolerance", "stripe", "s", []Option{WithTolerance(0, time.Minute)}, ErrInvalidOption},
		{"negative tolerance", "slack", "s", []Option{WithTolerance(time.Minute, -time.Second)}, ErrInvalidOption},
		{"unknown provider", "paypal", "s", nil, ErrUnknownProvider},
		{"uppercase name", "Stripe", "s", nil, ErrUnknownProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.provider, tt.secret, tt.opts...)
			require.ErrorIs(t, err, tt.want, "New(%q)", tt.provider)
			require.Nil(t, p, "New(%q)", tt.provider)
			if len(tt.secret) > 2 {
				assert.NotContains(t, err.Error(), tt.secret, "error echoes the secret")
			}
		})
	}
	_, err := New("paypal", "s")
	assert.ErrorContains(t, err, strings.Join(Names(), ", "), "unknown-provider error does not list the names")
	_, err = NewGitHub("s", WithLegacySHA1(), InsecureSkipVerification(), nil)
	assert.NoError(t, err, "NewGitHub with all applicable options")
}

func TestNames(t *testing.T) {
	names := Names()
	require.IsIncreasing(t, names, "Names() = %v, want sorted, distinct names", names)
	for _, core := range []string{"github", "shopify", "slack", "standardwebhooks", "stripe", "svix"} {
		assert.Contains(t, names, core, "Names()")
	}
	for _, n := range names {
		secret, err := testSecret(n)
		require.NoError(t, err)
		p := mustNew(t, n, secret)
		info := p.Info()
		assert.Equal(t, n, p.Name(), "Name")
		assert.Equal(t, n, info.Name, "%s: Info %+v", n, info)
		assert.NotEmpty(t, info.Title, "%s: Info %+v", n, info)
		assert.NotEmpty(t, info.Algorithm, "%s: Info %+v", n, info)
		assert.NotEmpty(t, info.IDSource, "%s: Info %+v", n, info)
		assert.NotEmpty(t, info.TypeSource, "%s: Info %+v", n, info)
	}
	first := names[0]
	names[0] = "mutated"
	assert.Equal(t, first, Names()[0], "Names returns shared storage")
}

func TestErrorsDoNotLeak(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			sender := mustNew(t, ps.name, ps.other)
			o := outgoing()
			req := signed(t, sender, o)
			right := signed(t, mustNew(t, ps.name, ps.secret), o).Header.Get(ps.sigH)
			_, err := mustNew(t, ps.name, ps.secret).Verify(req, t0)
			require.Error(t, err, "want an error")
			msg := err.Error()
			for _, s := range []string{ps.secret, ps.other, string(o.Body), right, req.Header.Get(ps.sigH)} {
				if len(s) > 8 {
					assert.NotContains(t, msg, s)
				}
			}
			// Nor the signature part alone.
			if i := strings.LastIndexAny(right, "=,"); i > 0 && len(right)-i > 16 {
				assert.NotContains(t, msg, right[len(right)-16:], "error contains part of the expected signature")
			}
		})
	}
}

func TestSignDefaults(t *testing.T) {
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			before := time.Now().Add(-time.Second)
			req := signed(t, p, Outgoing{Body: []byte(`{}`)})
			d, err := p.Verify(req, time.Now())
			require.NoError(t, err)
			if ps.stamp {
				assert.False(t, d.Timestamp.Before(before.Truncate(time.Second)), "zero Timestamp signed as %v, want about now", d.Timestamp)
			}
			if ps.name == "github" || ps.name == "shopify" || ps.tsH != "" && ps.name != "slack" {
				assert.NotEmpty(t, d.ID, "zero ID: no ID generated")
			}
			again := signed(t, p, Outgoing{Body: []byte(`{}`)})
			if d2, _ := p.Verify(again, time.Now()); d.ID != "" {
				assert.NotEqual(t, d.ID, d2.ID, "two generated IDs are equal")
			}
		})
	}
	h, err := mustNew(t, "github", "s").Sign(Outgoing{Body: []byte(`{}`)})
	assert.NoError(t, err, "GitHub Sign")
	assert.Equal(t, "GitHub-Hookshot/hookguard", h.Get("User-Agent"), "GitHub Sign headers %v", h)
	assert.Empty(t, h.Get("X-GitHub-Event"), "GitHub Sign headers %v", h)
}

func TestSignaturePathDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation count: skipped in -short mode and under the race detector")
	}
	for _, ps := range presets() {
		t.Run(ps.name, func(t *testing.T) {
			p := mustNew(t, ps.name, ps.secret)
			o := outgoing()
			o.Body = []byte(`["opaque", "body"]`) // no ID or type to extract
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

// TestTestSecret checks that every preset accepts, and can sign with, the
// secret TestSecret makes for it, and that two calls differ.
func TestTestSecret(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			a, err := testSecret(name)
			require.NoError(t, err)
			b, _ := testSecret(name)
			assert.NotEqual(t, a, b, "two testSecret(%q) calls returned the same secret", name)
			p, err := New(name, a)
			require.NoError(t, err, "New(%q, TestSecret)", name)
			o := Outgoing{Body: []byte(`{"id":"evt_1"}`), URL: "https://example.com/hook"}
			if name == "twilio" { // Twilio signs form parameters; a JSON body needs bodySHA256 in the URL
				o.Body, o.ContentType = []byte("CallSid=CA1&From=%2B14155550100"), "application/x-www-form-urlencoded"
			}
			_, err = p.Sign(o)
			assert.NoError(t, err, "Sign with TestSecret")
		})
	}
	_, err := testSecret("nope")
	assert.ErrorIs(t, err, ErrUnknownProvider, "testSecret(nope)")
}
