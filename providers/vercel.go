package providers

import (
	"net/http"

	"github.com/hookguard/hookguard/verify"
)

// vercel implements the Vercel preset behind a [Preset]; see [NewVercel].
type vercel struct{ bodyHMAC }

var _ Provider = (*vercel)(nil)

var vercelSpec = bodySpec{
	name:       "vercel",
	title:      "Vercel",
	sigHeader:  "X-Vercel-Signature",
	display:    "x-vercel-signature",
	alg:        verify.SHA1,
	enc:        verify.Hex,
	id:         field{path: []string{"id"}},
	typ:        field{path: []string{"type"}},
	idSource:   `body "id"`,
	typeSource: `body "type"`,
	hint:       "check the webhook secret (or, for an integration, its client secret)",
	sign: func(h http.Header, _ Outgoing) {
		h.Set("User-Agent", "Vercel-Webhooks")
	},
}

// NewVercel returns a Vercel verifier for the webhook's secret.
// [WithTolerance] and [WithoutTimestampCheck] have no effect: Vercel signs
// no timestamp.
//
// The preset verifies Vercel webhook deliveries: HMAC-SHA1 of the raw body,
// hex-encoded in x-vercel-signature. Account webhooks are signed with the
// secret Vercel shows once when the webhook is created; integration
// webhooks with the integration's client secret.
//
// The event ID is the body's "id" and the type its "type", for example
// "deployment.created". Vercel signs no timestamp, so
// [verify.Delivery.Replayable] is true and [verify.Delivery.Digest]
// fingerprints the signed body for dedupe.
func NewVercel(secret string, opts ...Option) (*Preset, error) {
	return wrap(newVercel(secret, opts...))
}

func newVercel(secret string, opts ...Option) (*vercel, error) {
	b, err := newBodyHMAC(&vercelSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &vercel{b}, nil
}
