package providers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// Option flags of FuzzNewProvider, one bit each.
const (
	optSecond     = 1 << iota // WithSecret(other)
	optTolerance              // WithTolerance(d, d)
	optNoTime                 // WithoutTimestampCheck()
	optLegacy                 // WithLegacySHA1()
	optToken                  // WithVerifyToken(token)
	optV3                     // WithSignatureVersion(v1, v2, v3 or token, by len(token))
	optAuth                   // WithAuthHeader(token)
	optKeySource              // WithKeySource(a source that knows no key)
	optNilSource              // with optKeySource: WithKeySource(nil)
	optKeyTimeout             // WithKeyTimeout(d)
	optInsecure               // InsecureSkipVerification()
	optNil                    // a nil Option
	optSharedKey              // WithSharedKey(token)
)

// fuzzNewOptions builds the options flags selects.
func fuzzNewOptions(flags uint16, other, token string, d time.Duration) []providers.Option {
	var opts []providers.Option
	add := func(bit uint16, o func() providers.Option) {
		if flags&bit != 0 {
			opts = append(opts, o())
		}
	}
	add(optSecond, func() providers.Option { return providers.WithSecret(other) })
	add(optTolerance, func() providers.Option { return providers.WithTolerance(d, d) })
	add(optNoTime, providers.WithoutTimestampCheck)
	add(optLegacy, providers.WithLegacySHA1)
	add(optToken, func() providers.Option { return providers.WithVerifyToken(token) })
	add(optV3, func() providers.Option {
		return providers.WithSignatureVersion([]string{"v1", "v2", "v3", token}[len(token)%4])
	})
	add(optSharedKey, func() providers.Option { return providers.WithSharedKey(token) })
	add(optAuth, func() providers.Option { return providers.WithAuthHeader(token) })
	add(optKeySource, func() providers.Option {
		if flags&optNilSource != 0 {
			return providers.WithKeySource(nil)
		}
		return providers.WithKeySource(providers.KeySourceFunc(func(context.Context, string) (*ecdsa.PublicKey, error) {
			return nil, providers.ErrUnknownKey
		}))
	})
	add(optKeyTimeout, func() providers.Option { return providers.WithKeyTimeout(d) })
	add(optInsecure, providers.InsecureSkipVerification)
	add(optNil, func() providers.Option { return nil })
	return opts
}

// fuzzNewSecrets are seed secrets in every form a constructor reads,
// derived from fixed bytes so that the seed corpus is the same each run:
// "whsec_" base64 of 16, 24, 32 and 65 bytes, Ed25519 keys (private and
// public, hex and Standard Webhooks "whsk_"/"whpk_"), a P-256 PKCS#8 key,
// basic-auth credentials, and malformed ones.
func fuzzNewSecrets(tb testing.TB) []string {
	tb.Helper()
	seed := sha256.Sum256([]byte("hookguard FuzzNewProvider"))
	long := append(seed[:], seed[:]...)
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	b64 := base64.StdEncoding.EncodeToString
	out := []string{
		"", " ", "x", "secret", "whsec_", "whsec_!!", "whsec_" + b64(seed[:16]), "whsec_" + b64(seed[:24]),
		"whsec_" + b64(seed[:]), "whsec_" + b64(append(long, 1)), "whpk_" + b64(pub), "whsk_" + b64(priv),
		"whpk_" + b64(pub[:31]), hex.EncodeToString(priv), hex.EncodeToString(pub), hex.EncodeToString(pub[:31]),
		"hookuser:s3cret-pass", ":", "user:", strings.Repeat("k", 300), "shpss_" + hex.EncodeToString(seed[:]),
	}
	if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:]); err == nil {
		if s, err := keys.MarshalP256PrivateKey(k); err == nil {
			out = append(out, s, s[:len(s)/2])
		}
	}
	return out
}

// leaks reports whether msg shows s (raw or as %q would quote it) while
// the same construction with s replaced does not: text the message holds
// whatever the secret, such as an option's name, is not an echo.
func leaks(msg, s string, alt func() error) bool {
	if len(s) <= 8 {
		return false
	}
	quoted := strconv.Quote(s)
	quoted = quoted[1 : len(quoted)-1]
	if !strings.Contains(msg, s) && !strings.Contains(msg, quoted) {
		return false
	}
	err := alt()
	return err == nil || (!strings.Contains(err.Error(), s) && !strings.Contains(err.Error(), quoted))
}

