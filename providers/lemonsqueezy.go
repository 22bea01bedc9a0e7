package providers

import (
	"net/http"

	"github.com/hookguard/hookguard/verify"
)

// lemonSqueezy implements the LemonSqueezy preset behind a [Preset]; see [NewLemonSqueezy].
type lemonSqueezy struct{ bodyHMAC }

var _ Provider = (*lemonSqueezy)(nil)

var lemonSqueezySpec = bodySpec{
	name:       "lemonsqueezy",
	title:      "Lemon Squeezy",
	sigHeader:  "X-Signature",
	display:    "X-Signature",
	alg:        verify.SHA256,
	enc:        verify.Hex,
	typ:        field{headers: []string{"X-Event-Name"}, path: []string{"meta", "event_name"}},
	idSource:   "none: dedupe on the signed content",
	typeSource: `X-Event-Name header, else body "meta.event_name"`,
	hint:       "check the webhook's signing secret",
	sign: func(h http.Header, o Outgoing) {
		if o.Type != "" {
			h.Set("X-Event-Name", o.Type)
		}
	},
}

// NewLemonSqueezy returns a Lemon Squeezy verifier for the webhook's
// signing secret. [WithTolerance] and [WithoutTimestampCheck] have no
// effect: Lemon Squeezy signs no timestamp.
//
// The preset verifies Lemon Squeezy webhook deliveries: HMAC-SHA256 of
// the raw body under the webhook's signing secret, hex-encoded in
// X-Signature.
//
// The type is the X-Event-Name header, else the body's "meta.event_name",
// for example "order_created". Lemon Squeezy sends no event ID, and signs
// no timestamp, so [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] fingerprints the signed body: dedupe on it.
func NewLemonSqueezy(secret string, opts ...Option) (*Preset, error) {
	return wrap(newLemonSqueezy(secret, opts...))
}

func newLemonSqueezy(secret string, opts ...Option) (*lemonSqueezy, error) {
	b, err := newBodyHMAC(&lemonSqueezySpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &lemonSqueezy{b}, nil
}
