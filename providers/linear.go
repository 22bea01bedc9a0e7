package providers

import (
	"net/http"
	"strconv"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// linear implements the Linear preset behind a [Preset]; see [NewLinear].
type linear struct{ bodyHMAC }

var (
	_ Provider   = (*linear)(nil)
	_ bodySigner = (*linear)(nil)
)

// linearTimestampField is the body field that carries the signed time.
const linearTimestampField = "webhookTimestamp"

var linearSpec = bodySpec{
	name:       "linear",
	title:      "Linear",
	sigHeader:  "Linear-Signature",
	display:    "Linear-Signature",
	alg:        verify.SHA256,
	enc:        verify.Hex,
	id:         field{headers: []string{"Linear-Delivery"}},
	typ:        field{headers: []string{"Linear-Event"}, path: []string{"type"}},
	idSource:   "Linear-Delivery header",
	typeSource: `Linear-Event header, else body "type"`,
	tsPath:     []string{linearTimestampField},
	milli:      true,
	hint:       "check the webhook's signing secret",
	sign: func(h http.Header, o Outgoing) {
		id := o.ID
		if id == "" {
			id = uuid()
		}
		h.Set("Linear-Delivery", id)
		if o.Type != "" {
			h.Set("Linear-Event", o.Type)
		}
		h.Set("User-Agent", "Linear-Webhook")
	},
}

// NewLinear returns a Linear verifier for the webhook's signing secret.
//
// The preset verifies Linear webhook deliveries: HMAC-SHA256 of the raw body
// under the webhook's signing secret, hex-encoded in Linear-Signature.
//
// Linear puts the timestamp in the body, as "webhookTimestamp" in Unix
// milliseconds, so it is covered by the signature: this preset reads it
// only once the body is verified, requires it, and checks it against the
// replay window (Linear's own SDK allows one minute; the default window
// here is [verify.DefaultTolerance], narrow it with [WithTolerance]).
//
// The event ID is the Linear-Delivery header and the type the
// Linear-Event header, else the body's "type" ("Issue", "Comment", ...).
// The delivery ID is not signed, so a captured request could be resent
// under a fresh one while its timestamp is inside the window:
// [verify.Delivery.Replayable] is true and [verify.Delivery.Digest]
// fingerprints the signed body so that content dedupe stops it.
func NewLinear(secret string, opts ...Option) (*Preset, error) {
	return wrap(newLinear(secret, opts...))
}

func newLinear(secret string, opts ...Option) (*linear, error) {
	b, err := newBodyHMAC(&linearSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &linear{b}, nil
}

// SignBody returns o.Body with "webhookTimestamp" set to o.Timestamp (in
// milliseconds; now when zero) as its first member, unless the body
// already has that field, and the headers Linear would send with it. The
// body must be a JSON object.
func (l *linear) SignBody(o Outgoing) ([]byte, http.Header, error) {
	body := o.Body
	if _, ok := jsonscan.Field(body, linearTimestampField); !ok {
		ms := strconv.FormatInt(outgoingTime(o).UnixMilli(), 10)
		var err error
		if body, err = prependMember(body, linearTimestampField, []byte(ms)); err != nil {
			return nil, nil, err
		}
	}
	o.Body = body
	h, err := l.Sign(o)
	return body, h, err
}
