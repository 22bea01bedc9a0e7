package hookguard_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
)

// TestContentEncodingRejected is plan test 15's default (RELIABILITY.md
// R3, A15): a body with a Content-Encoding other than identity is
// answered 415 before a byte of it is read, so nothing is decompressed,
// verified, recorded or enqueued; identity and no header at all pass. The
// Middleware answers the same.
func TestContentEncodingRejected(t *testing.T) {
	p := newProvider(t, "github")
	tests := []struct {
		name     string
		encoding []string // nil: no header
		want     int
	}{
		{"none", nil, http.StatusOK},
		{"identity", []string{"identity"}, http.StatusOK},
		{"Identity, with spaces", []string{" Identity "}, http.StatusOK},
		{"empty value", []string{""}, http.StatusOK},
		{"gzip", []string{"gzip"}, http.StatusUnsupportedMediaType},
		{"GZIP", []string{"GZIP"}, http.StatusUnsupportedMediaType},
		{"br", []string{"br"}, http.StatusUnsupportedMediaType},
		{"identity, then gzip", []string{"identity, gzip"}, http.StatusUnsupportedMediaType},
		{"two header lines", []string{"identity", "deflate"}, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sign(t, p, "delivery-"+tt.name, eventBody("evt-"+tt.name))
			var rejected []error
			hooks := hookguard.Hooks{OnRejected: func(_ string, _ int, err error) { rejected = append(rejected, err) }}
			q := &countingQueue{inner: testkit.NewMemoryQueue(t, testkit.NewCounter())}
			defer q.inner.Shutdown(context.Background())
			recv, err := hookguard.New(p, nil, hookguard.WithQueue(q), hookguard.WithClock(clock), hookguard.WithHooks(hooks))
			if err != nil {
				t.Fatal(err)
			}
			next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
			mw := testkit.Middleware(t, p, hookguard.WithClock(clock))(next)
			for _, h := range []struct {
				name string
				h    http.Handler
			}{{"receiver", recv}, {"middleware", mw}} {
				r := d.request()
				if tt.encoding != nil {
					r.Header["Content-Encoding"] = tt.encoding
				}
				body := &countingReader{r: bytes.NewReader(d.body)}
				r.Body = io.NopCloser(body)
				w := testkit.Serve(h.h, r)
				if w.Code != tt.want {
					t.Fatalf("%s: %d %q, want %d", h.name, w.Code, w.Body, tt.want)
				}
				if tt.want == http.StatusUnsupportedMediaType {
					if body.n != 0 {
						t.Errorf("%s read %d bytes of a body it refused; want 0", h.name, body.n)
					}
					if got := w.Body.String(); got != hookguard.ErrUnsupportedEncoding.Error()+"\n" {
						t.Errorf("%s answered %q, want the ErrUnsupportedEncoding text", h.name, got)
					}
				}
			}
			wantEnqueued := int64(1)
			if tt.want != http.StatusOK {
				wantEnqueued = 0
				if len(rejected) != 1 || !errors.Is(rejected[0], hookguard.ErrUnsupportedEncoding) {
					t.Errorf("OnRejected got %v, want one ErrUnsupportedEncoding", rejected)
				}
			}
			if got := q.n.Load(); got != wantEnqueued {
				t.Errorf("%d events enqueued, want %d", got, wantEnqueued)
			}
		})
	}
}
