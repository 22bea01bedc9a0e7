package providers

// paddle implements the Paddle preset behind a [Preset]; see [NewPaddle].
type paddle struct{ stamped }

var _ Provider = (*paddle)(nil)

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
//
// The preset verifies Paddle Billing webhook deliveries: HMAC-SHA256 over
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
func NewPaddle(secret string, opts ...Option) (*Preset, error) {
	return wrap(newPaddle(secret, opts...))
}

func newPaddle(secret string, opts ...Option) (*paddle, error) {
	s, err := newStamped(&paddleSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &paddle{s}, nil
}
