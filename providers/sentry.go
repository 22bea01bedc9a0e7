package providers

import (
	"net/http"
	"strconv"

	"github.com/hookguard/hookguard/verify"
)

// sentry implements the Sentry preset behind a [Preset]; see [NewSentry].
type sentry struct{ bodyHMAC }

var _ Provider = (*sentry)(nil)

var sentrySpec = bodySpec{
	name:       "sentry",
	title:      "Sentry",
	sigHeader:  "Sentry-Hook-Signature",
	display:    "Sentry-Hook-Signature",
	alg:        verify.SHA256,
	enc:        verify.Hex,
	id:         field{headers: []string{"Request-Id"}},
	typ:        field{headers: []string{"Sentry-Hook-Resource"}},
	idSource:   "Request-ID header",
	typeSource: "Sentry-Hook-Resource header",
	hint:       "check the integration's client secret",
	sign: func(h http.Header, o Outgoing) {
		id := o.ID
		if id == "" {
			id = uuid()
		}
		h.Set("Request-ID", id)
		if o.Type != "" {
			h.Set("Sentry-Hook-Resource", o.Type)
		}
		h.Set("Sentry-Hook-Timestamp", strconv.FormatInt(outgoingTime(o).Unix(), 10))
	},
}

// NewSentry returns a Sentry verifier for the integration's client
// secret. [WithTolerance] and [WithoutTimestampCheck] have no effect:
// Sentry signs no timestamp.
//
// The preset verifies webhooks of Sentry integrations (the integration
// platform): HMAC-SHA256 of the raw body under the integration's client
// secret, hex-encoded in Sentry-Hook-Signature.
//
// The event ID is the Request-ID header and the type the
// Sentry-Hook-Resource header ("issue", "event_alert", "installation",
// ...). Sentry sends a Sentry-Hook-Timestamp header but does not sign it,
// so this preset does not check it: [verify.Delivery.Replayable] is true
// and [verify.Delivery.Digest] fingerprints the signed body for dedupe.
func NewSentry(secret string, opts ...Option) (*Preset, error) {
	return wrap(newSentry(secret, opts...))
}

func newSentry(secret string, opts ...Option) (*sentry, error) {
	b, err := newBodyHMAC(&sentrySpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &sentry{b}, nil
}
