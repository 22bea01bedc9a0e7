package providers

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cutSpaceLoop is cutSpace as a byte loop: the reference the vectorised
// cutSpace must match.
func cutSpaceLoop(s string) (before, after string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			return s[:i], s[j:]
		}
	}
	return s, ""
}

// addSigDecode is addSig as decode-then-check-size: the reference the
// length check before decoding must match.
func addSigDecode(sigs *verify.Signatures, enc verify.Encoding, s string, size int) bool {
	var buf [verify.MaxSignatureSize]byte
	n, ok := enc.Decode(buf[:], s)
	if !ok || n != size {
		return false
	}
	return sigs.AddRaw(buf[:n])
}

func FuzzCutSpace(f *testing.F) {
	for _, s := range []string{"", "v1,abc", "v1,a v1,b", "v1,a\t \tv1,b", " lead", "trail \t", "a\tb c", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, a := cutSpace(s)
		wb, wa := cutSpaceLoop(s)
		require.Equal(t, wb, b, "cutSpace(%q): before", s)
		require.Equal(t, wa, a, "cutSpace(%q): after", s)
		b, a = cut(s, ',')
		if i := strings.IndexByte(s, ','); i < 0 {
			require.Equal(t, s, b, "cut(%q, ','): before", s)
			require.Empty(t, a, "cut(%q, ','): after", s)
		} else {
			require.Equal(t, s[:i], b, "cut(%q, ','): before", s)
			require.Equal(t, s[i+1:], a, "cut(%q, ','): after", s)
		}
	})
}

func FuzzAddSig(f *testing.F) {
	sum := bytes.Repeat([]byte{0xab}, 32)
	seeds := []string{
		string(verify.Hex.AppendEncode(nil, sum)),
		string(verify.Base64.AppendEncode(nil, sum)),
		strings.TrimRight(string(verify.Base64.AppendEncode(nil, sum)), "="),
		string(verify.Base64.AppendEncode(nil, sum)) + "=",
		string(verify.Base64.AppendEncode(nil, sum[:31])),
		string(verify.Base64.AppendEncode(nil, make([]byte, 64))),
		"", "=", "==", "abc", "zz",
	}
	for _, s := range seeds {
		f.Add(s, 32)
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, size int) {
		size = size & 127
		for _, enc := range []verify.Encoding{verify.Hex, verify.Base64} {
			var got, want verify.Signatures
			gok, wok := addSig(&got, enc, s, size), addSigDecode(&want, enc, s, size)
			require.Equal(t, wok, gok, "addSig(%v, %q, %d): accepted; decoding first gives %x, addSig %x", enc, s, size, want, got)
			require.Equal(t, want.Len(), got.Len(), "addSig(%v, %q, %d): signatures", enc, s, size)
			if gok {
				require.Equal(t, want.At(0), got.At(0), "addSig(%v, %q, %d): the signature", enc, s, size)
			}
		}
	})
}

func TestInternType(t *testing.T) {
	a := internType([]byte("invoice.paid"))
	b := internType([]byte("invoice.paid"))
	require.Equal(t, "invoice.paid", a, "internType")
	require.Equal(t, a, b, "internType, twice")
	assert.Same(t, unsafe.StringData(a), unsafe.StringData(b), "a type seen twice was allocated twice")
	assert.Empty(t, internType(nil), "internType(nil)")
	long := strings.Repeat("x", maxInternedType+1)
	assert.Equal(t, long, internType([]byte(long)), "long type")
	// Many distinct types: each comes back equal, and the table stays
	// its fixed size (it is an array).
	for i := range 4 * len(typeCache) {
		typ := fmt.Sprintf("type.%d", i)
		require.Equal(t, typ, internType([]byte(typ)), "internType(%q)", typ)
	}
	if !raceEnabled {
		buf := []byte("customer.created")
		internType(buf)
		allocs := testing.AllocsPerRun(100, func() { internType(buf) })
		assert.Zero(t, allocs, "allocations for a known type")
	}
	// Writers and readers at once, under -race: every result is right.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				typ := fmt.Sprintf("t%d", (i+g)%37)
				if got := internType([]byte(typ)); !assert.Equal(t, typ, got, "concurrent internType(%q)", typ) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDeliveryFieldAllocations pins what a verified delivery costs: one
// allocation for Stripe (the event ID; the type is interned), none for
// Standard Webhooks and Svix (the ID is a header, the type interned).
func TestDeliveryFieldAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation count: skipped in -short mode and under the race detector")
	}
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","data":{"object":{"type":"nested"}},"type":"invoice.paid"}`)
	for _, tc := range []struct {
		name, secret string
		allocs       float64
		wantID       string
	}{
		{"stripe", "whsec_test", 1, "evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{"standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0, "msg_1"},
		{"svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0, "msg_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustNew(t, tc.name, tc.secret)
			o := outgoing()
			o.Body, o.ID = body, "msg_1"
			req := signed(t, p, o)
			d, err := p.Verify(req, t0)
			require.NoError(t, err)
			require.Equal(t, tc.wantID, d.ID, "ID")
			require.Equal(t, "invoice.paid", d.Type, "Type")
			allocs := testing.AllocsPerRun(100, func() {
				_, err := p.Verify(req, t0)
				require.NoError(t, err)
			})
			assert.LessOrEqual(t, allocs, tc.allocs, "Verify allocations per call")
		})
	}
}

