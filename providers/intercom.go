package providers

import (
	"net/http"

	"github.com/hookguard/hookguard/verify"
)

// Intercom verifies Intercom webhook notifications: HMAC-SHA1 of the raw
// body under the app's client secret, sent as X-Hub-Signature:
// sha1=<hex> (Intercom's "Signed Notifications").
//
// The event ID is the body's "id" (notif_...) and the type its "topic",
// for example "conversation.user.created". Intercom signs no timestamp, so
// [verify.Delivery.Replayable] is true and [verify.Delivery.Digest]
// fingerprints the signed body for dedupe.
//
// A Intercom is safe for concurrent use by multiple goroutines.
type Intercom struct{ bodyHMAC }

var _ Provider = (*Intercom)(nil)

var intercomSpec = bodySpec{
	name:       "intercom",
	title:      "Intercom",
	sigHeader:  "X-Hub-Signature",
	display:    "X-Hub-Signature",
	prefix:     "sha1=",
	alg:        verify.SHA1,
	enc:        verify.Hex,
	id:         field{path: []string{"id"}},
	typ:        field{path: []string{"topic"}},
	idSource:   `body "id"`,
	typeSource: `body "topic"`,
	hint:       "check the app's client secret",
	sign: func(h http.Header, _ Outgoing) {
		h.Set("User-Agent", "intercom-parrot-service-client/1.0")
	},
}

// NewIntercom returns an Intercom verifier for the app's client secret.
// [WithTolerance] and [WithoutTimestampCheck] have no effect: Intercom
// signs no timestamp.
func NewIntercom(secret string, opts ...Option) (*Intercom, error) {
	b, err := newBodyHMAC(&intercomSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &Intercom{b}, nil
}
