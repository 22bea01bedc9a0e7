package providers

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Mailgun verifies Mailgun webhook deliveries (JSON bodies). Mailgun puts
// the signature inside the body:
//
//	{"signature": {"timestamp": "1529006854", "token": "a8ce0edb...",
//	  "signature": "d2271d12..."}, "event-data": {...}}
//
// where signature is the hex HMAC-SHA256, under the HTTP webhook signing
// key, of timestamp + token. Because the signed data lives in the body,
// this preset reads those three fields before verifying, with the bounded
// [verify.JSONField] only; nothing else of the body is read until they
// verify.
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
//
// A Mailgun is safe for concurrent use by multiple goroutines.
type Mailgun struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var (
	_ Provider   = (*Mailgun)(nil)
	_ BodySigner = (*Mailgun)(nil)
)

// NewMailgun returns a Mailgun verifier for the HTTP webhook signing key.
// After rotating the key, pass the old one with [WithSecret].
func NewMailgun(secret string, opts ...Option) (*Mailgun, error) {
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
	return &Mailgun{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "mailgun".
func (*Mailgun) Name() string { return "mailgun" }

// Info describes the Mailgun preset.
func (*Mailgun) Info() Info {
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
}

// parseMailgunSig reads the signature object of body with the bounded
// JSON scanner.
func parseMailgunSig(body []byte) mailgunSig {
	var s mailgunSig
	s.sig, s.hasSig = verify.JSONField(body, "signature", "signature")
	s.ts, s.hasTS = verify.JSONField(body, "signature", "timestamp")
	s.token, s.hasTok = verify.JSONField(body, "signature", "token")
	return s
}

// Verify checks the body's signature object against its timestamp and
// token, and the timestamp against the window around now.
func (g *Mailgun) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "mailgun"
	d := verify.Delivery{Provider: name}
	s := parseMailgunSig(req.Body)
	ts, tsErr := verify.ParseUnix(s.ts)
	if g.insecure {
		d.Secret = -1
		if tsErr == nil {
			d.Timestamp = ts
		}
	} else {
		if !s.hasSig {
			return d, verify.Fail(name, verify.ErrMissingSignature, `the body has no "signature" object: is this a Mailgun JSON webhook?`)
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
		d.Secret = i
	}
	d.ID = s.token
	d.Type = jsonField(req.Body, "event-data", "event")
	return d, nil
}

// Sign returns the headers Mailgun would send with o: Content-Type and
// User-Agent. Mailgun signs inside the body, which Sign cannot change: use
// [Mailgun.SignBody] to build a body that verifies.
func (g *Mailgun) Sign(o Outgoing) (http.Header, error) {
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
func (g *Mailgun) SignBody(o Outgoing) ([]byte, http.Header, error) {
	if s := parseMailgunSig(o.Body); s.hasSig || s.hasTS || s.hasTok {
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
