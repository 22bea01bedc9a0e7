package providers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Header names of the Slack scheme, in canonical form.
const (
	slackSignatureHeader = "X-Slack-Signature"
	slackTimestampHeader = "X-Slack-Request-Timestamp"
)

// Slack verifies Slack requests (Events API, slash commands,
// interactivity): HMAC-SHA256 over "v0:" + timestamp + ":" + body, sent as
// X-Slack-Signature: v0=<hex> with X-Slack-Request-Timestamp. A timestamp
// more than five minutes from now, either way, is rejected.
//
// For JSON bodies the event ID is "event_id" and the type is "type", or
// "event.type" for an event_callback. Form-encoded bodies (slash commands)
// carry neither. A verified url_verification request gets a
// [verify.Delivery.Reply] that echoes the challenge, as Slack requires
// when the request URL is registered.
//
// A Slack is safe for concurrent use by multiple goroutines.
type Slack struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var _ Provider = (*Slack)(nil)

// NewSlack returns a Slack verifier for the app's signing secret (not the
// deprecated verification token).
func NewSlack(secret string, opts ...Option) (*Slack, error) {
	c, err := newConfig("slack", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectLegacy("slack"); err != nil {
		return nil, err
	}
	mac, err := hmacSecrets("slack", c.secrets)
	if err != nil {
		return nil, err
	}
	return &Slack{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "slack".
func (*Slack) Name() string { return "slack" }

// Info describes the Slack preset.
func (*Slack) Info() Info {
	return Info{
		Name:            "slack",
		Title:           "Slack",
		SignatureHeader: "X-Slack-Signature",
		Algorithm:       "HMAC-SHA256 (hex, v0= prefix)",
		Timestamped:     true,
		IDSource:        `body "event_id" (Events API)`,
		TypeSource:      `body "type"; "event.type" for event_callback`,
		Handshake:       "url_verification (answered with the challenge)",
	}
}

// Verify checks req's X-Slack-Signature against the body and
// X-Slack-Request-Timestamp, and that timestamp against the window around
// now.
func (s *Slack) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "slack"
	d := verify.Delivery{Provider: name}
	ts, tsPresent, tsSingle := single(req.Header, slackTimestampHeader)
	if s.insecure {
		d.Secret = -1
		if t, err := verify.ParseUnix(ts); err == nil && tsSingle {
			d.Timestamp = t
		}
	} else {
		vals := header(req.Header, slackSignatureHeader)
		if len(vals) == 0 {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Slack-Signature header: is this request URL registered with your Slack app?")
		}
		if tooLong(vals) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Slack-Signature header is too long")
		}
		if !tsPresent {
			return d, verify.Fail(name, verify.ErrMissingTimestamp, "no X-Slack-Request-Timestamp header")
		}
		t, err := verify.ParseUnix(ts)
		if err != nil || !tsSingle {
			return d, verify.Fail(name, verify.ErrMalformedTimestamp, "X-Slack-Request-Timestamp must be one Unix time in seconds")
		}
		d.Timestamp = t
		var sigs verify.Signatures
		if !parsePrefixedHex(vals, "v0=", 32, &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Slack-Signature has too many signatures")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Slack-Signature has no usable v0= signature (64 hex digits)")
		}
		if err := s.timing.checkTime(name, "X-Slack-Request-Timestamp", t, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{"v0:", ts, ":"}, Body: req.Body}
		i, err := s.mac.Match(&m, &sigs, nil)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Slack-Signature does not match any configured secret: check the app's signing secret, and that nothing re-encoded the body")
		}
		d.Secret = i
	}
	d.ID = jsonField(req.Body, "event_id")
	d.Type = jsonField(req.Body, "type")
	switch d.Type {
	case "event_callback":
		if t := jsonField(req.Body, "event", "type"); t != "" {
			d.Type = t
		}
	case "url_verification":
		if c, ok := verify.JSONField(req.Body, "challenge"); ok {
			d.Reply = &verify.Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(c)}
		}
	}
	return d, nil
}

// Sign returns the headers Slack would send with o: X-Slack-Request-Timestamp,
// X-Slack-Signature under the first secret, and Content-Type.
func (s *Slack) Sign(o Outgoing) (http.Header, error) {
	ts := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{"v0:", ts, ":"}, Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(slackTimestampHeader, ts)
	h.Set(slackSignatureHeader, string(verify.Hex.AppendEncode([]byte("v0="), s.mac.AppendSum(nil, 0, &m))))
	return h, nil
}
