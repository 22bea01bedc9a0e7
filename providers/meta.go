package providers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// meta implements the Meta preset behind a [Preset]; see [NewMeta].
type meta struct {
	name     string
	mac      *verify.HMAC
	token    *[32]byte // SHA-256 of the verify token; nil: no GET verification
	insecure bool
}

var _ Provider = (*meta)(nil)

// NewMeta returns a verifier for the app secret (App Dashboard, Settings,
// Basic), named "meta". [WithVerifyToken] enables the GET verification.
//
// The preset verifies webhooks from Meta's Graph API platform (Facebook pages,
// Messenger, Instagram, WhatsApp Cloud API): X-Hub-Signature-256 is
// "sha256=" and the hex HMAC-SHA256 of the body, keyed with the app
// secret. The presets "meta", "whatsapp" and "instagram" are the same
// scheme under three names.
//
// Handshake: when a callback URL is registered, Meta sends
// GET ?hub.mode=subscribe&hub.challenge=...&hub.verify_token=...; it is
// answered with the challenge when hub.verify_token equals the token given
// with [WithVerifyToken] (compared in constant time), and refused with 401
// otherwise, or when no token was configured. The GET is not signed.
//
// Meta signs no timestamp and sends no delivery ID:
// [verify.Delivery.Replayable] is true and dedupe relies on
// [verify.Delivery.Digest]. The event IDs are inside the body (for
// example WhatsApp's entry[].changes[].value.messages[].id). The type is
// the body's "object" (page, instagram, whatsapp_business_account, ...).
func NewMeta(appSecret string, opts ...Option) (*Preset, error) {
	return wrap(newMeta("meta", appSecret, opts))
}

// NewWhatsApp is [NewMeta] under the name "whatsapp".
func NewWhatsApp(appSecret string, opts ...Option) (*Preset, error) {
	return wrap(newMeta("whatsapp", appSecret, opts))
}

// NewInstagram is [NewMeta] under the name "instagram".
func NewInstagram(appSecret string, opts ...Option) (*Preset, error) {
	return wrap(newMeta("instagram", appSecret, opts))
}

func newMeta(name, secret string, opts []Option) (*meta, error) {
	c, mac, err := newHMACPreset(name, secret, opts, optVerifyToken)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming(name); err != nil {
		return nil, err
	}
	m := &meta{name: name, mac: mac, insecure: c.insecure}
	if c.asym.verifyToken != "" {
		sum := sha256.Sum256([]byte(c.asym.verifyToken))
		m.token = &sum
	}
	return m, nil
}

// Name returns "meta", "whatsapp" or "instagram".
func (m *meta) Name() string { return m.name }

// Methods returns GET and POST: Meta verifies a callback URL by GET.
func (*meta) Methods() []string { return []string{http.MethodGet, http.MethodPost} }

// Info describes the preset.
func (m *meta) Info() Info {
	title := map[string]string{"meta": "Meta (Facebook, Messenger)", "whatsapp": "WhatsApp Cloud API", "instagram": "Instagram"}[m.name]
	return Info{
		Name:            m.name,
		Title:           title,
		SignatureHeader: githubSignature256Header,
		Algorithm:       "HMAC-SHA256 (hex, sha256= prefix)",
		IDSource:        "none (IDs are inside the body); dedupe by content",
		TypeSource:      `body "object"`,
		Handshake:       "GET hub.mode=subscribe answered with hub.challenge when hub.verify_token matches",
	}
}

// Verify answers the GET subscription request, or checks a POST's
// X-Hub-Signature-256 against the body. now is unused: Meta signs no
// timestamp.
func (m *meta) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	name := m.name
	d := verify.Delivery{Provider: name}
	if req.Method == http.MethodGet {
		return m.subscribe(req, d)
	}
	d.Replayable = true
	if m.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		vals := header(req.Header, githubSignature256Header)
		if err := checkSigValues(name, vals, "X-Hub-Signature-256", "is this the callback URL of your Meta app?"); err != nil {
			return d, err
		}
		var sigs verify.Signatures
		if !parsePrefixedHex(vals, "sha256=", 32, &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Hub-Signature-256 has too many signatures")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Hub-Signature-256 must be sha256= followed by the hex HMAC")
		}
		i, err := m.mac.Match(&verify.Message{Body: req.Body}, &sigs, &d.Digest)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Hub-Signature-256 does not match any configured app secret: check the app secret, and that nothing re-encoded the body")
		}
		d.SecretIndex = i
	}
	var err error
	if d.Type, err = bodyField(name, req.Body, "object"); err != nil {
		return d, err
	}
	return d, nil
}

// subscribe answers Meta's GET verification request.
func (m *meta) subscribe(req verify.Request, d verify.Delivery) (verify.Delivery, error) {
	name := m.name
	u, err := url.Parse(req.URL)
	if err != nil {
		return d, verify.Fail(name, verify.ErrMissingHeader, "the request URL does not parse")
	}
	q := u.Query()
	mode, challenge, token := q.Get("hub.mode"), q.Get("hub.challenge"), q.Get("hub.verify_token")
	if mode != "subscribe" {
		return d, verify.Fail(name, verify.ErrMissingHeader, "a GET must be Meta's verification request with hub.mode=subscribe")
	}
	if challenge == "" || len(challenge) > maxChallenge {
		return d, verify.Fail(name, verify.ErrMissingHeader, "the verification request has no usable hub.challenge")
	}
	d.Type = "subscribe"
	if m.insecure {
		d.SecretIndex = -1
	} else {
		if m.token == nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "no verify token is configured: pass the callback's verify token with providers.WithVerifyToken")
		}
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], m.token[:]) != 1 {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "hub.verify_token does not match the configured verify token")
		}
	}
	d.Reply = replyText(challenge)
	return d, nil
}

// Sign returns the headers Meta would send with o: X-Hub-Signature-256
// under the first secret and Content-Type.
func (m *meta) Sign(o Outgoing) (http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(githubSignature256Header, string(verify.Hex.AppendEncode([]byte("sha256="), m.mac.AppendSum(nil, 0, &verify.Message{Body: o.Body}))))
	return h, nil
}
