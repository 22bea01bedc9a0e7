package hookguard_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/testkit"
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
		if w.Code != http.StatusBadRequest || strings.Contains(w.Body.String(), "evt_") {
			t.Errorf("body %q: status %d, answer %q; want 400 naming no ID", body, w.Code, w.Body.String())
		}
	}
	good := sign(t, p, "", []byte(`{"id":"evt_ok","object":"event","data":{"object":{"id":"in_1","type":"x"}},"type":"invoice.paid"}`))
	if w := testkit.Serve(r, good.request()); w.Code != http.StatusOK {
		t.Fatalf("genuine body: status %d", w.Code)
	}
	shutdown(t, r)
	if rec.Total() != 1 || rec.Times("evt_ok") != 1 {
		t.Fatalf("handled %d deliveries, evt_ok %d times; want only evt_ok, once", rec.Total(), rec.Times("evt_ok"))
	}
}