// FuzzNewProvider is plan test 6 (catalogue entries A2 and A19): any
// secret and any combination of options given to providers.New, for every
// registered name and one unknown name, never panics. When New fails, it
// returns a nil Provider and an error that wraps one of the documented
// configuration errors and does not echo a secret longer than 8 bytes
// (the positional one or WithSecret's). An empty positional secret is an
// error unless a key source stands in for it. When New succeeds and the
// preset can sign, a small delivery signed with it verifies, matched by
// the positional secret (Secret 0), or by none (-1) under
// InsecureSkipVerification.
func FuzzNewProvider(f *testing.F) {
	names := providers.Names()
	for i, name := range names {
		f.Add(uint8(i), "", "", "", uint16(0), int64(0)) // A2: an empty secret, for every preset
		if s, err := testsecret.For(name); err == nil && strings.HasPrefix(s, "whsec_") {
			f.Add(uint8(i), "whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 32)), "", "", uint16(0), int64(0))
		}
	}
	for j, s := range fuzzNewSecrets(f) {
		f.Add(uint8(j), s, s, "fuzz-token", uint16(j*0x155)&0xfff, int64(j-3)*int64(time.Minute))
	}
	f.Add(uint8(len(names)), "whsec_"+strings.Repeat("A", 44), "", "", uint16(0), int64(0))
	// Found by this target: GitLab and Okta took a token with spaces or a
	// newline around it, which no HTTP header carries, so every genuine
	// delivery failed.
	for i, name := range names {
		if name == "gitlab" || name == "okta" {
			f.Add(uint8(i), " ", "", "", uint16(20), int64(68))
			f.Add(uint8(i), " 0", "0", "", uint16(0), int64(0))
			f.Add(uint8(i), "token-from-a-file\n", "", "", uint16(0), int64(0))
		}
	}
	f.Add(uint8(0), "a-long-positional-secret", "", "X-Okta Auth", uint16(optAuth|optToken), int64(-1))

	f.Fuzz(func(t *testing.T, idx uint8, secret, other, token string, flags uint16, dur int64) {
		name := "no-such-provider"
		if int(idx) < len(names) {
			name = names[idx]
		}
		d := time.Duration(dur)
		p, err := providers.New(name, secret, fuzzNewOptions(flags, other, token, d)...)
		if err != nil {
			require.Nil(t, p, "%s: New returned a Provider with its error %v", name, err)
			require.True(t, errors.Is(err, providers.ErrInvalidOption) || errors.Is(err, providers.ErrUnknownProvider) ||
				errors.Is(err, verify.ErrEmptySecret) || errors.Is(err, verify.ErrInvalidSecret),
				"%s: error %q wraps none of the documented configuration errors", name, err)
			msg := err.Error()
			require.False(t, leaks(msg, secret, func() error {
				_, err := providers.New(name, strings.Repeat("#", len(secret)), fuzzNewOptions(flags, other, token, d)...)
				return err
			}), "%s: error %q echoes the secret", name, msg)
			if flags&optSecond != 0 {
				require.False(t, leaks(msg, other, func() error {
					_, err := providers.New(name, secret, fuzzNewOptions(flags, strings.Repeat("#", len(other)), token, d)...)
					return err
				}), "%s: error %q echoes WithSecret's secret", name, msg)
			}
			return
		}
		require.NotNil(t, p, "New(%q) without an error", name)
		require.Equal(t, name, p.Name(), "New(%q) = %v without an error", name, p)
		require.Equal(t, name, p.Info().Name, "New(%q) = %v without an error", name, p)
		if secret == "" {
			require.True(t, flags&(optKeySource|optNilSource) == optKeySource, "%s: an empty secret was accepted (A2: anyone could sign)", name)
		}
		body := []byte(`{"id":"evt_fuzz","event_id":"evt_fuzz","type":"t"}`)
		ct := ""
		if name == "twilio" {
			body, ct = []byte("MessageSid=SMfuzz&Body=x"), "application/x-www-form-urlencoded"
		}
		at := time.Unix(1700000000, 0)
		o := providers.Outgoing{Body: body, ID: "evt_fuzz", Type: "t", Timestamp: at, URL: "https://example.com/hook", ContentType: ct}
		var h http.Header
		body, h, err = p.SignBody(o)
		if errors.Is(err, providers.ErrCannotSign) {
			return // a verifier holding only a public key
		}
		require.NoError(t, err, "%s: Sign", name)
		dl, err := p.Verify(verify.Request{Method: http.MethodPost, URL: o.URL, Header: h, Body: body}, at)
		require.NoError(t, err, "%s: its own signature does not verify", name)
		want := 0
		if flags&optInsecure != 0 {
			want = -1
		}
		require.Equal(t, name, dl.Provider, "%s: verified as provider", name)
		require.Equal(t, want, dl.SecretIndex, "%s: verified with secret", name)
	})
}
