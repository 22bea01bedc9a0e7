package providers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// Fuzz tests for the parsers of the asymmetric and handshake presets. Run
// one with, for example:
//
//	go test -run='^$' -fuzz='^FuzzVerifyAsymmetric$' -fuzztime=20s ./providers

// fuzzAsymPresets builds every asymmetric preset once, with a verify
// token for the Meta ones.
func fuzzAsymPresets(f *testing.F) []Provider {
	var ps []Provider
	for _, a := range asymPresets() {
		secret, err := testSecret(a.name)
		require.NoError(f, err)
		var opts []Option
		switch a.name {
		case "meta", "whatsapp", "instagram":
			opts = append(opts, WithVerifyToken("fuzz-token"))
		}
		p, err := New(a.name, secret, opts...)
		require.NoError(f, err)
		ps = append(ps, p)
	}
	return ps
}

func FuzzVerifyAsymmetric(f *testing.F) {
	ps := fuzzAsymPresets(f)
	// genuine holds the seeds that carry a real signature: only those may
	// verify.
	genuine := map[string]bool{}
	key := func(i int, method, rawURL, sig, ts, body string) string {
		return strings.Join([]string{strconv.Itoa(i), method, rawURL, sig, ts, body}, "\x00")
	}
	for i, a := range asymPresets() {
		p := ps[i]
		h, err := p.Sign(a.outgoing())
		require.NoError(f, err)
		ts := h.Get(discordTimestampHeader) + h.Get(zoomTimestampHeader) + h.Get(hubspotTimestampHeader) + h.Get(twitchTimestampHeader) + h.Get(sendgridTimestampHeader)
		f.Add(uint8(i), http.MethodPost, asymURL, h.Get(a.sigH), ts, a.body)
		genuine[key(i, http.MethodPost, asymURL, h.Get(a.sigH), ts, a.body)] = true
	}
	f.Add(uint8(3), http.MethodGet, "https://h/x?hub.mode=subscribe&hub.challenge=1&hub.verify_token=fuzz-token", "", "", "")
	f.Add(uint8(1), http.MethodGet, "https://h/x?challenge=%00%ff", "", "", "")
	f.Add(uint8(5), http.MethodGet, "https://h/x", "", "", "")
	f.Add(uint8(9), http.MethodPost, "https://h/x?a=1&a=1&bodySHA256=zz", "AAAA", "", "a=1&a=2&%zz")
	f.Add(uint8(10), http.MethodPost, "https://h/x", "sha256=00", "2023-11-14T22:13:20.999999999999Z", `{"challenge":"x"}`)
	f.Add(uint8(6), http.MethodPost, "https://h/x", "e30.e30.AA", "", `{}`)
	f.Fuzz(func(t *testing.T, which uint8, method, rawURL, sig, ts, body string) {
		i := int(which) % len(ps)
		a, p := asymPresets()[i], ps[i]
		h := http.Header{}
		h.Set(a.sigH, sig)
		for _, k := range []string{discordTimestampHeader, zoomTimestampHeader, hubspotTimestampHeader, twitchTimestampHeader, sendgridTimestampHeader, oktaChallengeHeader} {
			h.Set(k, ts)
		}
		h.Set(twitchIDHeader, "id")
		h.Set(twitchTypeHeader, "webhook_callback_verification")
		h.Set("Content-Type", a.ctype)
		req := verify.Request{Method: method, URL: rawURL, Header: h, Body: []byte(body)}
		d, err := p.Verify(req, t0)
		if err != nil {
			require.NotZero(t, verify.StatusCode(err), "%s: error of no known kind: %v", a.name, err)
			return
		}
		// Nothing but an unsigned GET handshake can pass with a fuzzed
		// signature: the keys are random.
		if genuine[key(i, method, rawURL, sig, ts, body)] {
			return
		}
		require.Equal(t, http.MethodGet, method, "%s: forged %s request verified: %+v", a.name, method, d)
		require.NotNil(t, d.Reply, "%s: a GET verified without a handshake answer", a.name)
		require.LessOrEqual(t, len(d.Reply.Body), maxChallenge+64, "%s: handshake answer bytes", a.name)
	})
}

func FuzzDERSignatureHeader(f *testing.F) {
	for _, s := range []string{
		"MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=",
		"", "MA==", "MEUCIQ", strings.Repeat("A", 200), "MEUC IQ==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		der, ok := decodeDERSignature(s)
		if ok {
			require.LessOrEqual(t, len(der), keys.MaxDERSignatureSize, "accepted %x", der)
			require.Equal(t, byte(0x30), der[0], "accepted %x", der)
		}
	})
}

func FuzzTwitchTimestamp(f *testing.F) {
	for _, s := range []string{"2023-11-14T22:13:20.634234626Z", "2023-11-14T22:13:20Z", "1700000000", "", "2023-11-14T22:13:20.634234626+25:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, ok := parseTwitchTime(s)
		if ok {
			require.LessOrEqual(t, len(s), maxTwitchTimestamp, "accepted %d bytes", len(s))
		}
		if ok && ts.IsZero() {
			require.True(t, strings.HasPrefix(s, "0001"), "zero time from %q", s)
		}
	})
}

func FuzzTwilioCanonical(f *testing.F) {
	for _, s := range []string{
		"Digits=1234&CallSid=CA1234567890ABCDE&To=%2B18005551212",
		"a=2&a=1&a=2", "", "=&=", "%zz", "b=1&a=2",
	} {
		f.Add(s, "https://mycompany.com:8443/myapp.php?foo=1")
	}
	f.Fuzz(func(t *testing.T, form, rawURL string) {
		vs := urlVariants(rawURL)
		require.NotEmpty(t, vs, "variants of %q", rawURL)
		require.Equal(t, rawURL, vs[0], "variants of %q: %q", rawURL, vs)
		require.LessOrEqual(t, len(vs), 2, "variants of %q: %q", rawURL, vs)
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		a := twilioParams(v)
		// Parameter order in the body must not matter.
		shuffled := url.Values{}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		for i := len(keys) - 1; i >= 0; i-- {
			vals := v[keys[i]]
			for j := len(vals) - 1; j >= 0; j-- {
				shuffled.Add(keys[i], vals[j])
			}
		}
		b := twilioParams(shuffled)
		require.Equal(t, string(a), string(b), "order changes the signed parameters")
	})
}
