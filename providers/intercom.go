package providers

import (
	"net/http"

	"github.com/hookguard/hookguard/verify"
)

// intercom implements the Intercom preset behind a [Preset]; see [NewIntercom].
type intercom struct{ bodyHMAC }

var _ Provider = (*intercom)(nil)

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
//
// The preset verifies Intercom webhook notifications: HMAC-SHA1 of the raw
// body under the app's client secret, sent as X-Hub-Signature:
// sha1=<hex> (Intercom's "Signed Notifications").
//
// The event ID is the body's "id" (notif_...) and the type its "topic",
// for example "conversation.user.created". Intercom signs no timestamp, so
// [verify.Delivery.Replayable] is true and [verify.Delivery.Digest]
// fingerprints the signed body for dedupe.
func NewIntercom(secret string, opts ...Option) (*Preset, error) {
	return wrap(newIntercom(secret, opts...))
}

func newIntercom(secret string, opts ...Option) (*intercom, error) {
	b, err := newBodyHMAC(&intercomSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &intercom{b}, nil
}
