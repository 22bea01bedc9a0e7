// Package sign builds signed webhook deliveries for tests and tools, and
// alters them the ways an attacker, a broken proxy or a misconfigured
// sender would. Package webhooktest and the hookguard command share it, so
// that a "tampered" request means the same thing in both.
package sign

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// Stale is how far in the past [Timestamp] signs a delivery: well outside
// any replay window a preset accepts by default.
const Stale = time.Hour

// Tamper is one way to spoil a signed delivery.
type Tamper uint8

// The tamper kinds. Each yields a request that a correct receiver rejects
// (except [Timestamp] for schemes that sign no timestamp, see
// [Tamper.Applies]).
const (
	// None sends the delivery as signed.
	None Tamper = iota
	// Signature changes one character in the middle of the signature.
	Signature
	// Body changes one byte of the body after it was signed.
	Body
	// Timestamp signs the delivery [Stale] before its time.
	Timestamp
	// Secret signs with a fresh random secret instead of the preset's.
	Secret
	// MissingSignature removes the signature header.
	MissingSignature
)

var tamperNames = [...]string{"none", "signature", "body", "timestamp", "secret", "missing-signature"}

// String returns the kind's name, as [ParseTamper] takes it.
func (t Tamper) String() string {
	if int(t) < len(tamperNames) {
		return tamperNames[t]
	}
	return fmt.Sprintf("Tamper(%d)", t)
}

// TamperNames lists the names [ParseTamper] accepts, "none" first.
func TamperNames() []string { return tamperNames[:] }

// ErrUnknownTamper is returned by [ParseTamper] for a name it does not know.
var ErrUnknownTamper = errors.New("unknown tamper kind")

// ParseTamper returns the kind called name.
func ParseTamper(name string) (Tamper, error) {
	for i, n := range tamperNames {
		if n == name {
			return Tamper(i), nil
		}
	}
	return None, fmt.Errorf("%w %q: use one of %s", ErrUnknownTamper, name, strings.Join(tamperNames[:], ", "))
}

// Applies reports whether t changes what p's verifier sees: [Timestamp]
// does not for schemes that sign no timestamp (GitHub, Shopify).
func (t Tamper) Applies(p providers.Provider) bool {
	return t != Timestamp || p.Info().Timestamped
}

// Spec describes one delivery to sign.
type Spec struct {
	// Body is the exact body to send.
	Body []byte
	// ID and Type are the event ID and type for schemes that carry them
	// in headers; an empty ID means a random one.
	ID, Type string
	// Time is the signing time; zero means now.
	Time time.Time
	// Method defaults to POST; ContentType to application/json. URL is
	// the target, for schemes that sign it.
	Method, URL, ContentType string
	// Header holds extra, unsigned headers (the signed ones win).
	Header http.Header

	// WrongSecret signs with a fresh random secret.
	WrongSecret bool
	// FlipSignature changes one character of the signature after signing.
	FlipSignature bool
	// FlipBody changes one byte of the body after signing.
	FlipBody bool
	// DropSignature removes the preset's signature header after signing;
	// Build fails when the preset carries its signature elsewhere.
	DropSignature bool
	// Without lists headers to remove after signing.
	Without []string
}

// Apply sets the fields of s that make t happen with p.
func (t Tamper) Apply(s *Spec, p providers.Provider) {
	switch t {
	case Signature:
		s.FlipSignature = true
	case Body:
		s.FlipBody = true
	case Timestamp:
		if s.Time.IsZero() {
			s.Time = time.Now()
		}
		s.Time = s.Time.Add(-Stale)
	case Secret:
		s.WrongSecret = true
	case MissingSignature:
		s.DropSignature = true
	}
}

// Delivery is a signed request, ready to send.
type Delivery struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Clone returns a deep copy of d.
func (d Delivery) Clone() Delivery {
	d.Header = d.Header.Clone()
	d.Body = bytes.Clone(d.Body)
	return d
}

// NewRequest returns d as an outgoing *http.Request without a context.
func (d Delivery) NewRequest() (*http.Request, error) {
	req, err := http.NewRequest(d.Method, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return nil, err
	}
	req.Header = d.Header.Clone()
	return req, nil
}

// ErrCannotTamper means a tamper option could not spoil the delivery, for
// example because the signature header holds no signature to change.
var ErrCannotTamper = errors.New("cannot tamper with the delivery")

// Build signs s as p's sender would and applies the tamper fields. The
// body in the result is a copy; s.Body is never modified.
func Build(p providers.Provider, s Spec) (Delivery, error) {
	if s.Method == "" {
		s.Method = http.MethodPost
	}
	if s.ContentType == "" {
		s.ContentType = "application/json"
	}
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	signer := p
	if s.WrongSecret {
		other, err := otherSigner(p)
		if err != nil {
			return Delivery{}, err
		}
		signer = other
	}
	out := providers.Outgoing{
		Body: s.Body, ID: s.ID, Type: s.Type, Timestamp: s.Time,
		Method: s.Method, URL: s.URL, ContentType: s.ContentType,
	}
	body, signed, err := signWith(signer, out)
	if err != nil {
		return Delivery{}, fmt.Errorf("sign %s request: %w", p.Name(), err)
	}
	h := s.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for k, v := range signed {
		h[k] = v
	}
	AddSenderHeaders(p.Name(), h) // the unsigned headers the real sender sends too
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", s.ContentType)
	}
	d := Delivery{Method: s.Method, URL: s.URL, Header: h, Body: body}
	if s.FlipSignature {
		if err := flipSignature(p, &d, s.Time); err != nil {
			return Delivery{}, err
		}
	}
	if s.FlipBody {
		if err := flipBody(p, &d, s.Time); err != nil {
			return Delivery{}, err
		}
	}
	if s.DropSignature {
		name := p.Info().SignatureHeader
		if d.Header.Get(name) == "" {
			return Delivery{}, fmt.Errorf("%w: %s sends no %s header to remove", ErrCannotTamper, p.Name(), name)
		}
		d.Header.Del(name)
	}
	for _, name := range s.Without {
		d.Header.Del(name)
	}
	return d, nil
}

