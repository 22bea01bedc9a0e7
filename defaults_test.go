package hookguard_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/providers"
)

// The tests in this file pin the documented defaults of a Receiver built
// without the option that would change them.

// TestDefaultMaxBodySize checks that a Receiver given no WithMaxBodySize
// takes a signed body of exactly 1 MiB and answers 413 to one byte more,
// whether the request announces its length or not.
func TestDefaultMaxBodySize(t *testing.T) {
	if hookguard.DefaultMaxBodySize != 1<<20 {
		t.Fatalf("DefaultMaxBodySize = %d, want %d (1 MiB)", hookguard.DefaultMaxBodySize, 1<<20)
	}
	p := newProvider(t, "github")
	tests := []struct {
		name    string
		size    int
		chunked bool // no Content-Length: the body is read up to the limit
		want    int
	}{
		{"at the limit", 1 << 20, false, http.StatusOK},
		{"one byte over", 1<<20 + 1, false, http.StatusRequestEntityTooLarge},
		{"at the limit, unknown length", 1 << 20, true, http.StatusOK},
		{"one byte over, unknown length", 1<<20 + 1, true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testkit.NewCounter()
			r := mustNew(t, p, rec)
			id := "body-" + strings.ReplaceAll(tt.name, " ", "-")
			d := sign(t, p, id, bytes.Repeat([]byte("a"), tt.size))
			req := d.request()
			if tt.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(bytes.NewReader(d.body))
			}
			w := testkit.Serve(r, req)
			shutdown(t, r)
			if w.Code != tt.want {
				t.Fatalf("%d-byte body: status %d, want %d (%s)", tt.size, w.Code, tt.want, w.Body)
			}
			wantHandled := 0
			if tt.want == http.StatusOK {
				wantHandled = 1
			}
			if got := rec.Times(id); got != wantHandled {
				t.Fatalf("handled %d times, want %d", got, wantHandled)
			}
		})
	}
}

// TestDefaultDedupeTTL checks that a Receiver given no WithDedupeTTL
// remembers an accepted delivery for 72 h: a copy just before that is a
// duplicate, a copy just after it is a new delivery. GitHub signs no
// timestamp, so the very same request is re-sent; Standard Webhooks signs
// one, so each copy is signed again at the current time with the same
// webhook-id, as a sender's retry is.
func TestDefaultDedupeTTL(t *testing.T) {
	if hookguard.DefaultDedupeTTL != 72*time.Hour {
		t.Fatalf("DefaultDedupeTTL = %v, want 72h", hookguard.DefaultDedupeTTL)
	}
	steps := []struct {
		after time.Duration
		dup   bool
	}{
		{0, false},
		{71*time.Hour + 59*time.Minute, true},
		{72*time.Hour + time.Second, false},
	}
	for _, name := range []string{"github", "standardwebhooks"} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, name)
			clk := testkit.NewClock(t0)
			rec := testkit.NewCounter()
			r, err := hookguard.New(p, rec, hookguard.WithClock(clk.Now))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			const id = "msg_ttl"
			body := eventBody(id)
			for _, s := range steps {
				now := t0.Add(s.after)
				clk.Set(now)
				h, err := p.Sign(providers.Outgoing{Body: body, ID: id, Type: "push", Timestamp: now})
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				w := testkit.Serve(r, testkit.NewPost("/webhooks/x", body, h))
				if w.Code != http.StatusOK {
					t.Fatalf("copy at +%v: status %d (%s), want 200", s.after, w.Code, w.Body)
				}
				if got, want := w.Header().Get(hookguard.DuplicateHeader) == "true", s.dup; got != want {
					t.Fatalf("copy at +%v: duplicate = %v, want %v", s.after, got, want)
				}
			}
			shutdown(t, r)
			if got := rec.Times(id); got != 2 {
				t.Fatalf("handled %d times, want 2 (the first copy and the one after the TTL)", got)
			}
		})
	}
}

