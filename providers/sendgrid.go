package providers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the SendGrid Event Webhook scheme, in canonical form.
const (
	sendgridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// sendgrid implements the SendGrid preset behind a [Preset]; see [NewSendGrid].
type sendgrid struct {
	ec       *verify.ECDSAP256
	priv     *ecdsa.PrivateKey // nil: verify only
	timing   timing
	insecure bool
}

var _ Provider = (*sendgrid)(nil)

// NewSendGrid returns a SendGrid verifier. key is either the verification
// key as the SendGrid console shows it (base64 of the DER
// SubjectPublicKeyInfo, "MFkw..."; verify only, Sign returns
// [ErrCannotSign]) or a P-256 private key as base64 DER (PKCS #8 or SEC 1)
// or PEM, which also signs. Keys added with [WithSecret] are public keys
// tried after the first.
//
// The preset verifies signed SendGrid Event Webhook deliveries: an ECDSA
// P-256 signature (SHA-256, ASN.1 DER, base64) of
// X-Twilio-Email-Event-Webhook-Timestamp + body, under the public key that
// the SendGrid console shows once signing is enabled. The signed bytes are
// the body exactly as received, including its trailing CRLF.
//
// SendGrid documents no replay window; the preset applies the usual one
// (five minutes each way, see [WithTolerance]) to the timestamp, a Unix
// time in seconds.
//
// A delivery is a JSON array of events. The event ID is the first event's
// "sg_event_id" and the type its "event" (delivered, open, bounce, ...);
// handlers should iterate the whole batch. A batch without an
// sg_event_id gets a [verify.Delivery.Digest] of the signed timestamp and
// body (never of the signature, which ECDSA lets a relay rewrite).
func NewSendGrid(key string, opts ...Option) (*Preset, error) {
	return wrap(newSendGrid(key, opts...))
}

func newSendGrid(key string, opts ...Option) (*sendgrid, error) {
	const name = "sendgrid"
	c, err := newPresetConfig(name, key, opts, 0)
	if err != nil {
		return nil, err
	}
	s := &sendgrid{timing: newTiming(c), insecure: c.insecure}
	pubs, priv, err := p256Keys(name, c.secrets)
	if err != nil {
		return nil, err
	}
	s.priv = priv
	if s.ec, err = verify.NewECDSAP256(pubs...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// p256Keys parses the first secret as a public or private key and the
// others as public keys.
func p256Keys(name string, secrets []string) ([]*ecdsa.PublicKey, *ecdsa.PrivateKey, error) {
	var priv *ecdsa.PrivateKey
	pubs := make([]*ecdsa.PublicKey, 0, len(secrets))
	for i, s := range secrets {
		pub, k, err := parseP256Key(s, i == 0)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: key #%d: %w", name, i, err)
		}
		if k != nil {
			priv = k
		}
		pubs = append(pubs, pub)
	}
	return pubs, priv, nil
}

// p256TestKey returns a fresh private key as base64 PKCS #8 DER.
func p256TestKey() (string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	return keys.MarshalP256PrivateKey(k)
}

// Name returns "sendgrid".
func (*sendgrid) Name() string { return "sendgrid" }

// Info describes the SendGrid preset.
func (*sendgrid) Info() Info {
	return Info{
		Name:            "sendgrid",
		Title:           "SendGrid Event Webhook",
		SignatureHeader: sendgridSignatureHeader,
		Algorithm:       "ECDSA P-256 SHA-256 (base64 DER)",
		Timestamped:     true,
		IDSource:        `first event's "sg_event_id"`,
		TypeSource:      `first event's "event"`,
	}
}

// Verify checks req's signature against the timestamp header and the body,
// and the timestamp against the window around now.
func (s *sendgrid) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "sendgrid"
	d := verify.Delivery{Provider: name}
	ts, tsPresent, tsSingle := single(req.Header, sendgridTimestampHeader)
	if s.insecure {
		d.SecretIndex = -1
		d.Timestamp = lenientUnixTime(ts, tsSingle)
	} else {
		sig, present, ok := single(req.Header, sendgridSignatureHeader)
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Twilio-Email-Event-Webhook-Signature header: enable Signed Event Webhook Requests in the SendGrid Mail Settings")
		}
		if !ok || len(sig) > 2*keys.MaxDERSignatureSize {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Twilio-Email-Event-Webhook-Signature must be one base64 DER signature")
		}
		t, err := unixHeaderTime(name, "X-Twilio-Email-Event-Webhook-Timestamp", ts, tsPresent, tsSingle)
		if err != nil {
			return d, err
		}
		d.Timestamp = t
		der, ok := decodeDERSignature(sig)
		if !ok {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Twilio-Email-Event-Webhook-Signature must be base64 of an ASN.1 DER ECDSA signature")
		}
		if err := s.timing.checkTime(name, "X-Twilio-Email-Event-Webhook-Timestamp", t, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{ts}, Body: req.Body}
		i, err := s.ec.Match(&m, der)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "the signature does not verify under the configured verification key: check the key, and that nothing re-encoded the body (its trailing CRLF is signed)")
		}
		d.SecretIndex = i
	}
	var err error
	if d.ID, err = firstElement(name, req.Body, "sg_event_id"); err != nil {
		return d, err
	}
	if d.Type, err = firstElement(name, req.Body, "event"); err != nil {
		return d, err
	}
	if d.ID == "" {
		// Fingerprint what was signed, never the signature: (r, n-s)
		// verifies as well as (r, s).
		d.Digest = signedDigest(d.SecretIndex, &verify.Message{Prefix: [4]string{ts}, Body: req.Body})
	}
	return d, nil
}

// decodeDERSignature decodes a base64 DER signature of at most
// keys.MaxDERSignatureSize bytes that starts with a SEQUENCE tag.
func decodeDERSignature(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if s == "" || base64.StdEncoding.DecodedLen(len(s)) > keys.MaxDERSignatureSize+3 {
		return nil, false
	}
	der, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		der, err = base64.RawStdEncoding.Strict().DecodeString(s)
	}
	if err != nil || len(der) < 8 || len(der) > keys.MaxDERSignatureSize || der[0] != 0x30 {
		return nil, false
	}
	return der, true
}

// Sign returns the headers SendGrid would send with o: the timestamp, the
// base64 DER signature under the private key, and Content-Type. It returns
// an error wrapping [ErrCannotSign] for a verifier built from a public key.
func (s *sendgrid) Sign(o Outgoing) (http.Header, error) {
	if s.priv == nil {
		return nil, fmt.Errorf("sendgrid: %w: a verification (public) key only verifies; sign with a P-256 private key", ErrCannotSign)
	}
	ts := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	sig, err := keys.SignP256(s.priv, &verify.Message{Prefix: [4]string{ts}, Body: o.Body})
	if err != nil {
		return nil, fmt.Errorf("sendgrid: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(sendgridTimestampHeader, ts)
	h.Set(sendgridSignatureHeader, base64.StdEncoding.EncodeToString(sig))
	return h, nil
}
