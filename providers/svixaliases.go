package providers

// Senders that deliver through Svix and document the Svix scheme for
// their webhooks: svix-id, svix-timestamp and svix-signature headers,
// HMAC-SHA256 over id + "." + timestamp + "." + body, a "whsec_" secret.
// Each is a named alias of [NewSvix] that differs only in its name, so
// that errors, logs and metrics say which sender failed.

// SvixAlias is a Svix-scheme preset under a sender's own name. Verify,
// Sign and the options behave as for [NewSvix].
//
// A SvixAlias is safe for concurrent use by multiple goroutines.
type svixAlias struct {
	*standardWebhooks
	title string
}

var _ Provider = (*svixAlias)(nil)

// Info describes the alias.
func (a *svixAlias) Info() Info {
	i := a.standardWebhooks.Info()
	i.Name, i.Title, i.SignatureHeader, i.IDSource = a.Name(), a.title, "svix-signature", "svix-id header"
	return i
}

func newSvixAlias(name, title, secret string, opts []Option) (*svixAlias, error) {
	s, err := newStandard(name, svixIDHeader, svixTimestampHeader, svixSignatureHeader, secret, opts)
	if err != nil {
		return nil, err
	}
	return &svixAlias{standardWebhooks: s, title: title}, nil
}

// NewClerk returns a verifier for Clerk webhooks, which Clerk sends
// through Svix: pass the endpoint's signing secret ("whsec_...").
func NewClerk(secret string, opts ...Option) (*Preset, error) {
	return wrap(newSvixAlias("clerk", "Clerk", secret, opts))
}

// NewResend returns a verifier for Resend webhooks, which Resend signs
// with the Svix scheme: pass the webhook's signing secret ("whsec_...").
func NewResend(secret string, opts ...Option) (*Preset, error) {
	return wrap(newSvixAlias("resend", "Resend", secret, opts))
}
