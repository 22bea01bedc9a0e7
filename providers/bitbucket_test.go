package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Bitbucket event ID is X-Request-UUID (Bitbucket Cloud), else
// X-Request-Id (Bitbucket Data Center). Neither header is signed, so each
// variant still verifies.
func TestBitbucketEventID(t *testing.T) {
	p := mustNew(t, "bitbucket", "bb-secret")
	for _, tc := range []struct {
		name      string
		delUUID   bool   // delete X-Request-UUID
		uuid      string // else replace it, when not empty
		requestID string // X-Request-Id, when not empty
		want      string
	}{
		{name: "cloud", want: "cloud-uuid-1"},
		{name: "data center", delUUID: true, requestID: "dc-1", want: "dc-1"},
		{name: "both: the UUID wins", requestID: "dc-1", want: "cloud-uuid-1"},
		{name: "blank UUID falls back", uuid: " \t", requestID: "dc-1", want: "dc-1"},
		{name: "neither", delUUID: true, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := signed(t, p, Outgoing{Body: []byte(`{"repository":{"full_name":"acme/api"}}`), ID: "cloud-uuid-1", Type: "repo:push", Timestamp: t0})
			require.Equal(t, "cloud-uuid-1", req.Header.Get("X-Request-UUID"), "Sign set X-Request-UUID; want the Outgoing ID")
			if tc.delUUID {
				req.Header.Del("X-Request-UUID")
			} else if tc.uuid != "" {
				req.Header.Set("X-Request-UUID", tc.uuid)
			}
			if tc.requestID != "" {
				req.Header.Set("X-Request-Id", tc.requestID)
			}
			d, err := p.Verify(req, t0)
			require.NoError(t, err, "Verify")
			assert.Equal(t, tc.want, d.ID, "ID")
			assert.Equal(t, "repo:push", d.Type, "Type")
			// With or without an ID, the signed body is fingerprinted for
			// dedupe.
			assert.True(t, d.Replayable, "Replayable")
			assert.NotZero(t, d.Digest, "want a digest of the signed body")
		})
	}
}
