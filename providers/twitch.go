package providers

import (
	"net/http"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// Header names of Twitch EventSub, in canonical form.
const (
	twitchIDHeader        = "Twitch-Eventsub-Message-Id"
	twitchTimestampHeader = "Twitch-Eventsub-Message-Timestamp"
	twitchSignatureHeader = "Twitch-Eventsub-Message-Signature"
	twitchTypeHeader      = "Twitch-Eventsub-Message-Type"
	twitchSubTypeHeader   = "Twitch-Eventsub-Subscription-Type"
)

// twitchDefaultPast is how old a Twitch message may be by default: Twitch
// tells receivers to reject messages older than ten minutes.
const twitchDefaultPast = 10 * time.Minute

// maxTwitchTimestamp bounds the RFC 3339 timestamp header.
const maxTwitchTimestamp = 64

// twitch implements the Twitch preset behind a [Preset]; see [NewTwitch].
type twitch struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var _ Provider = (*twitch)(nil)

// NewTwitch returns a Twitch EventSub verifier for the subscription
// secret.
//
// The preset verifies Twitch EventSub webhook messages:
// Twitch-Eventsub-Message-Signature is "sha256=" and the hex HMAC-SHA256
// of message ID + timestamp + body, keyed with the secret given when the
// subscription was created. The timestamp is RFC 3339 with nanoseconds;
// by default it may lie up to ten minutes in the past (Twitch's own
// advice) and five minutes in the future (see [WithTolerance]).
//
// Handshake: a verified webhook_callback_verification message is answered
// with its raw "challenge" as text/plain, which activates the
// subscription. notification and revocation messages are events.
//
// The event ID is Twitch-Eventsub-Message-Id (the same on every retry) and
// the type Twitch-Eventsub-Subscription-Type, for example
// "channel.follow"; a revocation's type is "revocation".
func NewTwitch(secret string, opts ...Option) (*Preset, error) {
	return wrap(newTwitch(secret, opts...))
}

func newTwitch(secret string, opts ...Option) (*twitch, error) {
	const name = "twitch"
	c, mac, err := newHMACPreset(name, secret, opts, 0)
	if err != nil {
		return nil, err
	}
	if c.window == (verify.Window{}) {
		c.window = verify.Window{Past: twitchDefaultPast, Future: verify.DefaultTolerance}
	}
	return &twitch{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "twitch".
func (*twitch) Name() string { return "twitch" }

// Info describes the Twitch preset.
func (*twitch) Info() Info {
	return Info{
		Name:            "twitch",
		Title:           "Twitch EventSub",
		SignatureHeader: twitchSignatureHeader,
		Algorithm:       "HMAC-SHA256 (hex, sha256= prefix)",
		Timestamped:     true,
		IDSource:        "Twitch-Eventsub-Message-Id header",
		TypeSource:      "Twitch-Eventsub-Subscription-Type header",
		Handshake:       "webhook_callback_verification answered with the challenge",
	}
}

// parseTwitchTime parses an RFC 3339 timestamp of bounded length.
func parseTwitchTime(s string) (time.Time, bool) {
	if s == "" || len(s) > maxTwitchTimestamp {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// Verify checks req's signature against the message ID, timestamp and
// body, the timestamp against the window around now, and answers the
// callback verification.
func (tw *twitch) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "twitch"
	d := verify.Delivery{Provider: name}
	id, idPresent, idSingle := single(req.Header, twitchIDHeader)
	ts, tsPresent, tsSingle := single(req.Header, twitchTimestampHeader)
	if tw.insecure {
		d.SecretIndex = -1
		if t, ok := parseTwitchTime(ts); ok && tsSingle {
			d.Timestamp = t
		}
	} else {
		vals := header(req.Header, twitchSignatureHeader)
		if err := checkSigValues(name, vals, "Twitch-Eventsub-Message-Signature", "is this the callback of an EventSub webhook subscription?"); err != nil {
			return d, err
		}
		if !idPresent || id == "" || !idSingle {
			return d, verify.Fail(name, verify.ErrMissingHeader, "no single Twitch-Eventsub-Message-Id header: it is part of the signed content")
		}
		if !tsPresent {
			return d, verify.Fail(name, verify.ErrMissingTimestamp, "no Twitch-Eventsub-Message-Timestamp header")
		}
		t, ok := parseTwitchTime(ts)
		if !ok || !tsSingle {
			return d, verify.Fail(name, verify.ErrMalformedTimestamp, "Twitch-Eventsub-Message-Timestamp must be one RFC 3339 time")
		}
		d.Timestamp = t
		var sigs verify.Signatures
		if !parsePrefixedHex(vals, "sha256=", 32, &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "Twitch-Eventsub-Message-Signature has too many signatures")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "Twitch-Eventsub-Message-Signature must be sha256= followed by the hex HMAC")
		}
		if err := tw.timing.checkTime(name, "Twitch-Eventsub-Message-Timestamp", t, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{id, ts}, Body: req.Body}
		i, err := tw.mac.Match(&m, &sigs, nil)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "Twitch-Eventsub-Message-Signature does not match any configured secret: check the subscription secret, and that nothing re-encoded the body")
		}
		d.SecretIndex = i
	}
	d.ID = id
	if id == "" { // unverified: InsecureSkipVerification
		d.Digest = signedDigest(d.SecretIndex, &verify.Message{Body: req.Body})
	}
	d.Type = first(req.Header, twitchSubTypeHeader)
	switch first(req.Header, twitchTypeHeader) {
	case "webhook_callback_verification":
		c, ok := jsonscan.Field(req.Body, "challenge")
		if !ok || c == "" || len(c) > maxChallenge {
			return d, verify.Fail(name, verify.ErrMissingHeader, "webhook_callback_verification has no challenge")
		}
		d.Type = "webhook_callback_verification"
		d.Reply = replyText(c)
	case "revocation":
		d.Type = "revocation"
	}
	return d, nil
}

// Sign returns the headers Twitch would send with o: the message ID (o.ID
// or a random UUID), the timestamp, Twitch-Eventsub-Message-Type (see
// [twitchMessageType]), the subscription type (o.Type, when set), the
// signature under the first secret, and Content-Type.
func (tw *twitch) Sign(o Outgoing) (http.Header, error) {
	id := o.ID
	if id == "" {
		id = uuid()
	}
	ts := outgoingTime(o).UTC().Format(time.RFC3339Nano)
	m := verify.Message{Prefix: [4]string{id, ts}, Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(twitchIDHeader, id)
	h.Set(twitchTimestampHeader, ts)
	h.Set(twitchTypeHeader, twitchMessageType(o.Body))
	if o.Type != "" {
		h.Set(twitchSubTypeHeader, o.Type)
	}
	h.Set(twitchSignatureHeader, string(verify.Hex.AppendEncode([]byte("sha256="), tw.mac.AppendSum(nil, 0, &m))))
	return h, nil
}

// twitchMessageType returns the message type Twitch sends with body: a
// body with a "challenge" is a webhook_callback_verification, one with an
// "event" a notification, and one with only a "subscription" a
// revocation.
func twitchMessageType(body []byte) string {
	if _, ok := jsonscan.Field(body, "challenge"); ok {
		return "webhook_callback_verification"
	}
	hasEvent := false
	for _, k := range topLevelKeys(body, 8) {
		hasEvent = hasEvent || k == "event"
	}
	if _, ok := jsonscan.Field(body, "subscription", "status"); ok && !hasEvent {
		return "revocation"
	}
	return "notification"
}
