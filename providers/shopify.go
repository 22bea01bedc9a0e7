package providers

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Header names of the Shopify scheme, in canonical form.
const (
	shopifyHmacHeader      = "X-Shopify-Hmac-Sha256"
	shopifyEventsHmac      = "Shopify-Hmac-Sha256" // Shopify "Events" deliveries
	shopifyEventIDHeader   = "X-Shopify-Event-Id"
	shopifyWebhookIDHeader = "X-Shopify-Webhook-Id"
	shopifyTopicHeader     = "X-Shopify-Topic"
)

// shopify implements the Shopify preset behind a [Preset]; see [NewShopify].
type shopify struct {
	mac      *verify.HMAC
	insecure bool
}

var _ Provider = (*shopify)(nil)

// NewShopify returns a Shopify verifier for the app's client secret. After
// rotating the client secret, pass the old one with [WithSecret]: Shopify
// may sign with it for up to an hour. [WithTolerance] and
// [WithoutTimestampCheck] have no effect: Shopify signs no timestamp.
//
// The preset verifies Shopify webhook deliveries: HMAC-SHA256 of the raw body
// under the app's client secret, base64-encoded in X-Shopify-Hmac-Sha256
// (Shopify-Hmac-Sha256 is accepted too).
//
// The event ID is X-Shopify-Event-Id, or X-Shopify-Webhook-Id when that is
// absent; the type is X-Shopify-Topic. None of these headers is signed and
// Shopify signs no timestamp, so [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] fingerprints the signed body for dedupe.
func NewShopify(secret string, opts ...Option) (*Preset, error) {
	return wrap(newShopify(secret, opts...))
}

func newShopify(secret string, opts ...Option) (*shopify, error) {
	c, err := newConfig("shopify", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming("shopify"); err != nil {
		return nil, err
	}
	if err := c.rejectLegacy("shopify"); err != nil {
		return nil, err
	}
	mac, err := hmacSecrets("shopify", c.secrets)
	if err != nil {
		return nil, err
	}
	return &shopify{mac: mac, insecure: c.insecure}, nil
}

// Name returns "shopify".
func (*shopify) Name() string { return "shopify" }

// Info describes the Shopify preset.
func (*shopify) Info() Info {
	return Info{
		Name:            "shopify",
		Title:           "Shopify",
		SignatureHeader: "X-Shopify-Hmac-Sha256",
		Algorithm:       "HMAC-SHA256 (base64)",
		IDSource:        "X-Shopify-Event-Id header, else X-Shopify-Webhook-Id",
		TypeSource:      "X-Shopify-Topic header",
	}
}

// parseBase64Values adds every value (whitespace trimmed) that decodes from
// base64 to size bytes. It reports false when there are more than
// verify.MaxSignatures values.
func parseBase64Values(vals []string, size int, sigs *verify.Signatures) bool {
	for _, v := range vals {
		if sigs.Full() {
			return false
		}
		addSig(sigs, verify.Base64, trimOWS(v), size)
	}
	return true
}

// Verify checks req's X-Shopify-Hmac-Sha256 against the body. now is
// unused: Shopify signs no timestamp.
func (s *shopify) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "shopify"
	d := verify.Delivery{Provider: name, Replayable: true}
	if s.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		vals := header(req.Header, shopifyHmacHeader)
		if len(vals) == 0 {
			vals = header(req.Header, shopifyEventsHmac)
		}
		if err := checkSigValues(name, vals, "X-Shopify-Hmac-Sha256", "is this an HTTPS webhook subscription of your app?"); err != nil {
			return d, err
		}
		var sigs verify.Signatures
		if !parseBase64Values(vals, 32, &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Shopify-Hmac-Sha256 has too many values")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Shopify-Hmac-Sha256 must be the base64 of a 32-byte HMAC")
		}
		m := verify.Message{Body: req.Body}
		i, err := s.mac.Match(&m, &sigs, &d.Digest)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Shopify-Hmac-Sha256 does not match any configured secret: check the app's client secret, and that nothing re-encoded the body")
		}
		d.SecretIndex = i
	}
	d.ID = first(req.Header, shopifyEventIDHeader)
	if d.ID == "" {
		d.ID = first(req.Header, shopifyWebhookIDHeader)
	}
	d.Type = first(req.Header, shopifyTopicHeader)
	return d, nil
}

// Sign returns the headers Shopify would send with o: X-Shopify-Topic
// (o.Type, when set), X-Shopify-Event-Id and X-Shopify-Webhook-Id (o.ID,
// or a random one), X-Shopify-Triggered-At (o.Timestamp, RFC 3339),
// X-Shopify-Shop-Domain, X-Shopify-Hmac-Sha256 under the first secret and
// Content-Type.
func (s *shopify) Sign(o Outgoing) (http.Header, error) {
	m := verify.Message{Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	if o.Type != "" {
		h.Set(shopifyTopicHeader, o.Type)
	}
	id := o.ID
	if id == "" {
		id = uuid()
	}
	h.Set(shopifyEventIDHeader, id)
	h.Set(shopifyWebhookIDHeader, id)
	h.Set("X-Shopify-Triggered-At", outgoingTime(o).UTC().Format(time.RFC3339Nano))
	h.Set("X-Shopify-Shop-Domain", "example.myshopify.com")
	h.Set(shopifyHmacHeader, string(verify.Base64.AppendEncode(nil, s.mac.AppendSum(nil, 0, &m))))
	return h, nil
}
