package hookguard_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/providers"
)

// benchWriter is a minimal ResponseWriter, so the benchmark measures the
// handler rather than a recorder.
type benchWriter struct {
	h      http.Header
	status int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.status = 0
}

// benchBatch is how many distinct deliveries are signed ahead of the timer.
const benchBatch = 1 << 14

// signedBatch signs n distinct 1 KiB Stripe deliveries and builds their
// requests, with bodies that can be rewound.
func signedBatch(b *testing.B, p providers.Provider, n int) ([]*http.Request, []*bytes.Reader) {
	b.Helper()
	reqs := make([]*http.Request, n)
	bodies := make([]*bytes.Reader, n)
	pad := strings.Repeat("x", 1024)
	for i := range n {
		id := fmt.Sprintf("evt_%08d", i)
		// Shaped as Stripe sends events: "id" first, the data object, and
		// "type" last (see the Event object in Stripe's API reference,
		// https://docs.stripe.com/api/events/object), so that the preset
		// finds the type at the end as it does in production.
		body := fmt.Appendf(nil, `{"id":%q,"object":"event","data":{"object":{"pad":%q}},"type":"charge.succeeded"}`, id, pad[:1024-len(id)-81])
		d := sign(b, p, id, body)
		bodies[i] = bytes.NewReader(d.body)
		r, _ := http.NewRequest(http.MethodPost, "https://hooks.example.com/webhooks/stripe", bodies[i])
		r.Header = d.header
		r.RemoteAddr = "192.0.2.1:1234"
		r.RequestURI = "/webhooks/stripe"
		reqs[i] = r
	}
	return reqs, bodies
}

// BenchmarkServeHTTP compares a bare handler that only reads the body and
// answers 200 with a Receiver that verifies a 1 KiB Stripe delivery,
// dedupes it in memory and enqueues it into a MemoryQueue whose handler
// does nothing. Every iteration sends a new event.
func BenchmarkServeHTTP(b *testing.B) {
	p, err := providers.NewStripe("whsec_bench")
	if err != nil {
		b.Fatal(err)
	}
	reqs, bodies := signedBatch(b, p, benchBatch)

	// serve sends the batch's deliveries to h in turn; with skew set, each
	// new pass over the batch moves the clock past ttl, so that it finds
	// every ID expired (a warm store replacing records) rather than seen.
	serve := func(b *testing.B, h http.Handler, skew *atomic.Int64, ttl time.Duration) {
		w := &benchWriter{h: http.Header{}}
		b.ReportAllocs()
		b.SetBytes(1024)
		for i := 0; b.Loop(); i++ {
			k := i % benchBatch
			if k == 0 && i > 0 && skew != nil {
				skew.Add(int64(2 * ttl))
			}
			bodies[k].Seek(0, io.SeekStart)
			w.reset()
			h.ServeHTTP(w, reqs[k])
			if w.status != http.StatusOK || w.h.Get(hookguard.DuplicateHeader) != "" {
				b.Fatalf("status %d dup %q", w.status, w.h.Get(hookguard.DuplicateHeader))
			}
		}
	}

	b.Run("bare", func(b *testing.B) {
		serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusOK)
		}), nil, 0)
	})

	b.Run("hookguard", func(b *testing.B) {
		noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
		// One receiver for the whole run, as a service has: after each
		// pass over the batch its clock moves past the dedupe TTL, so
		// that the next pass finds every ID expired. Starting a fresh
		// receiver per pass timed an empty store growing instead.
		const ttl = 10 * time.Millisecond
		var skew atomic.Int64
		now := func() time.Time { return clock().Add(time.Duration(skew.Load())) }
		recv, err := hookguard.New(p, noop, hookguard.WithClock(now), hookguard.WithDedupeTTL(ttl),
			hookguard.WithCapacity(benchBatch))
		if err != nil {
			b.Fatal(err)
		}
		serve(b, recv, &skew, ttl)
		b.StopTimer()
		_ = recv.Shutdown(context.Background())
	})

	// The middleware runs the same pipeline up to the dedupe reservation
	// but calls a handler that answers 200 in place of enqueueing: the
	// difference to "hookguard" is what the queue costs.
	b.Run("middleware", func(b *testing.B) {
		const ttl = 10 * time.Millisecond
		var skew atomic.Int64
		now := func() time.Time { return clock().Add(time.Duration(skew.Load())) }
		mw := testkit.Middleware(b, p, hookguard.WithClock(now), hookguard.WithDedupeTTL(ttl),
			hookguard.WithStore(testkit.NewMemory(b, dedupe.WithClock(now))))
		serve(b, mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })), &skew, ttl)
	})
}
