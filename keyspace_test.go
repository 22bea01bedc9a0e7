package hookguard_test

import (
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/verify"
)

// TestIDCannotCollideWithDigest is the regression test for a delivery
// whose signed ID spells another delivery's content key: a fresh GitHub
// delivery with the ID "digest:<hex of the first delivery's digest>" was
// dropped as a duplicate while IDs and digests shared one key space.
func TestIDCannotCollideWithDigest(t *testing.T) {
	for _, endpoint := range []string{"", "app-a"} {
		t.Run("endpoint="+endpoint, func(t *testing.T) {
			p := newProvider(t, "github")
			first := sign(t, p, "d-1", eventBody("first"))
			d, err := p.Verify(verify.Request{Header: first.header, Body: first.body}, t0)
			if err != nil || d.Digest == ([32]byte{}) {
				t.Fatalf("Verify = %v, digest %x; want a content digest", err, d.Digest)
			}
			rec := testkit.NewCounter()
			var opts []hookguard.Option
			if endpoint != "" {
				opts = append(opts, hookguard.WithEndpoint(endpoint))
			}
			r := mustNew(t, p, rec, opts...)
			if w := testkit.Serve(r, first.request()); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
				t.Fatalf("first delivery: status %d, duplicate %q", w.Code, w.Header().Get(hookguard.DuplicateHeader))
			}
			for _, id := range []string{
				"digest:" + hex.EncodeToString(d.Digest[:]),
				endpoint + ":digest:" + hex.EncodeToString(d.Digest[:]),
				"id:d-1",
				":id:d-1",
			} {
				w := testkit.Serve(r, sign(t, p, id, eventBody(id)).request())
				if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
					t.Errorf("fresh delivery with ID %q: status %d, duplicate %q; want accepted", id, w.Code, w.Header().Get(hookguard.DuplicateHeader))
				}
			}
			shutdown(t, r)
			if got := rec.Total(); got != 5 {
				t.Fatalf("handled %d deliveries, want 5", got)
			}
		})
	}
}
