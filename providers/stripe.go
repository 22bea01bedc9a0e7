package providers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the Stripe scheme.
const (
	stripeSignatureHeader = "Stripe-Signature"
)

// stripe implements the Stripe preset behind a [Preset]; see [NewStripe].
type stripe struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var _ Provider = (*stripe)(nil)

// NewStripe returns a Stripe verifier for the endpoint's signing secret.
// It returns an error wrapping [verify.ErrEmptySecret] when a secret is
// empty and one wrapping [ErrInvalidOption] for a bad option.
//
// The preset verifies Stripe webhook deliveries: HMAC-SHA256 over t + "." +
// body, sent as Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...].
//
// The signing secret ("whsec_...") is the HMAC key as written, prefix
// included; unlike a Standard Webhooks secret it is not base64-decoded.
// Only v1 entries are checked; other schemes (v0) are ignored. The event ID
// and type come from the body's "id" and "type".
//
// Stripe's own libraries check only how old a timestamp is; this preset
// also rejects timestamps too far in the future.
func NewStripe(secret string, opts ...Option) (*Preset, error) {
	return wrap(newStripe(secret, opts...))
}

func newStripe(secret string, opts ...Option) (*stripe, error) {
	c, err := newConfig("stripe", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectLegacy("stripe"); err != nil {
		return nil, err
	}
	mac, err := hmacSecrets("stripe", c.secrets)
	if err != nil {
		return nil, err
	}
	return &stripe{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "stripe".
func (*stripe) Name() string { return "stripe" }

// Info describes the Stripe preset.
func (*stripe) Info() Info {
	return Info{
		Name:            "stripe",
		Title:           "Stripe",
		SignatureHeader: stripeSignatureHeader,
		Algorithm:       "HMAC-SHA256 (hex)",
		Timestamped:     true,
		IDSource:        `body "id"`,
		TypeSource:      `body "type"`,
	}
}

// stripeHeader is a parsed Stripe-Signature header.
type stripeHeader struct {
	t      string // the timestamp exactly as sent; it is part of the signed content
	dupT   bool   // two different t= values
	badSig int    // v1 entries that did not decode
	sigs   verify.Signatures
}

// parseStripeHeader scans every value of the header: entries separated by
// commas, each "key=value", whitespace around entries tolerated. It reports
// false when there are more than verify.MaxSignatures v1 entries.
func parseStripeHeader(vals []string, p *stripeHeader) bool {
	for _, v := range vals {
		for len(v) > 0 {
			var entry string
			entry, v = cut(v, ',')
			entry = trimOWS(entry)
			key, val := cut(entry, '=')
			switch key {
			case "t":
				if p.t != "" && p.t != val {
					p.dupT = true
				}
				p.t = val
			case "v1":
				if p.sigs.Full() {
					return false
				}
				if !addSig(&p.sigs, verify.Hex, val, 32) {
					p.badSig++
				}
			}
		}
	}
	return true
}

// stripeIDPath is where the event ID is; a package variable, so that
// passing it costs no slice per call.
var stripeIDPath = []string{"id"}

// cut slices s around the first sep; after is empty when sep is absent.
// strings.IndexByte is vectorised: a byte loop over a 64-digit signature
// costs several times as much.
func cut(s string, sep byte) (before, after string) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// Verify checks req's Stripe-Signature against the body and the window
// around now.
func (s *stripe) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "stripe"
	d := verify.Delivery{Provider: name}
	vals := header(req.Header, stripeSignatureHeader)
	if !s.insecure {
		if err := checkSigValues(name, vals, "Stripe-Signature", "is this endpoint registered with Stripe?"); err != nil {
			return d, err
		}
	}
	var p stripeHeader
	if !parseStripeHeader(vals, &p) && !s.insecure {
		return d, verify.Fail(name, verify.ErrMalformedSignature, "Stripe-Signature has too many v1 signatures")
	}
	if p.sigs.Len() == 0 && !s.insecure {
		return d, verify.Fail(name, verify.ErrMalformedSignature, "Stripe-Signature has no usable v1 signature (64 hex digits)")
	}
	if p.t == "" {
		if !s.insecure {
			return d, verify.Fail(name, verify.ErrMissingTimestamp, "Stripe-Signature has no t= timestamp")
		}
	} else {
		ts, err := unixtime.Parse(p.t)
		if err != nil || p.dupT {
			if !s.insecure {
				return d, verify.Fail(name, verify.ErrMalformedTimestamp, "Stripe-Signature t= must be one Unix time in seconds")
			}
		} else {
			d.Timestamp = ts
		}
	}
	m := verify.Message{Prefix: [4]string{p.t, "."}, Body: req.Body}
	if s.insecure {
		d.SecretIndex = -1
	} else {
		if err := s.timing.checkTime(name, "Stripe-Signature t=", d.Timestamp, now); err != nil {
			return d, err
		}
		i, err := s.mac.Match(&m, &p.sigs, nil)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "no v1 signature matches any configured secret: check the endpoint's signing secret (whsec_...)")
		}
		d.SecretIndex = i
	}
	var err error
	if d.ID, d.Type, err = idAndType(name, req.Body, stripeIDPath, "type"); err != nil {
		return d, err
	}
	if d.ID == "" {
		d.Digest = macDigest(s.mac, d.SecretIndex, &m, &p.sigs)
	}
	return d, nil
}

// Sign returns the headers Stripe would send with o: Stripe-Signature with
// one v1 signature under the first secret, Content-Type and User-Agent.
func (s *stripe) Sign(o Outgoing) (http.Header, error) {
	t := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{t, "."}, Body: o.Body}
	sig := make([]byte, 0, len("t=,v1=")+len(t)+64)
	sig = append(sig, "t="...)
	sig = append(sig, t...)
	sig = append(sig, ",v1="...)
	sig = verify.Hex.AppendEncode(sig, s.mac.AppendSum(nil, 0, &m))
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	h.Set(stripeSignatureHeader, string(sig))
	return h, nil
}