// signWith signs out with p, through [providers.Preset.SignBody] for a
// preset, so that the senders whose signature lives in the body (Mailgun,
// Linear) get a body that carries it. The body returned is a new slice.
func signWith(p providers.Provider, out providers.Outgoing) ([]byte, http.Header, error) {
	if pr, ok := p.(*providers.Preset); ok {
		body, h, err := pr.SignBody(out)
		return bytes.Clone(body), h, err
	}
	h, err := p.Sign(out)
	return bytes.Clone(out.Body), h, err
}

// accepts reports whether p accepts d at now.
func accepts(p providers.Provider, d *Delivery, now time.Time) bool {
	_, err := p.Verify(verify.Request{Method: d.Method, URL: d.URL, Header: d.Header, Body: d.Body}, now)
	return err == nil
}

// maxFlipTries bounds how many positions flipBody tries.
const maxFlipTries = 4096

// flipBody changes one letter or digit of d.Body so that p rejects it,
// preferring a change p reports as a signature mismatch (401) over one
// that breaks the body's structure: the byte nearest the middle, or, when
// p does not sign that part (Mailgun signs only its signature object), the
// first from the start that p does sign. It fails when p signs no part of
// the body (GitLab, Postmark).
func flipBody(p providers.Provider, d *Delivery, now time.Time) error {
	orig := d.Body
	var rejected []byte // the first flip p rejected for another reason
	try := func(b []byte) bool {
		_, err := p.Verify(verify.Request{Method: d.Method, URL: d.URL, Header: d.Header, Body: b}, now)
		if errors.Is(err, verify.ErrSignatureMismatch) {
			return true
		}
		if err != nil && rejected == nil {
			rejected = b
		}
		return false
	}
	if b := FlipByte(orig); try(b) {
		d.Body = b
		return nil
	}
	tries := 0
	for i := 0; i < len(orig) && tries < maxFlipTries; i++ {
		if !isAlnum(orig[i]) {
			continue
		}
		tries++
		b := bytes.Clone(orig)
		b[i] = nextInClass(b[i])
		if try(b) {
			d.Body = b
			return nil
		}
	}
	if rejected != nil {
		d.Body = rejected
		return nil
	}
	return fmt.Errorf("%w: %s does not sign the body, so a changed body still verifies", ErrCannotTamper, p.Name())
}

// otherSigner returns p's preset with a fresh random secret.
func otherSigner(p providers.Provider) (providers.Provider, error) {
	secret, err := testsecret.For(p.Name())
	if err != nil {
		return nil, fmt.Errorf("wrong secret for %s: %w", p.Name(), err)
	}
	other, err := providers.New(p.Name(), secret)
	if err != nil {
		return nil, fmt.Errorf("wrong secret for %s: %w", p.Name(), err)
	}
	return other, nil
}

// flipSignature changes one character in the middle of the longest run of
// signature characters (hex or base64) in p's signature header, and checks
// that p no longer accepts the result.
func flipSignature(p providers.Provider, d *Delivery, now time.Time) error {
	name := p.Info().SignatureHeader
	v := d.Header.Get(name)
	start, end := longestRun(v)
	if end-start < 8 {
		return fmt.Errorf("%w: the %s header of %s holds no signature to change", ErrCannotTamper, name, p.Name())
	}
	b := []byte(v)
	i := start + (end-start)/2
	b[i] = nextInClass(b[i])
	d.Header.Set(name, string(b))
	if accepts(p, d, now) {
		return fmt.Errorf("%w: %s still accepts the altered %s header", ErrCannotTamper, p.Name(), name)
	}
	return nil
}

// longestRun returns the bounds of the longest run of base64 characters
// (which include the hex digits) in s.
func longestRun(s string) (start, end int) {
	i := 0
	for i < len(s) {
		if !isSigChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isSigChar(s[j]) {
			j++
		}
		if j-i > end-start {
			start, end = i, j
		}
		i = j
	}
	return start, end
}

func isSigChar(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '-' || c == '_'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// nextInClass returns the character after c in its class, wrapping: hex
// digits stay hex digits (9→0, f→a), other letters stay letters of their
// case, anything else becomes 'A'.
func nextInClass(c byte) byte {
	switch {
	case '0' <= c && c <= '8', 'a' <= c && c <= 'e', 'A' <= c && c <= 'E',
		'g' <= c && c <= 'y', 'G' <= c && c <= 'Y':
		return c + 1
	case c == '9':
		return '0'
	case c == 'f':
		return 'a'
	case c == 'F':
		return 'A'
	case c == 'z':
		return 'g'
	case c == 'Z':
		return 'G'
	}
	return 'A'
}

// FlipByte returns a copy of body with one byte changed: the letter or
// digit nearest the middle becomes the next one of its class, so a JSON
// body usually stays JSON (a string or number changes) while its signature
// no longer matches. A body without letters or digits gets its middle byte
// inverted; an empty body becomes a single space.
func FlipByte(body []byte) []byte {
	out := bytes.Clone(body)
	if len(out) == 0 {
		return []byte(" ")
	}
	mid := len(out) / 2
	for d := 0; d < len(out); d++ {
		for _, i := range [2]int{mid + d, mid - d} {
			if i >= 0 && i < len(out) && isAlnum(out[i]) {
				out[i] = nextInClass(out[i])
				return out
			}
		}
	}
	out[mid] ^= 0xff
	return out
}