// TestHandlerContextOutlivesRequest checks that the handler, run later by
// the queue, does not get the request's context: the request's context is
// cancelled once the answer is written, and the handler must still see a
// live context.
func TestHandlerContextOutlivesRequest(t *testing.T) {
	p := newProvider(t, "stripe")
	release := make(chan struct{})
	seen := make(chan error, 1)
	r := mustNew(t, p, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		<-release
		seen <- ctx.Err()
		return nil
	}))
	d := sign(t, p, "evt_ctx", eventBody("evt_ctx"))
	ctx, cancel := context.WithCancel(context.Background())
	req := d.request().WithContext(ctx)
	w := testkit.Serve(r, req)
	cancel()
	close(release)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", w.Code, w.Body)
	}
	if req.Context().Err() == nil {
		t.Fatal("the request's context was not cancelled; the test proves nothing")
	}
	select {
	case err := <-seen:
		if err != nil {
			t.Fatalf("handler's ctx.Err() = %v after the request's context was cancelled, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not run within 5s")
	}
	shutdown(t, r)
}

// TestRateLimitedRequestReadsNoBody checks that a request refused with 429
// by a rate limit is refused before any byte of its body is read.
func TestRateLimitedRequestReadsNoBody(t *testing.T) {
	p := newProvider(t, "stripe")
	tests := []struct {
		name string
		opt  hookguard.Option
	}{
		{"global", hookguard.WithRateLimit(rate.Every(time.Hour), 1)},
		{"per IP", hookguard.WithPerIPRateLimit(rate.Every(time.Hour), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, p, testkit.NewCounter(), tt.opt)
			defer shutdown(t, r)
			for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
				id := []string{"evt_rl_1", "evt_rl_2"}[i]
				d := sign(t, p, id, eventBody(id))
				req := d.request()
				body := &countingReader{r: bytes.NewReader(d.body)}
				req.Body = io.NopCloser(body)
				w := testkit.Serve(r, req)
				if w.Code != want {
					t.Fatalf("request %d: status %d (%s), want %d", i+1, w.Code, w.Body, want)
				}
				wantRead := len(d.body)
				if want == http.StatusTooManyRequests {
					wantRead = 0
				}
				if body.n != wantRead {
					t.Fatalf("request %d (status %d): read %d body bytes, want %d", i+1, w.Code, body.n, wantRead)
				}
			}
		})
	}
}

// recordingHandler is a slog.Handler that keeps every record, for tests
// that look at levels and messages. It is safe for concurrent use.
type recordingHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{mu: new(sync.Mutex), records: new([]slog.Record)}
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, r.Clone())
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

func (h *recordingHandler) all() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), *h.records...)
}

// TestStoreFailureLogsAndFailsOpen checks that, by default, a delivery
// that arrives while the dedupe store is down is accepted and a warning
// naming the failure is logged with the store's error.
func TestStoreFailureLogsAndFailsOpen(t *testing.T) {
	p := newProvider(t, "stripe")
	st := testkit.NewFlakyStore()
	st.Down.Store(true)
	logs := newRecordingHandler()
	rec := testkit.NewCounter()
	r := mustNew(t, p, rec, hookguard.WithStore(st), hookguard.WithLogger(slog.New(logs)))
	d := sign(t, p, "evt_down", eventBody("evt_down"))
	w := testkit.Serve(r, d.request())
	shutdown(t, r)
	if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
		t.Fatalf("status %d duplicate %q (%s), want 200 through the local fallback", w.Code, w.Header().Get(hookguard.DuplicateHeader), w.Body)
	}
	if got := rec.Times("evt_down"); got != 1 {
		t.Fatalf("handled %d times, want 1", got)
	}
	var found bool
	for _, lr := range logs.all() {
		if lr.Level != slog.LevelWarn || lr.Message != "hookguard: dedupe store failed" {
			continue
		}
		found = true
		var logged error
		lr.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && a.Key == "error" {
				logged = err
			}
			return true
		})
		if !errors.Is(logged, testkit.ErrStoreDown) {
			t.Errorf("store failure record has error %v, want %v", logged, testkit.ErrStoreDown)
		}
	}
	if !found {
		var msgs []string
		for _, lr := range logs.all() {
			msgs = append(msgs, lr.Level.String()+" "+lr.Message)
		}
		t.Fatalf("no WARN record %q; records: %q", "hookguard: dedupe store failed", msgs)
	}
}
