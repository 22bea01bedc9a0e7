package hookguard_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// The tests in this file pin the documented defaults of a Receiver built
// without the option that would change them.

// TestDefaultMaxBodySize checks that a Receiver given no WithMaxBodySize
// takes a signed body of exactly 1 MiB and answers 413 to one byte more,
// whether the request announces its length or not.
func TestDefaultMaxBodySize(t *testing.T) {
	require.Equal(t, 1<<20, hookguard.DefaultMaxBodySize, "DefaultMaxBodySize, want 1 MiB")
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
			require.Equal(t, tt.want, w.Code, "%d-byte body: status (%s)", tt.size, w.Body)
			wantHandled := 0
			if tt.want == http.StatusOK {
				wantHandled = 1
			}
			require.Equal(t, wantHandled, rec.Times(id), "handled")
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
	require.Equal(t, 72*time.Hour, hookguard.DefaultDedupeTTL, "DefaultDedupeTTL")
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
			require.NoError(t, err, "New")
			const id = "msg_ttl"
			body := eventBody(id)
			for _, s := range steps {
				now := t0.Add(s.after)
				clk.Set(now)
				h, err := p.Sign(providers.Outgoing{Body: body, ID: id, Type: "push", Timestamp: now})
				require.NoError(t, err, "Sign")
				w := testkit.Serve(r, testkit.NewPost("/webhooks/x", body, h))
				require.Equal(t, http.StatusOK, w.Code, "copy at +%v: body %q", s.after, w.Body)
				require.Equal(t, s.dup, w.Header().Get(hookguard.DuplicateHeader) == "true", "copy at +%v: duplicate", s.after)
			}
			shutdown(t, r)
			require.Equal(t, 2, rec.Times(id), "handled (the first copy and the one after the TTL)")
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
	require.Equal(t, http.StatusOK, w.Code, "body %q", w.Body)
	require.Error(t, req.Context().Err(), "the request's context was not cancelled; the test proves nothing")
	select {
	case err := <-seen:
		require.NoError(t, err, "handler's ctx.Err() after the request's context was cancelled")
	case <-time.After(5 * time.Second):
		require.Fail(t, "the handler did not run within 5s")
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
				require.Equal(t, want, w.Code, "request %d: status (%s)", i+1, w.Body)
				wantRead := len(d.body)
				if want == http.StatusTooManyRequests {
					wantRead = 0
				}
				require.Equal(t, wantRead, body.n, "request %d (status %d): body bytes read", i+1, w.Code)
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
	require.Equal(t, http.StatusOK, w.Code, "want 200 through the local fallback; body %q", w.Body)
	require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "want 200 through the local fallback, not a duplicate")
	require.Equal(t, 1, rec.Times("evt_down"), "handled")
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
		assert.ErrorIs(t, logged, testkit.ErrStoreDown, "store failure record's error")
	}
	if !found {
		var msgs []string
		for _, lr := range logs.all() {
			msgs = append(msgs, lr.Level.String()+" "+lr.Message)
		}
		require.Failf(t, "no WARN record", "want %q; records: %q", "hookguard: dedupe store failed", msgs)
	}
}
