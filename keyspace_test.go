package hookguard_test

import (
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			require.NoError(t, err, "Verify")
			require.NotZero(t, d.Digest, "Verify: want a content digest")
			rec := testkit.NewCounter()
			var opts []hookguard.Option
			if endpoint != "" {
				opts = append(opts, hookguard.WithEndpoint(endpoint))
			}
			r := mustNew(t, p, rec, opts...)
			w := testkit.Serve(r, first.request())
			require.Equal(t, http.StatusOK, w.Code, "first delivery")
			require.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "first delivery: duplicate")
			for _, id := range []string{
				"digest:" + hex.EncodeToString(d.Digest[:]),
				endpoint + ":digest:" + hex.EncodeToString(d.Digest[:]),
				"id:d-1",
				":id:d-1",
			} {
				w := testkit.Serve(r, sign(t, p, id, eventBody(id)).request())
				assert.Equal(t, http.StatusOK, w.Code, "fresh delivery with ID %q", id)
				assert.Empty(t, w.Header().Get(hookguard.DuplicateHeader), "fresh delivery with ID %q: want accepted, not a duplicate", id)
			}
			shutdown(t, r)
			require.Equal(t, int64(5), rec.Total(), "deliveries handled")
		})
	}
}
