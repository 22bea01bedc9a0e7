package hookguard_test

import (
	"net/http"
	"testing"

	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodyIDAmbiguityRefused drives issue 15, item 5 through a receiver:
// a signed Stripe body with "id" twice was deduped as the first ID and
// handled as the second (encoding/json keeps the last), and two IDs that
// differ only in invalid UTF-8 were deduped as one. Each is refused with
// a 400 now, before dedupe and the handler; a genuine body still passes.
func TestBodyIDAmbiguityRefused(t *testing.T) {
	p := newProvider(t, "stripe")
	rec := testkit.NewCounter()
	r := mustNew(t, p, rec)
	for _, body := range []string{
		`{"id":"evt_first","object":"event","type":"invoice.paid","id":"evt_last"}`,
		`{"id":"evt_first","object":"event","type":"invoice.paid","ID":"evt_last"}`,
		"{\"id\":\"evt_\xff\",\"type\":\"invoice.paid\"}",
		"{\"id\":\"evt_\xfe\",\"type\":\"invoice.paid\"}",
	} {
		w := testkit.Serve(r, sign(t, p, "", []byte(body)).request())
		assert.Equal(t, http.StatusBadRequest, w.Code, "body %q", body)
		assert.NotContains(t, w.Body.String(), "evt_", "body %q: want 400 naming no ID", body)
	}
	good := sign(t, p, "", []byte(`{"id":"evt_ok","object":"event","data":{"object":{"id":"in_1","type":"x"}},"type":"invoice.paid"}`))
	require.Equal(t, http.StatusOK, testkit.Serve(r, good.request()).Code, "genuine body")
	shutdown(t, r)
	require.Equal(t, int64(1), rec.Total(), "deliveries handled: want only evt_ok, once")
	require.Equal(t, 1, rec.Times("evt_ok"), "evt_ok handled")
}
