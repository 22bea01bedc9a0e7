package providers

import (
	"net/http"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Preset is a sender's verification scheme, configured with its secrets
// and options: every constructor of this package ([NewStripe],
// [NewGitHub], ..., [New], [NewCustom]) returns one. It implements
// [Provider], and hookguard's Verifier with the optional behaviours the
// receiver and the middleware look for (ReadsURL, Methods), so a preset
// never needs a type assertion.
//
// What differs between senders (headers, signed content, handshakes) is
// described by [Preset.Info]; the methods are the same for all of them.
//
// A Preset is safe for concurrent use by multiple goroutines.
type Preset struct {
	p scheme
}

// scheme is what each sender's unexported implementation provides.
type scheme interface {
	Name() string
	Verify(req verify.Request, now time.Time) (verify.Delivery, error)
	Sign(o Outgoing) (http.Header, error)
	Info() Info
}

// Implementations that need more than POST, or that never read the URL,
// or whose signature lives in the body, also implement these.
type (
	urlReader    interface{ ReadsURL() bool }
	methodLister interface{ Methods() []string }
	bodySigner   interface {
		SignBody(o Outgoing) (body []byte, h http.Header, err error)
	}
)

var _ Provider = (*Preset)(nil)

// wrap returns s behind a Preset, or err.
func wrap[S scheme](s S, err error) (*Preset, error) {
	if err != nil {
		return nil, err
	}
	return &Preset{p: s}, nil
}

// Name returns the preset's lowercase name, for example "stripe".
func (p *Preset) Name() string { return p.p.Name() }

// Verify checks the signature (and, where the scheme signs one, the
// timestamp against now) of req and returns what it learned. Every error
// it returns is a [*verify.Error] wrapping one of the verify sentinels,
// so [verify.StatusCode] gives the status to answer with.
func (p *Preset) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	return p.p.Verify(req, now)
}

// Sign returns the headers the sender would send with o, including
// Content-Type and the signature, computed with the first secret. For
// the senders whose signed data lives in the body (Mailgun, Linear), use
// [Preset.SignBody]: Sign then expects o.Body to be signed already.
func (p *Preset) Sign(o Outgoing) (http.Header, error) { return p.p.Sign(o) }

// SignBody returns the body to send for o and the headers to send with
// it. For most senders the body is o.Body and the headers are those of
// [Preset.Sign]; for the senders whose signed data lives inside the body
// (Mailgun's signature object, Linear's webhookTimestamp) it is a new
// body that carries it, and o.Body is not modified. Tools that send
// signed test deliveries should call SignBody.
func (p *Preset) SignBody(o Outgoing) (body []byte, h http.Header, err error) {
	if bs, ok := p.p.(bodySigner); ok {
		return bs.SignBody(o)
	}
	h, err = p.p.Sign(o)
	if err != nil {
		return nil, nil, err
	}
	return o.Body, h, nil
}

// Info describes the preset.
func (p *Preset) Info() Info {
	i := p.p.Info()
	_, i.SignedInBody = p.p.(bodySigner)
	return i
}

// ReadsURL reports whether Verify reads [verify.Request.URL], to check a
// signature over it or to read a handshake's query. The hookguard
// receiver and middleware skip building the URL when it returns false.
func (p *Preset) ReadsURL() bool {
	if r, ok := p.p.(urlReader); ok {
		return r.ReadsURL()
	}
	return true
}

// SharedToken reports whether the sender proves itself with a shared
// secret sent as is rather than with a signature (GitLab, Postmark, Okta;
// see [Info.SharedToken]). Custom schemes are signatures (HMAC or
// Ed25519), so it is false for them. The hookguard receiver and
// middleware call it once, when they are built, and then refuse such a
// sender's deliveries that did not arrive over TLS, before the secret is
// compared.
func (p *Preset) SharedToken() bool { return p.p.Info().SharedToken }

// Methods returns the HTTP methods Verify accepts: POST, plus GET for the
// senders that verify an endpoint with a GET challenge (Dropbox, Meta,
// Okta). The hookguard receiver and middleware pass requests with those
// methods to Verify, which answers them with a [verify.Reply].
func (p *Preset) Methods() []string {
	if m, ok := p.p.(methodLister); ok {
		return m.Methods()
	}
	return []string{http.MethodPost}
}