// TestSvixHeaderFallback checks that looking each header up once keeps
// the fallback to webhook-* headers when a svix-* header is missing.
func TestSvixHeaderFallback(t *testing.T) {
	p := mustNew(t, "svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	o := outgoing()
	o.Body, o.ID = []byte(`{"type":"a.b"}`), "msg_2"
	req := signed(t, p, o)
	moved := http.Header{}
	for k, v := range req.Header {
		if w, ok := strings.CutPrefix(k, "Svix-"); ok {
			k = "Webhook-" + w
		}
		moved[k] = v
	}
	// A svix-id alone (no svix-timestamp nor svix-signature) must not be
	// mixed with the webhook-* set.
	moved["Svix-Id"] = []string{"msg_other"}
	req.Header = moved
	d, err := p.Verify(req, t0)
	require.NoError(t, err, "webhook-* fallback")
	require.Equal(t, "msg_2", d.ID, "webhook-* fallback: ID")
	require.Equal(t, "a.b", d.Type, "webhook-* fallback: Type")
}

// FuzzWithin checks the integer fast path of checkTime against
// Window.Check: within accepts exactly what Window.Check accepts, for
// timestamps less than 2^32 s from now, with a monotonic now as
// time.Now() returns, and never accepts what Window.Check rejects.
func FuzzWithin(f *testing.F) {
	f.Add(int64(1700000000), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(1700000000), int64(0), int64(300e9), int64(300e9), int64(300e9))
	f.Add(int64(1700000000), int64(0), int64(-300e9-1), int64(300e9), int64(300e9))
	f.Add(int64(1700000000), int64(999999999), int64(300e9+1), int64(0), int64(-5))
	f.Add(int64(-1)<<62, int64(0), int64(1)<<62, int64(1), int64(1))
	f.Add(int64(1)<<40, int64(5), int64(0), int64(1)<<62, int64(1)<<62)
	base := time.Now()
	f.Fuzz(func(t *testing.T, sec, nsec, offset, past, future int64) {
		ts := time.Unix(sec, nsec%1e9) // parsed timestamps carry no monotonic reading
		now := base.Add(time.Duration(offset))
		w := verify.Window{Past: time.Duration(past), Future: time.Duration(future)}
		tm := newTiming(&config{window: w})
		in := tm.within(ts, now)
		err := w.Check(ts, now)
		if in {
			require.NoError(t, err, "within(%v, %v, %+v) accepts what Window.Check rejects", ts, now, w)
		}
		if d := now.Unix() - ts.Unix(); err == nil && d > -1<<31 && d < 1<<31 {
			require.True(t, in, "within(%v, %v, %+v) rejects what Window.Check accepts", ts, now, w)
		}
	})
}

func TestWithinBoundaries(t *testing.T) {
	now := time.Now() // monotonic, with nanoseconds
	tm := newTiming(&config{window: verify.Window{Past: time.Minute, Future: 30 * time.Second}})
	for _, tc := range []struct {
		ts   time.Time
		want bool
	}{
		{now.Add(-time.Minute), true},
		{now.Add(-time.Minute - time.Nanosecond), false},
		{now.Add(30 * time.Second), true},
		{now.Add(30*time.Second + time.Nanosecond), false},
		{now, true},
		{time.Unix(0, 0), false},
	} {
		ts := time.Unix(tc.ts.Unix(), int64(tc.ts.Nanosecond())) // strip the monotonic reading, as parsing does
		assert.Equal(t, tc.want, tm.within(ts, now), "within(now%+v)", ts.Sub(now))
		assert.Equal(t, tc.want, tm.window.Check(ts, now) == nil, "Window.Check(now%+v) accepts", ts.Sub(now))
	}
	def := newTiming(&config{})
	assert.Equal(t, verify.DefaultTolerance, def.past, "default window, past")
	assert.Equal(t, verify.DefaultTolerance, def.future, "default window, future")
}

// BenchmarkCheckTime compares checkTime (integer fast path) with
// Window.Check alone, on a timestamp inside the window.
func BenchmarkCheckTime(b *testing.B) {
	now := time.Now()
	ts := time.Unix(now.Unix()-10, 0)
	tm := newTiming(&config{})
	b.Run("checkTime", func(b *testing.B) {
		for b.Loop() {
			if tm.checkTime("x", "h", ts, now) != nil {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("Window.Check", func(b *testing.B) {
		for b.Loop() {
			if tm.window.Check(ts, now) != nil {
				b.Fatal("rejected")
			}
		}
	})
}
