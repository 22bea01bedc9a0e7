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
type SvixAlias struct {
	*StandardWebhooks
	title string
}

var _ Provider = (*SvixAlias)(nil)

// Info describes the alias.
func (a *SvixAlias) Info() Info {
	i := a.StandardWebhooks.Info()
	i.Name, i.Title, i.SignatureHeader, i.IDSource = a.Name(), a.title, "svix-signature", "svix-id header"
	return i
}

func newSvixAlias(name, title, secret string, opts []Option) (*SvixAlias, error) {
	s, err := newStandard(name, svixIDHeader, svixTimestampHeader, svixSignatureHeader, secret, opts)
	if err != nil {
		return nil, err
	}
	return &SvixAlias{StandardWebhooks: s, title: title}, nil
}

// NewClerk returns a verifier for Clerk webhooks, which Clerk sends
// through Svix: pass the endpoint's signing secret ("whsec_...").
func NewClerk(secret string, opts ...Option) (*SvixAlias, error) {
	return newSvixAlias("clerk", "Clerk", secret, opts)
}

// NewResend returns a verifier for Resend webhooks, which Resend signs
// with the Svix scheme: pass the webhook's signing secret ("whsec_...").
func NewResend(secret string, opts ...Option) (*SvixAlias, error) {
	return newSvixAlias("resend", "Resend", secret, opts)
}
