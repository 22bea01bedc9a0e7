package providers

import "testing"

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
			if req.Header.Get("X-Request-UUID") != "cloud-uuid-1" {
				t.Fatalf("Sign set X-Request-UUID %q; want the Outgoing ID", req.Header.Get("X-Request-UUID"))
			}
			if tc.delUUID {
				req.Header.Del("X-Request-UUID")
			} else if tc.uuid != "" {
				req.Header.Set("X-Request-UUID", tc.uuid)
			}
			if tc.requestID != "" {
				req.Header.Set("X-Request-Id", tc.requestID)
			}
			d, err := p.Verify(req, t0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if d.ID != tc.want || d.Type != "repo:push" {
				t.Errorf("ID %q, Type %q; want ID %q, Type repo:push", d.ID, d.Type, tc.want)
			}
			// With or without an ID, the signed body is fingerprinted for
			// dedupe.
			if !d.Replayable || d.Digest == ([32]byte{}) {
				t.Errorf("Replayable %v, Digest %x; want a digest of the signed body", d.Replayable, d.Digest)
			}
		})
	}
}
