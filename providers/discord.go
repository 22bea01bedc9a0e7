package providers

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the Discord scheme, in canonical form.
const (
	discordSignatureHeader = "X-Signature-Ed25519"
	discordTimestampHeader = "X-Signature-Timestamp"
)

// discord implements the Discord preset behind a [Preset]; see [NewDiscord].
type discord struct {
	ed       *verify.Ed25519
	priv     ed25519.PrivateKey // nil: verify only
	timing   timing
	insecure bool
}

var _ Provider = (*discord)(nil)

// NewDiscord returns a Discord verifier. key is either the application's
// public key as the Developer Portal shows it (64 hex digits; verify only,
// Sign returns [ErrCannotSign]) or an Ed25519 private key as 128 hex
// digits (seed followed by public key, as Go's ed25519.PrivateKey holds
// it), which also signs. Keys added with [WithSecret] are public keys
// tried after the first, for a key rotation.
//
// The preset verifies Discord HTTP interactions and webhook events: an
// Ed25519 signature of X-Signature-Timestamp + body under the
// application's public key, sent hex-encoded in X-Signature-Ed25519.
// Discord documents no replay window; the preset applies the usual one
// (five minutes each way, see [WithTolerance]) to X-Signature-Timestamp,
// a Unix time in seconds.
//
// Handshakes: a verified interaction PING ("type": 1) is answered at once
// with the PONG {"type":1}, and a webhook-event PING ("type": 0) with 204,
// as Discord requires when the endpoint URL is saved. Discord also sends
// deliberately invalid signatures and removes the URL if one is accepted;
// those fail with 401.
//
// The event ID is the interaction's "id"; webhook events carry none, so
// their ID is a SHA-256 of the body. The type is the interaction type by
// name (APPLICATION_COMMAND, MESSAGE_COMPONENT, ...) or the webhook event's
// "event.type".
//
// Discord expects the answer to an interaction other than PING (a command,
// a button) within three seconds, in the body of the response: a
// [hookguard.Receiver] answers "accepted" and runs the handler later, so
// serve interactions through the middleware, whose handler runs before the
// answer.
func NewDiscord(key string, opts ...Option) (*Preset, error) {
	return wrap(newDiscord(key, opts...))
}

