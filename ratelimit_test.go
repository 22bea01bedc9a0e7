package hookguard

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestClientIP(t *testing.T) {
	ps, err := parseProxies([]string{"10.0.0.0/8", "192.168.1.1", "2001:db8::/32"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		remote  string
		xff     []string
		proxies proxies
		want    string
	}{
		{"no proxies: peer", "203.0.113.7:5555", []string{"1.2.3.4"}, nil, "203.0.113.7"},
		{"untrusted peer: XFF ignored", "203.0.113.7:5555", []string{"1.2.3.4"}, ps, "203.0.113.7"},
		{"trusted peer: right-most untrusted", "10.0.0.1:80", []string{"6.6.6.6, 1.2.3.4, 10.0.0.2"}, ps, "1.2.3.4"},
		// The client controls everything left of the first untrusted hop.
		{"spoofed left entries ignored", "10.0.0.1:80", []string{"9.9.9.9", "1.2.3.4"}, ps, "1.2.3.4"},
		{"several headers", "10.0.0.1:80", []string{"5.5.5.5", "192.168.1.1"}, ps, "5.5.5.5"},
		{"all trusted: left-most", "10.0.0.1:80", []string{"10.1.1.1, 10.2.2.2"}, ps, "10.1.1.1"},
		// Fail closed: garbage does not pick a bucket.
		{"garbage stops at last trusted hop", "10.0.0.1:80", []string{"1.2.3.4, garbage, 10.0.0.9"}, ps, "10.0.0.9"},
		{"no XFF", "10.0.0.1:80", nil, ps, "10.0.0.1"},
		{"IPv6 peer", "[2001:db8::1]:443", []string{"2a00:1450::1"}, ps, "2a00:1450::1"},
		{"mapped IPv4", "[::ffff:10.0.0.1]:80", []string{"1.2.3.4"}, ps, "1.2.3.4"},
		{"bad remote", "nonsense", []string{"1.2.3.4"}, ps, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, clientIP(r, tt.proxies).String(), "clientIP(%q, %q)", tt.remote, tt.xff)
		})
	}
}

func TestParseProxiesErrors(t *testing.T) {
	for _, give := range []string{"", "10.0.0.0/99", "not-an-ip", "1.2.3.4/"} {
		_, err := parseProxies([]string{give})
		assert.ErrorIs(t, err, ErrInvalidOption, "parseProxies(%q)", give)
	}
}

func TestPerIPLimiter(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := newIPLimiter(1, 2, 3)
	a := netip.MustParseAddr("1.1.1.1")
	for i := range 2 {
		require.Zero(t, l.allow(a, now), "request %d within burst: wait", i)
	}
	require.Equal(t, time.Second, l.allow(a, now), "over burst: wait")
	// A refused request takes no token: after a second one is available.
	require.Zero(t, l.allow(a, now.Add(time.Second)), "after refill: wait")
	require.Zero(t, l.allow(netip.MustParseAddr("2.2.2.2"), now), "another client shares the bucket")
	// IPv6 addresses in one /64 share a bucket.
	v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	l.allow(v6a, now)
	l.allow(v6b, now)
	require.NotZero(t, l.allow(v6a, now), "one /64 escaped its limit by rotating addresses")
	// The table is bounded.
	for i := range 100 {
		l.allow(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), now)
	}
	require.Equal(t, 3, l.len(), "clients tracked, want the bound")
}

