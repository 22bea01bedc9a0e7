package hookguard_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			require.NoError(t, err)
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
				require.Equal(t, tt.want, w.Code, "%s: status (body %q)", h.name, w.Body)
				if tt.want == http.StatusUnsupportedMediaType {
					assert.Zero(t, body.n, "%s read bytes of a body it refused", h.name)
					assert.Equal(t, hookguard.ErrUnsupportedEncoding.Error()+"\n", w.Body.String(), "%s answer: want the ErrUnsupportedEncoding text", h.name)
				}
			}
			wantEnqueued := int64(1)
			if tt.want != http.StatusOK {
				wantEnqueued = 0
				if assert.Len(t, rejected, 1, "OnRejected calls: want one ErrUnsupportedEncoding") {
					assert.ErrorIs(t, rejected[0], hookguard.ErrUnsupportedEncoding, "OnRejected")
				}
			}
			assert.Equal(t, wantEnqueued, q.n.Load(), "events enqueued")
		})
	}
}
