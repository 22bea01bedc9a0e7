package providers

import "net/http"

// calendly implements the Calendly preset behind a [Preset]; see [NewCalendly].
type calendly struct{ stamped }

var _ Provider = (*calendly)(nil)

var calendlySpec = stampSpec{
	name:       "calendly",
	title:      "Calendly",
	sigHeader:  "Calendly-Webhook-Signature",
	display:    "Calendly-Webhook-Signature",
	tsKey:      "t",
	sigKey:     "v1",
	sep:        ',',
	join:       ".",
	typ:        field{path: []string{"event"}},
	idSource:   "none: dedupe on the signed content",
	typeSource: `body "event"`,
	hint:       "check the subscription's webhook signing key",
	replayable: true,
	sign: func(h http.Header, _ Outgoing) {
		h.Set("User-Agent", "Calendly-Webhooks")
	},
}

// NewCalendly returns a Calendly verifier for the webhook signing key.
//
// The preset verifies Calendly webhook deliveries from a subscription with a
// webhook signing key: HMAC-SHA256 over t + "." + body, sent as
// Calendly-Webhook-Signature: t=<unix>,v1=<hex>.
//
// The type is the body's "event", for example "invitee.created".
// Calendly's payloads carry no event ID (the invitee URI is shared by the
// created and canceled events), so [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] fingerprints the signed content: within the
// replay window, dedupe on it.
func NewCalendly(secret string, opts ...Option) (*Preset, error) {
	return wrap(newCalendly(secret, opts...))
}

func newCalendly(secret string, opts ...Option) (*calendly, error) {
	s, err := newStamped(&calendlySpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &calendly{s}, nil
}
