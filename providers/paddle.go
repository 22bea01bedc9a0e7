package providers

// Paddle verifies Paddle Billing webhook deliveries: HMAC-SHA256 over
// ts + ":" + body, sent as Paddle-Signature: ts=<unix>;h1=<hex>. The
// secret is the notification destination's secret key, used as written
// ("pdl_ntfset_..."). Paddle documents that a header carries at least one
// h1: every h1 entry is tried, so a header with two during a rotation
// verifies. Paddle Classic (p_signature, RSA) is not supported.
//
// The event ID is the body's "event_id" and the type its "event_type",
// for example "transaction.completed"; both are signed.
//
// Paddle's SDK helpers allow a timestamp only 5 seconds old; the default
// window here is [verify.DefaultTolerance] in both directions, narrow it
// with [WithTolerance].
//
// A Paddle is safe for concurrent use by multiple goroutines.
type Paddle struct{ stamped }

var _ Provider = (*Paddle)(nil)

var paddleSpec = stampSpec{
	name:       "paddle",
	title:      "Paddle Billing",
	sigHeader:  "Paddle-Signature",
	display:    "Paddle-Signature",
	tsKey:      "ts",
	sigKey:     "h1",
	sep:        ';',
	join:       ":",
	id:         field{path: []string{"event_id"}},
	typ:        field{path: []string{"event_type"}},
	idSource:   `body "event_id"`,
	typeSource: `body "event_type"`,
	hint:       "check the notification destination's secret key (pdl_ntfset_...)",
}

// NewPaddle returns a Paddle Billing verifier for the notification
// destination's secret key.
func NewPaddle(secret string, opts ...Option) (*Paddle, error) {
	s, err := newStamped(&paddleSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &Paddle{s}, nil
}
