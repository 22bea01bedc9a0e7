package providers

// mux implements the Mux preset behind a [Preset]; see [NewMux].
type mux struct{ stamped }

var _ Provider = (*mux)(nil)

var muxSpec = stampSpec{
	name:       "mux",
	title:      "Mux",
	sigHeader:  "Mux-Signature",
	display:    "Mux-Signature",
	tsKey:      "t",
	sigKey:     "v1",
	sep:        ',',
	join:       ".",
	id:         field{path: []string{"id"}},
	typ:        field{path: []string{"type"}},
	idSource:   `body "id"`,
	typeSource: `body "type"`,
	hint:       "check the webhook's signing secret",
}

// NewMux returns a Mux verifier for the webhook's signing secret.
//
// The preset verifies Mux webhook deliveries: HMAC-SHA256 over t + "." + body,
// sent as Mux-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]. Other versions
// are ignored, as Mux's SDK does.
//
// The event ID is the body's "id" and the type its "type", for example
// "video.asset.ready"; both are signed.
func NewMux(secret string, opts ...Option) (*Preset, error) {
	return wrap(newMux(secret, opts...))
}

func newMux(secret string, opts ...Option) (*mux, error) {
	s, err := newStamped(&muxSpec, secret, opts)
	if err != nil {
		return nil, err
	}
	return &mux{s}, nil
}
