package webhooktest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/sign"
	"github.com/hookguard/hookguard/providers"
)

// ErrCannotTamper is wrapped by the error [Sign] returns, and by the
// failure of [NewRequest], when a tamper option cannot spoil the request
// for the preset: a preset that signs no part of the body
// ([WithFlippedByte]), or carries its signature in the body
// ([WithFlippedSignature], [WithoutSignature]).
var ErrCannotTamper = sign.ErrCannotTamper

// Option configures a request built by [NewRequest] or [FixtureRequest].
type Option func(*config)

type config struct {
	clock  func() time.Time
	offset time.Duration
	url    string
	header http.Header
	spec   sign.Spec
}

// WithClock signs at now() instead of time.Now(): pass a [Clock]'s Now,
// the same function the receiver under test gets from hookguard.WithClock,
// so that one clock drives both. A nil now restores time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *config) {
		if now == nil {
			now = time.Now
		}
		o.clock = now
	}
}

// WithTime signs at t instead of time.Now.
func WithTime(t time.Time) Option { return func(o *config) { o.clock = func() time.Time { return t } } }

// WithTimestampOffset signs at the clock's time plus d: a negative d gives
// an old request, and beyond the preset's tolerance (five minutes by
// default) a stale one the receiver must reject. Schemes that sign no
// timestamp (GitHub, Shopify) are not affected.
func WithTimestampOffset(d time.Duration) Option { return func(o *config) { o.offset += d } }

// WithID sets the event ID for schemes that carry it in a header (GitHub
// X-GitHub-Delivery, Shopify X-Shopify-Event-Id, Standard Webhooks
// webhook-id, Svix svix-id). By default a random one is used. For schemes
// that read the ID from the body (Stripe, Slack) change the body instead.
func WithID(id string) Option { return func(o *config) { o.spec.ID = id } }

// WithType sets the event type for schemes that carry it in a header
// (GitHub X-GitHub-Event, Shopify X-Shopify-Topic), overriding a
// fixture's.
func WithType(typ string) Option {
	return func(o *config) { o.spec.Type = typ }
}

// WithContentType sets the body's media type (default application/json,
// or the fixture's).
func WithContentType(ct string) Option {
	return func(o *config) { o.spec.ContentType = ct }
}

// WithURL sets the URL the request targets, and that schemes which sign
// the URL sign. The default is https://example.com/webhooks/PROVIDER,
// which is what a hookguard receiver reconstructs for a request built by
// [NewRequest] unless given hookguard.WithPublicURL.
func WithURL(url string) Option { return func(o *config) { o.url = url } }

// WithHeader adds an unsigned header to the request.
func WithHeader(name, value string) Option {
	return func(o *config) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(name, value)
	}
}

// WithWrongSecret signs with a fresh random secret instead of the
// provider's: the signature is well formed but matches no secret.
func WithWrongSecret() Option { return func(o *config) { o.spec.WrongSecret = true } }

// WithFlippedByte changes one byte of the body after signing, as a proxy
// that re-encodes the body, or an attacker, would: the letter or digit
// nearest the middle, or the first one the preset signs when it signs only
// part of the body. Building the request fails for a preset that signs no
// part of the body (GitLab and Postmark present a shared token).
func WithFlippedByte() Option { return func(o *config) { o.spec.FlipBody = true } }

// WithFlippedSignature changes one character in the middle of the
// signature (or shared token) header after signing. Building the request
// fails for a preset that carries its signature in the body (Mailgun).
func WithFlippedSignature() Option { return func(o *config) { o.spec.FlipSignature = true } }

// WithoutHeader removes the header name after signing, for example the
// signature header or a signed timestamp.
func WithoutHeader(name string) Option {
	return func(o *config) { o.spec.Without = append(o.spec.Without, name) }
}

// WithoutSignature removes the provider's signature header after signing.
// Building the request fails for a preset that carries its signature in
// the body (Mailgun).
func WithoutSignature() Option { return func(o *config) { o.spec.DropSignature = true } }

// NewRequest returns a POST request carrying body, signed as p's sender
// would sign it at the time of the clock (time.Now by default), ready for
// a receiver's ServeHTTP (it is a server request, as httptest.NewRequest
// builds). Tamper options spoil it after signing so that error paths can
// be tested. It fails the test when p cannot sign.
func NewRequest(tb testing.TB, p providers.Provider, body []byte, opts ...Option) *http.Request {
	tb.Helper()
	req, err := buildRequest(p, body, nil, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// FixtureRequest is [NewRequest] with the body, content type, event type
// and extra headers of the embedded fixture called name, such as
// "stripe/payment_intent.succeeded".
func FixtureRequest(tb testing.TB, p providers.Provider, name string, opts ...Option) *http.Request {
	tb.Helper()
	f, err := LookupFixture(name)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := buildRequest(p, f.Body, &f, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// Sign is [NewRequest] without a testing.TB: it returns the error instead
// of failing a test, for helpers outside tests and for benchmarks' setup.
func Sign(p providers.Provider, body []byte, opts ...Option) (*http.Request, error) {
	return buildRequest(p, body, nil, opts)
}

func buildRequest(p providers.Provider, body []byte, f *Fixture, opts []Option) (*http.Request, error) {
	c := config{clock: time.Now}
	if f != nil {
		c.spec.Type, c.spec.ContentType = f.Type, f.ContentType
	}
	for _, opt := range opts {
		opt(&c)
	}
	if c.url == "" {
		c.url = "https://example.com/webhooks/" + p.Name()
	}
	if u, err := url.Parse(c.url); err != nil || !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("webhooktest: WithURL(%q): want an absolute URL such as https://example.com/webhooks", c.url)
	}
	s := c.spec
	s.Body, s.URL, s.Time = body, c.url, c.clock().Add(c.offset)
	s.Header = http.Header{}
	if f != nil {
		for k, v := range f.Header {
			s.Header[k] = v
		}
	}
	for k, v := range c.header {
		s.Header[k] = append(s.Header[k], v...)
	}
	d, err := sign.Build(p, s)
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequest(d.Method, d.URL, bytes.NewReader(d.Body))
	req.Header = d.Header
	return req, nil
}
