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
		if b != wb || a != wa {
			t.Fatalf("cutSpace(%q) = %q, %q; want %q, %q", s, b, a, wb, wa)
		}
		b, a = cut(s, ',')
		if i := strings.IndexByte(s, ','); (i < 0 && (b != s || a != "")) || (i >= 0 && (b != s[:i] || a != s[i+1:])) {
			t.Fatalf("cut(%q, ',') = %q, %q", s, b, a)
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
			if gok != wok || got.Len() != want.Len() || (gok && !bytes.Equal(got.At(0), want.At(0))) {
				t.Fatalf("addSig(%v, %q, %d) = %v, %x; decoding first gives %v, %x", enc, s, size, gok, got, wok, want)
			}
		}
	})
}

func TestInternType(t *testing.T) {
	a := internType([]byte("invoice.paid"))
	b := internType([]byte("invoice.paid"))
	if a != "invoice.paid" || b != a {
		t.Fatalf("internType = %q, %q", a, b)
	}
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("a type seen twice was allocated twice")
	}
	if got := internType(nil); got != "" {
		t.Errorf("internType(nil) = %q", got)
	}
	long := strings.Repeat("x", maxInternedType+1)
	if got := internType([]byte(long)); got != long {
		t.Errorf("long type = %q", got)
	}
	// Many distinct types: each comes back equal, and the table stays
	// its fixed size (it is an array).
	for i := range 4 * len(typeCache) {
		typ := fmt.Sprintf("type.%d", i)
		if got := internType([]byte(typ)); got != typ {
			t.Fatalf("internType(%q) = %q", typ, got)
		}
	}
	if !raceEnabled {
		buf := []byte("customer.created")
		internType(buf)
		if allocs := testing.AllocsPerRun(100, func() { internType(buf) }); allocs != 0 {
			t.Errorf("a known type allocates %v times, want 0", allocs)
		}
	}
	// Writers and readers at once, under -race: every result is right.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				typ := fmt.Sprintf("t%d", (i+g)%37)
				if got := internType([]byte(typ)); got != typ {
					t.Errorf("concurrent internType(%q) = %q", typ, got)
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
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != tc.wantID || d.Type != "invoice.paid" {
				t.Fatalf("ID, Type = %q, %q; want %q, invoice.paid", d.ID, d.Type, tc.wantID)
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := p.Verify(req, t0); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > tc.allocs {
				t.Errorf("Verify allocates %v times, want at most %v", allocs, tc.allocs)
			}
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
	if err != nil || d.ID != "msg_2" || d.Type != "a.b" {
		t.Fatalf("webhook-* fallback: %+v, %v", d, err)
	}
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
		if in && err != nil {
			t.Fatalf("within(%v, %v, %+v) accepts what Window.Check rejects: %v", ts, now, w, err)
		}
		if d := now.Unix() - ts.Unix(); !in && err == nil && d > -1<<31 && d < 1<<31 {
			t.Fatalf("within(%v, %v, %+v) rejects what Window.Check accepts", ts, now, w)
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
		if got := tm.within(ts, now); got != tc.want {
			t.Errorf("within(now%+v) = %v, want %v", ts.Sub(now), got, tc.want)
		}
		if got := tm.window.Check(ts, now) == nil; got != tc.want {
			t.Errorf("Window.Check(now%+v) accepts: %v, want %v", ts.Sub(now), got, tc.want)
		}
	}
	if def := newTiming(&config{}); def.past != verify.DefaultTolerance || def.future != verify.DefaultTolerance {
		t.Errorf("default window %v, %v; want DefaultTolerance both ways", def.past, def.future)
	}
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