func TestGlobalLimiter(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := limiter{global: rate.NewLimiter(2, 1)}
	require.Zero(t, l.allow(netip.Addr{}, now), "first request refused")
	require.Equal(t, 500*time.Millisecond, l.allow(netip.Addr{}, now), "wait")
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		cl      int64
		limit   int64
		want    string
		wantErr error
	}{
		{"known length", "hello", 5, 10, "hello", nil},
		{"unknown length", "hello", -1, 10, "hello", nil},
		{"exactly the limit, unknown length", "0123456789", -1, 10, "0123456789", nil},
		{"one over the limit, unknown length", "0123456789a", -1, 10, "", ErrBodyTooLarge},
		{"announced over the limit", "0123456789a", 11, 10, "", ErrBodyTooLarge},
		{"shorter than announced", "abc", 5, 10, "", ErrBodyRead},
		{"empty", "", 0, 10, "", nil},
		{"large unknown", strings.Repeat("x", 10000), -1, 20000, strings.Repeat("x", 10000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Body = io.NopCloser(strings.NewReader(tt.body))
			r.ContentLength = tt.cl
			got, err := readBody(r, tt.limit)
			require.ErrorIs(t, err, tt.wantErr, "readBody() error") // a nil wantErr wants no error
			if err == nil {
				require.Equal(t, tt.want, string(got), "readBody()")
			}
		})
	}
}

// FuzzClientIP checks that no X-Forwarded-For value panics the parser and
// that the address chosen is either the peer or one that appears in the
// header, and never a trusted proxy unless every hop is trusted.
//
//	go test -run '^$' -fuzz '^FuzzClientIP$' -fuzztime 20s .
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2")
	f.Add("10.0.0.1:80", " , ,,")
	f.Add("[::1]:1", "::ffff:1.2.3.4,fe80::1%eth0")
	f.Add("10.0.0.1:80", strings.Repeat("1.1.1.1,", 50))
	ps, _ := parseProxies([]string{"10.0.0.0/8", "::1/128"})
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := clientIP(r, ps)
		peer := remoteAddr(remote)
		if got == peer {
			return
		}
		require.True(t, peer.IsValid() && ps.trusted(peer), "XFF used although peer %v is not a trusted proxy", peer)
		if !strings.Contains(xff, got.WithZone("").String()) && !strings.Contains(xff, got.String()) {
			// ParseAddr normalises (mapped, zero-padded forms); accept any
			// form that parses back to the same address.
			found := false
			for _, part := range strings.Split(xff, ",") {
				if a, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil && a.Unmap() == got {
					found = true
				}
			}
			require.True(t, found, "clientIP = %v, not in %q", got, xff)
		}
	})
}

// FuzzReadBody checks the limit holds for any body and Content-Length.
//
//	go test -run '^$' -fuzz '^FuzzReadBody$' -fuzztime 20s .
func FuzzReadBody(f *testing.F) {
	f.Add([]byte("hello"), int64(5), int64(10))
	f.Add([]byte("hello world"), int64(-1), int64(4))
	f.Add([]byte{}, int64(0), int64(1))
	f.Fuzz(func(t *testing.T, body []byte, cl, limit int64) {
		if limit < 1 || limit > 1<<16 {
			return
		}
		if cl < -1 {
			cl = -1
		}
		cr := &countReader{r: bytes.NewReader(body)}
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Body = io.NopCloser(cr)
		r.ContentLength = cl
		got, err := readBody(r, limit)
		require.LessOrEqual(t, cr.n, limit+1, "bytes read, limit %d", limit)
		if err != nil {
			return
		}
		require.LessOrEqual(t, int64(len(got)), limit, "bytes returned")
		require.True(t, bytes.HasPrefix(body, got), "returned bytes are not the body's")
		if cl < 0 {
			require.Equal(t, body, got, "unknown length: got %d bytes of %d", len(got), len(body))
		}
	})
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestSecretHeader(t *testing.T) {
	for _, k := range []string{"X-Hub-Signature", "X-Hub-Signature-256", "Stripe-Signature", "webhook-signature",
		"X-Shopify-Hmac-Sha256", "Authorization", "cookie", "X-Signature-Ed25519", "X-Twilio-Signature", "SVIX-SIGNATURE"} {
		assert.True(t, secretHeader(k), "secretHeader(%q)", k)
	}
	for _, k := range []string{"Content-Type", "X-GitHub-Delivery", "Webhook-Id", "X-Slack-Request-Timestamp"} {
		assert.False(t, secretHeader(k), "secretHeader(%q)", k)
	}
}
