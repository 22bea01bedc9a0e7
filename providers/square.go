package providers

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// squareSignatureHeader is the canonical form of
// x-square-hmacsha256-signature.
const squareSignatureHeader = "X-Square-Hmacsha256-Signature"

// maxSignedURL bounds the URL a signature covers.
const maxSignedURL = 8 << 10

// square implements the Square preset behind a [Preset]; see [NewSquare].
type square struct {
	mac      *verify.HMAC
	insecure bool
}

var _ Provider = (*square)(nil)

// NewSquare returns a Square verifier for the subscription's signature
// key. [WithTolerance] and [WithoutTimestampCheck] have no effect.
//
// The preset verifies Square webhooks: x-square-hmacsha256-signature is the
// base64 HMAC-SHA256 of the notification URL followed by the body, keyed
// with the subscription's signature key.
//
// The URL is [verify.Request.URL] and must be exactly the notification URL
// configured in Square (scheme, host, path and query): the receiver builds
// it from the request, so behind a proxy set hookguard.WithPublicURL.
//
// Square signs no timestamp: [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] fingerprints the signed content. The event ID
// is the body's "event_id" (the same on every retry) and the type its
// "type".
func NewSquare(signatureKey string, opts ...Option) (*Preset, error) {
	return wrap(newSquare(signatureKey, opts...))
}

func newSquare(signatureKey string, opts ...Option) (*square, error) {
	const name = "square"
	c, mac, err := newHMACPreset(name, signatureKey, opts, 0)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming(name); err != nil {
		return nil, err
	}
	return &square{mac: mac, insecure: c.insecure}, nil
}

// Name returns "square".
func (*square) Name() string { return "square" }

// Info describes the Square preset.
func (*square) Info() Info {
	return Info{
		Name:            "square",
		Title:           "Square",
		SignatureHeader: "x-square-hmacsha256-signature",
		Algorithm:       "HMAC-SHA256 (base64) of notification URL + body",
		IDSource:        `body "event_id"`,
		TypeSource:      `body "type"`,
	}
}

// Verify checks req's x-square-hmacsha256-signature against req.URL and
// the body. now is unused: Square signs no timestamp.
func (s *square) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "square"
	d := verify.Delivery{Provider: name, Replayable: true}
	if s.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		sig, present, ok := single(req.Header, squareSignatureHeader)
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no x-square-hmacsha256-signature header: is this the notification URL of a Square webhook subscription?")
		}
		var sigs verify.Signatures
		if !ok || !addSig(&sigs, verify.Base64, sig, 32) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "x-square-hmacsha256-signature must be one base64 HMAC-SHA256")
		}
		if req.URL == "" || len(req.URL) > maxSignedURL {
			return d, verify.Fail(name, verify.ErrMissingHeader, "the request URL is unknown or too long: Square signs the notification URL, so the receiver must know it (hookguard.WithPublicURL behind a proxy)")
		}
		m := verify.Message{Prefix: [4]string{req.URL}, Body: req.Body}
		i, err := s.mac.Match(&m, &sigs, &d.Digest)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "x-square-hmacsha256-signature does not match the notification URL and body under any configured signature key: check the key, and that the URL is exactly the subscription's notification URL (set hookguard.WithPublicURL behind a proxy)")
		}
		d.SecretIndex = i
	}
	var err error
	if d.ID, d.Type, err = idAndType(name, req.Body, squareIDPath, "type"); err != nil {
		return d, err
	}
	return d, nil
}

// Sign returns the headers Square would send with o:
// x-square-hmacsha256-signature over o.URL and the body, and Content-Type.
// o.URL is required.
func (s *square) Sign(o Outgoing) (http.Header, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("square: %w: Square signs the notification URL; set Outgoing.URL", ErrInvalidOption)
	}
	m := verify.Message{Prefix: [4]string{o.URL}, Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(squareSignatureHeader, string(verify.Base64.AppendEncode(nil, s.mac.AppendSum(nil, 0, &m))))
	return h, nil
}
