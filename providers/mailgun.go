package providers

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

// mailgun implements the Mailgun preset behind a [Preset]; see [NewMailgun].
type mailgun struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var (
	_ Provider   = (*mailgun)(nil)
	_ bodySigner = (*mailgun)(nil)
)

// NewMailgun returns a Mailgun verifier for the HTTP webhook signing key.
// After rotating the key, pass the old one with [WithSecret].
//
// The preset verifies Mailgun webhook deliveries (JSON bodies). Mailgun puts
// the signature inside the body:
//
//	{"signature": {"timestamp": "1529006854", "token": "a8ce0edb...",
//	  "signature": "d2271d12..."}, "event-data": {...}}
//
// where signature is the hex HMAC-SHA256, under the HTTP webhook signing
// key, of timestamp + token. Because the signed data lives in the body,
// this preset reads those three fields before verifying, with the bounded
// scanner of [jsonscan.Members]: one pass over the top-level object and
// one over the signature object, linear in the body whatever it holds. A
// body that holds one of these names twice (or in another case), where
// decoders would disagree on the token, is refused with a 400.
//
// Mailgun signs the timestamp and the token, NOT the event data: a
// captured signature object can be put in front of other event data and
// still verify while its timestamp is in the window. The token is the
// defence: it is random per delivery, so it is the event ID, and dedupe on
// it rejects a second body under the same signature. Keep the replay
// window short ([WithTolerance]) and the dedupe store's retention longer
// than the window.
//
// The type is "event-data.event" ("delivered", "opened", ...). Legacy
// form-encoded webhooks are not supported.
func NewMailgun(secret string, opts ...Option) (*Preset, error) {
	return wrap(newMailgun(secret, opts...))
}

func newMailgun(secret string, opts ...Option) (*mailgun, error) {
	c, err := newConfig("mailgun", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectLegacy("mailgun"); err != nil {
		return nil, err
	}
	mac, err := hmacSecrets("mailgun", c.secrets)
	if err != nil {
		return nil, err
	}
	return &mailgun{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "mailgun".
func (*mailgun) Name() string { return "mailgun" }

// Info describes the Mailgun preset.
func (*mailgun) Info() Info {
	return Info{
		Name:            "mailgun",
		Title:           "Mailgun",
		SignatureHeader: `body "signature.signature" (no header)`,
		Algorithm:       "HMAC-SHA256 (hex) of timestamp + token; the event data is not signed",
		Timestamped:     true,
		IDSource:        `body "signature.token"`,
		TypeSource:      `body "event-data.event"`,
	}
}

// mailgunSig is the signature object of a Mailgun body.
type mailgunSig struct {
	ts, token, sig string
	hasSig         bool
	hasTS, hasTok  bool
	eventData      []byte // the "event-data" object as written, for its type
}

// parseMailgunSig reads the signature object of body with the bounded
// JSON scanner, in one pass over the top-level object and one over the
// signature object. It returns the scanner's error for a body that holds
// one of the names it reads twice, or in another case, or a value that
// is not valid Unicode.
func parseMailgunSig(body []byte) (mailgunSig, error) {
	var s mailgunSig
	top := [...]jsonscan.Member{{Key: "signature"}, {Key: "event-data"}}
	if err := jsonscan.Members(body, top[:]); err != nil {
		return s, err
	}
	s.eventData = top[1].Raw
	sig := [...]jsonscan.Member{{Key: "signature"}, {Key: "timestamp"}, {Key: "token"}}
	if err := jsonscan.Members(top[0].Raw, sig[:]); err != nil {
		return s, err
	}
	scalar := func(m jsonscan.Member) (string, bool) { return m.Value, m.Found && m.Raw == nil }
	s.sig, s.hasSig = scalar(sig[0])
	s.ts, s.hasTS = scalar(sig[1])
	s.token, s.hasTok = scalar(sig[2])
	return s, nil
}

// Verify checks the body's signature object against its timestamp and
// token, and the timestamp against the window around now.
func (g *mailgun) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "mailgun"
	d := verify.Delivery{Provider: name}
	s, err := parseMailgunSig(req.Body)
	if err != nil {
		return d, bodyJSONError(name, err)
	}
	ts, tsErr := unixtime.Parse(s.ts)
	if g.insecure {
		d.SecretIndex = -1
		if tsErr == nil {
			d.Timestamp = ts
		}
	} else {
		if !s.hasSig {
			return d, verify.Fail(name, verify.ErrMissingSignature, `the body has no "signature" object, or is not a well-formed JSON object: is this a Mailgun JSON webhook?`)
		}
		var sigs verify.Signatures
		if len(s.sig) > 2*verify.MaxSignatureSize || !addSig(&sigs, verify.Hex, s.sig, 32) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "signature.signature must be 64 hex digits")
		}
		if !s.hasTS {
			return d, verify.Fail(name, verify.ErrMissingTimestamp, "the signature object has no timestamp")
		}
		if tsErr != nil {
			return d, verify.Fail(name, verify.ErrMalformedTimestamp, "signature.timestamp must be a Unix time in seconds")
		}
		if !s.hasTok || s.token == "" {
			return d, verify.Fail(name, verify.ErrMissingHeader, "the signature object has no token: it is part of the signed content")
		}
		d.Timestamp = ts
		if err := g.timing.checkTime(name, "signature.timestamp", ts, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{s.ts, s.token}}
		i, err := g.mac.Match(&m, &sigs, nil)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "signature.signature does not match any configured key: check the HTTP webhook signing key")
		}
		d.SecretIndex = i
	}
	d.ID = s.token
	if d.Type, err = bodyField(name, s.eventData, "event"); err != nil {
		return d, err
	}
	if d.ID == "" { // unverified: InsecureSkipVerification
		d.Digest = signedDigest(d.SecretIndex, &verify.Message{Body: req.Body})
	}
	return d, nil
}

// Sign returns the headers Mailgun would send with o: Content-Type and
// User-Agent. Mailgun signs inside the body, which Sign cannot change: use
// [Preset.SignBody] to build a body that verifies.
func (g *mailgun) Sign(o Outgoing) (http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set("User-Agent", "mailgun/treq-16.12.0")
	return h, nil
}

// SignBody returns o.Body, a JSON object such as {"event-data": {...}},
// with a "signature" object put first: timestamp o.Timestamp (now when
// zero), token o.ID (a random 50-character token when empty) and their
// signature under the first key. It fails when the body already has a
// signature object.
func (g *mailgun) SignBody(o Outgoing) ([]byte, http.Header, error) {
	if s, err := parseMailgunSig(o.Body); err != nil {
		return nil, nil, fmt.Errorf("mailgun: %w: %w", ErrCannotSign, err)
	} else if s.hasSig || s.hasTS || s.hasTok {
		return nil, nil, fmt.Errorf("mailgun: %w: the body already has a signature object; remove it to sign again", ErrCannotSign)
	}
	token := o.ID
	if token == "" {
		token = randomID("")[:32] + randomID("")[:18]
	}
	ts := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{ts, token}}
	sum := g.mac.AppendSum(nil, 0, &m)
	obj := make([]byte, 0, 128+len(token))
	obj = append(obj, `{"timestamp":`...)
	obj = strconv.AppendQuote(obj, ts)
	obj = append(obj, `,"token":`...)
	obj = strconv.AppendQuote(obj, token)
	obj = append(obj, `,"signature":"`...)
	obj = append(obj, hex.EncodeToString(sum)...)
	obj = append(obj, `"}`...)
	body, err := prependMember(o.Body, "signature", obj)
	if err != nil {
		return nil, nil, err
	}
	h, err := g.Sign(o)
	return body, h, err
}
