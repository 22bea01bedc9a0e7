package providers

import (
	"net/http"

	"github.com/hookguard/hookguard/verify"
)

// typeform implements the Typeform preset behind a [Preset]; see [NewTypeform].
type typeform struct{ bodyHMAC }

var _ Provider = (*typeform)(nil)

var typeformSpec = bodySpec{
	name:       "typeform",
	title:      "Typeform",
	sigHeader:  "Typeform-Signature",
	display:    "Typeform-Signature",
	prefix:     "sha256=",
	alg:        verify.SHA256,
	enc:        verify.Base64,
	id:         field{path: []string{"event_id"}},
	typ:        field{path: []string{"event_type"}},
	idSource:   `body "event_id"`,
	typeSource: `body "event_type"`,
	hint:       "check the secret set on the Typeform webhook",
	sign: func(h http.Header, _ Outgoing) {
		h.Set("User-Agent", "Typeform Webhooks")
	},
}

// NewTypeform returns a Typeform verifier for the webhook's secret.
// [WithTolerance] and [WithoutTimestampCheck] have no effect: Typeform
// signs no timestamp.
//
// The preset verifies Typeform webhook deliveries from a webhook that has a
// secret: HMAC-SHA256 of the raw body, base64-encoded (not hex) after a
// "sha256=" prefix in Typeform-Signature.
//
// The event ID is the body's "event_id" and the type its "event_type"
// ("form_response"). Typeform signs no timestamp, so
// [verify.Delivery.Replayable] is true and [verify.Delivery.Digest]
// fingerprints the signed body for dedupe.
func NewTypeform(secret string, opts ...Option) (*Preset, error) {
	return wrap(newTypeform(secret, opts...))
}

func newTypeform(secret string, opts ...Option) (*typeform, error) {
	b, err := newBodyHMAC(&typeformSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &typeform{b}, nil
}
