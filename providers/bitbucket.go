package providers

import (
	"net/http"

	"github.com/hookguard/hookguard/verify"
)

// bitbucket implements the Bitbucket preset behind a [Preset]; see [NewBitbucket].
type bitbucket struct{ bodyHMAC }

var _ Provider = (*bitbucket)(nil)

var bitbucketSpec = bodySpec{
	name:       "bitbucket",
	title:      "Bitbucket",
	sigHeader:  "X-Hub-Signature",
	display:    "X-Hub-Signature",
	prefix:     "sha256=",
	alg:        verify.SHA256,
	enc:        verify.Hex,
	id:         field{headers: []string{"X-Request-Uuid", "X-Request-Id"}},
	typ:        field{headers: []string{"X-Event-Key"}},
	idSource:   "X-Request-UUID header (Cloud), else X-Request-Id (Data Center)",
	typeSource: "X-Event-Key header",
	hint:       "check the webhook's secret",
	sign: func(h http.Header, o Outgoing) {
		id := o.ID
		if id == "" {
			id = uuid()
		}
		h.Set("X-Request-UUID", id)
		h.Set("X-Hook-UUID", "{"+uuid()+"}")
		h.Set("X-Attempt-Number", "1")
		if o.Type != "" {
			h.Set("X-Event-Key", o.Type)
		}
		h.Set("User-Agent", "Bitbucket-Webhooks/2.0")
	},
}

// NewBitbucket returns a Bitbucket verifier for the webhook's secret. It
// returns an error wrapping [verify.ErrEmptySecret] when a secret is empty
// and one wrapping [ErrInvalidOption] for a bad option. [WithTolerance]
// and [WithoutTimestampCheck] have no effect: Bitbucket signs no timestamp.
//
// The preset verifies Bitbucket Cloud (and Data Center) webhook deliveries
// from a webhook that has a secret: HMAC-SHA256 of the raw body, sent as
// X-Hub-Signature: sha256=<hex>. Unlike GitHub, Bitbucket uses the
// X-Hub-Signature header name for SHA-256.
//
// The event ID is X-Request-UUID (Bitbucket Cloud), or X-Request-Id
// (Bitbucket Data Center); the type is X-Event-Key, for example
// "repo:push". None of these headers is signed and Bitbucket signs no
// timestamp, so [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] fingerprints the signed body for dedupe.
func NewBitbucket(secret string, opts ...Option) (*Preset, error) {
	return wrap(newBitbucket(secret, opts...))
}

func newBitbucket(secret string, opts ...Option) (*bitbucket, error) {
	b, err := newBodyHMAC(&bitbucketSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &bitbucket{b}, nil
}