func newDiscord(key string, opts ...Option) (*discord, error) {
	const name = "discord"
	c, err := newPresetConfig(name, key, opts, 0)
	if err != nil {
		return nil, err
	}
	d := &discord{timing: newTiming(c), insecure: c.insecure}
	pubs := make([]ed25519.PublicKey, 0, len(c.secrets))
	for i, s := range c.secrets {
		s = strings.TrimSpace(s)
		raw, err := hex.DecodeString(s)
		switch {
		case err == nil && len(raw) == ed25519.PublicKeySize:
			pubs = append(pubs, ed25519.PublicKey(raw))
		case err == nil && len(raw) == ed25519.PrivateKeySize && i == 0:
			priv, err := keys.ParseEd25519PrivateKey(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			d.priv = priv
			pubs = append(pubs, priv.Public().(ed25519.PublicKey))
		default:
			return nil, fmt.Errorf("%s: %w: key #%d must be the application's public key as 64 hex digits (or, for the first key, a private key as 128 hex digits)", name, verify.ErrInvalidSecret, i)
		}
	}
	if d.ed, err = verify.NewEd25519(pubs...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// discordTestKey returns a fresh private key in the form NewDiscord takes.
func discordTestKey() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(priv), nil
}

// Name returns "discord".
func (*discord) Name() string { return "discord" }

// Info describes the Discord preset.
func (*discord) Info() Info {
	return Info{
		Name:            "discord",
		Title:           "Discord",
		SignatureHeader: discordSignatureHeader,
		Algorithm:       "Ed25519 (hex)",
		Timestamped:     true,
		IDSource:        `body "id" (interactions); SHA-256 of the body (webhook events)`,
		TypeSource:      `interaction "type" by name; "event.type" for webhook events`,
		Handshake:       `PING answered with {"type":1} (interactions) or 204 (webhook events)`,
	}
}

// discordInteractionTypes names Discord's interaction types.
var discordInteractionTypes = map[string]string{
	"1": "PING",
	"2": "APPLICATION_COMMAND",
	"3": "MESSAGE_COMPONENT",
	"4": "APPLICATION_COMMAND_AUTOCOMPLETE",
	"5": "MODAL_SUBMIT",
}

// Verify checks req's X-Signature-Ed25519 against X-Signature-Timestamp and
// the body, the timestamp against the window around now, and answers PINGs.
func (p *discord) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "discord"
	d := verify.Delivery{Provider: name}
	ts, tsPresent, tsSingle := single(req.Header, discordTimestampHeader)
	if p.insecure {
		d.SecretIndex = -1
		d.Timestamp = lenientUnixTime(ts, tsSingle)
	} else {
		vals := header(req.Header, discordSignatureHeader)
		if len(vals) == 0 {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Signature-Ed25519 header: is this the Interactions Endpoint URL of your Discord application?")
		}
		if tooLong(vals) || len(vals) > verify.MaxSignatures {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Signature-Ed25519 header is too long")
		}
		t, err := unixHeaderTime(name, "X-Signature-Timestamp", ts, tsPresent, tsSingle)
		if err != nil {
			return d, err
		}
		d.Timestamp = t
		var sigs verify.Signatures
		for _, v := range vals {
			addSig(&sigs, verify.Hex, trimOWS(v), ed25519.SignatureSize)
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Signature-Ed25519 must be 128 hex digits")
		}
		if err := p.timing.checkTime(name, "X-Signature-Timestamp", t, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{ts}, Body: req.Body}
		i, err := p.ed.Match(&m, &sigs)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Signature-Ed25519 does not verify under the application's public key: check the key, and that nothing re-encoded the body")
		}
		d.SecretIndex = i
	}
	typ, err := bodyField(name, req.Body, "type")
	if err != nil {
		return d, err
	}
	evType, isEvent, err := jsonscan.Find(req.Body, "event", "type")
	if err != nil {
		return d, bodyJSONError(name, err)
	}
	switch {
	case typ == "0":
		// Webhook events PING: acknowledge with 204 and no body.
		d.Type = "PING"
		d.Reply = &verify.Reply{Status: http.StatusNoContent}
	case isEvent:
		d.ID = bodyID(req.Body)
		d.Type = evType
	case typ == "1":
		if d.ID, err = bodyField(name, req.Body, "id"); err != nil {
			return d, err
		}
		d.Type = "PING"
		d.Reply = replyJSON([]byte(`{"type":1}`))
	default:
		if d.ID, err = bodyField(name, req.Body, "id"); err != nil {
			return d, err
		}
		d.Type = discordInteractionTypes[typ]
		if d.Type == "" {
			d.Type = typ
		}
	}
	if d.ID == "" && d.Reply == nil {
		// Fingerprint the signed content, timestamp and body.
		d.Digest = signedDigest(d.SecretIndex, &verify.Message{Prefix: [4]string{ts}, Body: req.Body})
	}
	return d, nil
}

// Sign returns the headers Discord would send with o: X-Signature-Timestamp,
// X-Signature-Ed25519 under the private key, and Content-Type. It returns
// an error wrapping [ErrCannotSign] for a verifier built from a public key.
func (p *discord) Sign(o Outgoing) (http.Header, error) {
	if p.priv == nil {
		return nil, fmt.Errorf("discord: %w: a public key only verifies; sign with an Ed25519 private key (128 hex digits)", ErrCannotSign)
	}
	ts := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{ts}, Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(discordTimestampHeader, ts)
	h.Set(discordSignatureHeader, hex.EncodeToString(keys.SignEd25519(p.priv, &m)))
	return h, nil
}
