package providers

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// dropboxSignatureHeader is the canonical form of X-Dropbox-Signature.
const dropboxSignatureHeader = "X-Dropbox-Signature"

// dropbox implements the Dropbox preset behind a [Preset]; see [NewDropbox].
type dropbox struct {
	mac      *verify.HMAC
	insecure bool
}

var _ Provider = (*dropbox)(nil)

// NewDropbox returns a Dropbox verifier for the app secret.
//
// The preset verifies Dropbox webhook notifications: X-Dropbox-Signature is
// the hex HMAC-SHA256 of the body, keyed with the app secret.
//
// Handshake: when the webhook URI is added, Dropbox sends
// GET ?challenge=...; it is answered with the challenge as text/plain
// (with X-Content-Type-Options: nosniff, which the receiver always sets).
// The GET is not signed, and echoing the challenge proves only that the
// endpoint exists.
//
// A notification lists only the accounts whose files changed; it has no
// event ID and no timestamp, so [verify.Delivery.Replayable] is true and
// dedupe relies on [verify.Delivery.Digest].
func NewDropbox(appSecret string, opts ...Option) (*Preset, error) {
	return wrap(newDropbox(appSecret, opts...))
}

func newDropbox(appSecret string, opts ...Option) (*dropbox, error) {
	const name = "dropbox"
	c, mac, err := newHMACPreset(name, appSecret, opts, 0)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming(name); err != nil {
		return nil, err
	}
	return &dropbox{mac: mac, insecure: c.insecure}, nil
}

// Name returns "dropbox".
func (*dropbox) Name() string { return "dropbox" }

// Methods returns GET and POST: Dropbox verifies the webhook URI by GET.
func (*dropbox) Methods() []string { return []string{http.MethodGet, http.MethodPost} }

// Info describes the Dropbox preset.
func (*dropbox) Info() Info {
	return Info{
		Name:            "dropbox",
		Title:           "Dropbox",
		SignatureHeader: dropboxSignatureHeader,
		Algorithm:       "HMAC-SHA256 (hex)",
		IDSource:        "none (notifications list changed accounts); dedupe by content",
		TypeSource:      `"list_folder", "team" or "delta": the body's first known top-level key`,
		Handshake:       "GET ?challenge= echoed as text/plain",
	}
}

// Verify answers the GET challenge, or checks a POST's X-Dropbox-Signature
// against the body. now is unused: Dropbox signs no timestamp.
func (p *dropbox) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "dropbox"
	d := verify.Delivery{Provider: name}
	if req.Method == http.MethodGet {
		u, err := url.Parse(req.URL)
		if err != nil {
			return d, verify.Fail(name, verify.ErrMissingHeader, "the request URL does not parse")
		}
		c := u.Query().Get("challenge")
		if c == "" || len(c) > maxChallenge {
			return d, verify.Fail(name, verify.ErrMissingHeader, "a GET must be Dropbox's verification request with a challenge parameter")
		}
		d.Type = "challenge"
		d.Reply = replyText(c)
		return d, nil
	}
	d.Replayable = true
	if p.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
		d.Type = dropboxType(req.Body)
		return d, nil
	}
	sig, present, ok := single(req.Header, dropboxSignatureHeader)
	if !present {
		return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Dropbox-Signature header: is this the webhook URI of your Dropbox app?")
	}
	var sigs verify.Signatures
	if !ok || !addSig(&sigs, verify.Hex, sig, 32) {
		return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Dropbox-Signature must be one hex HMAC-SHA256 (64 hex digits)")
	}
	i, err := p.mac.Match(&verify.Message{Body: req.Body}, &sigs, &d.Digest)
	if err != nil {
		return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Dropbox-Signature does not match any configured app secret: check the app secret, and that nothing re-encoded the body")
	}
	d.SecretIndex = i
	d.Type = dropboxType(req.Body)
	return d, nil
}

// dropboxType names a verified notification by the first of its top-level
// keys that Dropbox documents: list_folder (user apps), team (team apps),
// or delta (the v1 form).
func dropboxType(body []byte) string {
	keys := topLevelKeys(body, 8)
	for _, want := range []string{"list_folder", "team", "delta"} {
		for _, k := range keys {
			if k == want {
				return want
			}
		}
	}
	return ""
}

// Sign returns the headers Dropbox would send with o: X-Dropbox-Signature
// under the first secret and Content-Type.
func (p *dropbox) Sign(o Outgoing) (http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(dropboxSignatureHeader, string(verify.Hex.AppendEncode(nil, p.mac.AppendSum(nil, 0, &verify.Message{Body: o.Body}))))
	return h, nil
}
