package providers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the Slack scheme, in canonical form.
const (
	slackSignatureHeader = "X-Slack-Signature"
	slackTimestampHeader = "X-Slack-Request-Timestamp"
)

// slack implements the Slack preset behind a [Preset]; see [NewSlack].
type slack struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var _ Provider = (*slack)(nil)

// NewSlack returns a Slack verifier for the app's signing secret (not the
// deprecated verification token).
//
// The preset verifies Slack requests (Events API, slash commands,
// interactivity): HMAC-SHA256 over "v0:" + timestamp + ":" + body, sent as
// X-Slack-Signature: v0=<hex> with X-Slack-Request-Timestamp. A timestamp
// more than five minutes from now, either way, is rejected.
//
// For JSON bodies the event ID is "event_id" and the type is "type", or
// "event.type" for an event_callback. Form-encoded bodies (slash commands,
// and interactive payloads, whose JSON is a "payload" form parameter)
// carry neither: such a delivery, and any other without an event_id, gets
// a [verify.Delivery.Digest] of the signed request, so that the same
// request sent again inside the window is a duplicate. A verified
// url_verification request gets a [verify.Delivery.Reply] that echoes the
// challenge, as Slack requires when the request URL is registered.
func NewSlack(secret string, opts ...Option) (*Preset, error) {
	return wrap(newSlack(secret, opts...))
}

func newSlack(secret string, opts ...Option) (*slack, error) {
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
	return &slack{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "slack".
func (*slack) Name() string { return "slack" }

// Info describes the Slack preset.
func (*slack) Info() Info {
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
func (s *slack) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	d := verify.Delivery{Provider: "slack"}
	// A form body (slash command, interactive payload) carries no
	// event_id: take its Digest from the MAC that verifies it.
	var digest *[32]byte
	if !startsObject(req.Body) {
		digest = &d.Digest
	}
	if err := slackScheme.verify(s.mac, s.timing, s.insecure, req, now, &d, digest); err != nil {
		return d, err
	}
	// One forward pass finds all four members: a jsonscan.Field call for each
	// of event_id, type and event.type scanned past the event object
	// three times. The array stays on the stack. A body that holds one of
	// them twice (or in another case) is refused: see bodyField.
	ms := [...]jsonscan.Member{{Key: "event_id"}, {Key: "type"}, {Key: "event"}, {Key: "challenge"}}
	if err := jsonscan.Members(req.Body, ms[:]); err != nil {
		return d, bodyJSONError("slack", err)
	}
	d.ID, d.Type = ms[0].Value, ms[1].Value
	switch d.Type {
	case "event_callback":
		t, err := bodyField("slack", ms[2].Raw, "type")
		if err != nil {
			return d, err
		}
		if t != "" {
			d.Type = t
		}
	case "url_verification":
		if c := ms[3]; c.Found && c.Raw == nil {
			d.Reply = &verify.Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(c.Value)}
		}
	}
	if d.ID == "" && d.Reply == nil && d.Digest == ([32]byte{}) {
		d.Digest = slackScheme.digest(s.mac, d.SecretIndex, req)
	}
	return d, nil
}

// ReadsURL returns false: Slack signs the timestamp and body only, so a
// hookguard receiver need not build the request URL for it (see
// hookguard.URLReader).
func (*slack) ReadsURL() bool { return false }

// Sign returns the headers Slack would send with o: X-Slack-Request-Timestamp,
// X-Slack-Signature under the first secret, and Content-Type.
func (s *slack) Sign(o Outgoing) (http.Header, error) {
	return slackScheme.sign(s.mac, o), nil
}

// slackScheme is Slack's request signing.
var slackScheme = &v0Scheme{
	name:      "slack",
	sigHeader: slackSignatureHeader,
	tsHeader:  slackTimestampHeader,
	sigName:   "X-Slack-Signature",
	tsName:    "X-Slack-Request-Timestamp",
	hint:      "is this request URL registered with your Slack app?",
	unusable:  "X-Slack-Signature has no usable v0= signature (64 hex digits)",
	mismatch:  "X-Slack-Signature does not match any configured secret: check the app's signing secret, and that nothing re-encoded the body",
}

// v0Scheme is the request signing Slack defined and Zoom follows: the
// signature header carries "v0=" and the hex HMAC-SHA256 of "v0:" +
// timestamp + ":" + body, the timestamp header a Unix time in seconds.
// The fields name the headers and phrase the errors for one sender.
type v0Scheme struct {
	name            string
	sigHeader       string // canonical forms
	tsHeader        string
	sigName, tsName string // the header names as the errors write them
	hint            string // what to check when the signature header is missing
	unusable        string // reason: no v0= entry that decodes
	mismatch        string // reason: no signature matches
}

// verify checks req's signature against its timestamp and body, and the
// timestamp against the window around now, setting d.Timestamp and
// d.SecretIndex, and *digest when digest is not nil (see macDigest). With
// insecure it checks nothing and reports the timestamp when it parses.
func (v *v0Scheme) verify(mac *verify.HMAC, tm timing, insecure bool, req verify.Request, now time.Time, d *verify.Delivery, digest *[32]byte) error {
	name := v.name
	ts, tsPresent, tsSingle := single(req.Header, v.tsHeader)
	if insecure {
		d.SecretIndex = -1
		d.Timestamp = lenientUnixTime(ts, tsSingle)
		return nil
	}
	vals := header(req.Header, v.sigHeader)
	if err := checkSigValues(name, vals, v.sigName, v.hint); err != nil {
		return err
	}
	t, err := unixHeaderTime(name, v.tsName, ts, tsPresent, tsSingle)
	if err != nil {
		return err
	}
	d.Timestamp = t
	var sigs verify.Signatures
	if !parsePrefixedHex(vals, "v0=", 32, &sigs) {
		return verify.Fail(name, verify.ErrMalformedSignature, v.sigName+" has too many signatures")
	}
	if sigs.Len() == 0 {
		return verify.Fail(name, verify.ErrMalformedSignature, v.unusable)
	}
	if err := tm.checkTime(name, v.tsName, t, now); err != nil {
		return err
	}
	m := verify.Message{Prefix: [4]string{"v0:", ts, ":"}, Body: req.Body}
	i, err := mac.Match(&m, &sigs, digest)
	if err != nil {
		return verify.Fail(name, verify.ErrSignatureMismatch, v.mismatch)
	}
	d.SecretIndex = i
	return nil
}

// digest returns the Digest of req's signed content, "v0:" + timestamp +
// ":" + body, under secret i: the SHA-256 of its MAC, or of the body when
// i is negative (nothing was verified).
func (v *v0Scheme) digest(mac *verify.HMAC, i int, req verify.Request) [32]byte {
	ts, _, _ := single(req.Header, v.tsHeader)
	m := verify.Message{Prefix: [4]string{"v0:", ts, ":"}, Body: req.Body}
	return macDigest(mac, i, &m, nil)
}

// sign returns the headers the sender sends with o: the timestamp, the
// signature under the first secret, and Content-Type.
func (v *v0Scheme) sign(mac *verify.HMAC, o Outgoing) http.Header {
	ts := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{"v0:", ts, ":"}, Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(v.tsHeader, ts)
	h.Set(v.sigHeader, string(verify.Hex.AppendEncode([]byte("v0="), mac.AppendSum(nil, 0, &m))))
	return h
}
