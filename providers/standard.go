package providers

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the Standard Webhooks scheme and of Svix, in canonical
// form.
const (
	standardIDHeader        = "Webhook-Id"
	standardTimestampHeader = "Webhook-Timestamp"
	standardSignatureHeader = "Webhook-Signature"
	svixIDHeader            = "Svix-Id"
	svixTimestampHeader     = "Svix-Timestamp"
	svixSignatureHeader     = "Svix-Signature"
)

// keyKind is how a Standard Webhooks verifier was keyed.
type keyKind uint8

const (
	keySymmetric keyKind = iota + 1 // whsec_: v1, HMAC-SHA256
	keyPublic                       // whpk_: v1a, Ed25519, verify only
	keyPrivate                      // whsk_: v1a, Ed25519, sign and verify
)

// standardWebhooks implements the StandardWebhooks preset behind a [Preset]; see [NewStandardWebhooks].
type standardWebhooks struct {
	name     string
	kind     keyKind
	mac      *verify.HMAC       // keySymmetric
	ed       *verify.Ed25519    // keyPublic, keyPrivate
	priv     ed25519.PrivateKey // keyPrivate
	timing   timing
	insecure bool
	idH      string // header names, svix-* or webhook-*
	tsH      string
	sigH     string
}

var _ Provider = (*standardWebhooks)(nil)

// NewStandardWebhooks returns a Standard Webhooks verifier. secret is the
// endpoint's "whsec_<base64>" secret (the prefix may be omitted), a
// "whpk_<base64>" Ed25519 public key, or a "whsk_<base64>" Ed25519 private
// key. Secrets added with [WithSecret] must be of the same kind. It
// returns an error wrapping [verify.ErrEmptySecret] or
// [verify.ErrInvalidSecret] for a secret it cannot use.
//
// The preset verifies deliveries that follow the Standard Webhooks
// specification (https://www.standardwebhooks.com), and, under the name
// "svix", deliveries from Svix and the services built on it (Resend,
// Clerk, ...). The signed content is webhook-id + "." + webhook-timestamp +
// "." + body; webhook-signature is a space-separated list of
// "<version>,<base64>" entries.
//
// A "whsec_" secret selects v1 (HMAC-SHA256, key = the base64-decoded rest
// of the secret). A "whpk_" public key selects v1a (Ed25519) for
// verification only; a "whsk_" private key selects v1a and also signs. The
// scheme is fixed by the configured key, never by the request: a verifier
// with a public key ignores v1 entries, so an attacker cannot make it use
// the public key as an HMAC secret.
//
// The event ID is the webhook-id header and the type the body's "type".
func NewStandardWebhooks(secret string, opts ...Option) (*Preset, error) {
	return wrap(newStandard("standardwebhooks", standardIDHeader, standardTimestampHeader, standardSignatureHeader, secret, opts))
}

// NewSvix returns a verifier for Svix deliveries: the Standard Webhooks
// scheme under the svix-id, svix-timestamp and svix-signature headers,
// falling back to the webhook-* headers of white-labelled senders when a
// svix-* header is missing. Its Name is "svix".
func NewSvix(secret string, opts ...Option) (*Preset, error) {
	return wrap(newStandard("svix", svixIDHeader, svixTimestampHeader, svixSignatureHeader, secret, opts))
}

func newStandard(name, idH, tsH, sigH, secret string, opts []Option) (*standardWebhooks, error) {
	c, err := newConfig(name, secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectLegacy(name); err != nil {
		return nil, err
	}
	s := &standardWebhooks{name: name, timing: newTiming(c), insecure: c.insecure, idH: idH, tsH: tsH, sigH: sigH}
	s.kind = kindOf(c.secrets[0])
	var (
		macKeys []verify.Secret
		pubKeys []ed25519.PublicKey
	)
	for i, raw := range c.secrets {
		if kindOf(raw) != s.kind {
			return nil, fmt.Errorf("%s: %w: secret #%d is of another kind than the first; whsec_, whpk_ and whsk_ keys cannot be mixed", name, verify.ErrInvalidSecret, i)
		}
		switch s.kind {
		case keySymmetric:
			k, err := verify.ParseWhsec(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			macKeys = append(macKeys, k)
		case keyPublic:
			k, err := verify.ParseEd25519PublicKey(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			pubKeys = append(pubKeys, k)
		case keyPrivate:
			k, err := keys.ParseEd25519PrivateKey(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if i == 0 {
				s.priv = k
			}
			pubKeys = append(pubKeys, k.Public().(ed25519.PublicKey))
		}
	}
	if s.kind == keySymmetric {
		s.mac, err = newHMAC(name, verify.SHA256, macKeys)
	} else {
		s.ed, err = verify.NewEd25519(pubKeys...)
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func kindOf(secret string) keyKind {
	switch {
	case strings.HasPrefix(secret, keys.PublicKeyPrefix):
		return keyPublic
	case strings.HasPrefix(secret, keys.PrivateKeyPrefix):
		return keyPrivate
	}
	return keySymmetric
}

// Name returns "standardwebhooks", or "svix" for a verifier from [NewSvix].
func (s *standardWebhooks) Name() string { return s.name }

// Info describes the preset.
func (s *standardWebhooks) Info() Info {
	title, id := "Standard Webhooks", "webhook-id"
	if s.name == "svix" {
		title, id = "Svix", "svix-id"
	}
	alg := "HMAC-SHA256 (base64, v1)"
	if s.kind != keySymmetric {
		alg = "Ed25519 (base64, v1a)"
	}
	return Info{
		Name:            s.name,
		Title:           title,
		SignatureHeader: displayName(s.sigH),
		Algorithm:       alg,
		Timestamped:     true,
		IDSource:        id + " header",
		TypeSource:      `body "type"`,
	}
}

// version returns the signature version this verifier checks.
func (s *standardWebhooks) version() string {
	if s.kind == keySymmetric {
		return "v1"
	}
	return "v1a"
}

// parseStandardSignatures scans a webhook-signature header: entries
// separated by spaces, each "<version>,<base64>". Entries of version want
// that decode to size bytes are added; other versions are ignored. It
// reports false when there are more than verify.MaxSignatures entries of
// version want.
func parseStandardSignatures(vals []string, want string, size int, sigs *verify.Signatures) bool {
	for _, v := range vals {
		for len(v) > 0 {
			var entry string
			entry, v = cutSpace(v)
			if entry == "" {
				continue
			}
			version, sig := cut(entry, ',')
			if version != want {
				continue
			}
			if sigs.Full() {
				return false
			}
			addSig(sigs, verify.Base64, sig, size)
		}
	}
	return true
}

// cutSpace slices s around the first run of spaces or tabs. It finds the
// first space, then a tab before it, with strings.IndexByte (vectorised),
// which costs less than a byte loop over a base64 signature.
func cutSpace(s string) (before, after string) {
	i := strings.IndexByte(s, ' ')
	tabIn := s
	if i >= 0 {
		tabIn = s[:i]
	}
	if t := strings.IndexByte(tabIn, '\t'); t >= 0 {
		i = t
	}
	if i < 0 {
		return s, ""
	}
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	return s[:i], s[j:]
}

// displayName returns the lowercase form in which the specification
// writes a header name, without allocating.
func displayName(canonical string) string {
	switch canonical {
	case standardIDHeader:
		return "webhook-id"
	case standardTimestampHeader:
		return "webhook-timestamp"
	case standardSignatureHeader:
		return "webhook-signature"
	case svixIDHeader:
		return "svix-id"
	case svixTimestampHeader:
		return "svix-timestamp"
	case svixSignatureHeader:
		return "svix-signature"
	}
	return strings.ToLower(canonical)
}

// headers picks the header names to read and returns them with their
// values, looking each up once: Svix falls back to webhook-* when any
// svix-* header is missing, as the Svix libraries do.
func (s *standardWebhooks) headers(h http.Header) (idH, tsH, sigH string, idV, tsV, sigV []string) {
	idV, tsV, sigV = header(h, s.idH), header(h, s.tsH), header(h, s.sigH)
	if s.name == "svix" && (idV == nil || tsV == nil || sigV == nil) {
		return standardIDHeader, standardTimestampHeader, standardSignatureHeader,
			header(h, standardIDHeader), header(h, standardTimestampHeader), header(h, standardSignatureHeader)
	}
	return s.idH, s.tsH, s.sigH, idV, tsV, sigV
}

// Verify checks req's signature header against the ID, timestamp and body,
// and the timestamp against the window around now.
func (s *standardWebhooks) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	name := s.name
	d := verify.Delivery{Provider: name}
	idH, tsH, sigH, idV, tsV, vals := s.headers(req.Header)
	id, idPresent, idSingle := singleValue(idV)
	ts, tsPresent, tsSingle := singleValue(tsV)
	if s.insecure {
		d.SecretIndex = -1
		d.Timestamp = lenientUnixTime(ts, tsSingle)
	} else {
		lower := displayName
		if len(vals) == 0 {
			reason := "no " + lower(sigH) + " header: is this endpoint registered with the sender?"
			if name == "svix" {
				reason = "no complete set of svix-id, svix-timestamp and svix-signature headers (nor of webhook-* ones): is this endpoint registered with Svix?"
			}
			return d, verify.Fail(name, verify.ErrMissingSignature, reason)
		}
		if tooLong(vals) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, lower(sigH)+" header is too long")
		}
		if !idPresent || id == "" {
			return d, verify.Fail(name, verify.ErrMissingHeader, "no "+lower(idH)+" header: it is part of the signed content")
		}
		if !idSingle {
			return d, verify.Fail(name, verify.ErrMissingHeader, lower(idH)+" appears twice with different values")
		}
		t, err := unixHeaderTime(name, lower(tsH), ts, tsPresent, tsSingle)
		if err != nil {
			return d, err
		}
		d.Timestamp = t
		var sigs verify.Signatures
		size := 32
		if s.kind != keySymmetric {
			size = ed25519.SignatureSize
		}
		if !parseStandardSignatures(vals, s.version(), size, &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, lower(sigH)+" has too many signatures")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, lower(sigH)+" has no usable "+s.version()+",<base64> entry")
		}
		if err := s.timing.checkTime(name, displayName(tsH), t, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{id, ".", ts, "."}, Body: req.Body}
		var i int
		if s.kind == keySymmetric {
			i, err = s.mac.Match(&m, &sigs, nil)
		} else {
			i, err = s.ed.Match(&m, &sigs)
		}
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "no "+s.version()+" signature matches any configured key: check the endpoint's signing secret")
		}
		d.SecretIndex = i
	}
	d.ID = id
	var err error
	if d.Type, err = typeField(name, req.Body, "type"); err != nil {
		return d, err
	}
	if id == "" { // unverified: InsecureSkipVerification
		d.Digest = signedDigest(d.SecretIndex, &verify.Message{Body: req.Body})
	}
	return d, nil
}

// Sign returns the headers the sender would send with o: the ID header
// (o.ID, or a random "msg_" ID), the timestamp header, the signature
// header (v1 with a whsec_ secret, v1a with a whsk_ key) and Content-Type.
// It returns an error wrapping [ErrCannotSign] for a whpk_ public key.
func (s *standardWebhooks) Sign(o Outgoing) (http.Header, error) {
	if s.kind == keyPublic {
		return nil, fmt.Errorf("%s: %w: a whpk_ public key only verifies; sign with the whsk_ private key", s.name, ErrCannotSign)
	}
	id := o.ID
	if id == "" {
		id = randomID("msg_")
	}
	ts := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{id, ".", ts, "."}, Body: o.Body}
	var sig []byte
	if s.kind == keySymmetric {
		sig = verify.Base64.AppendEncode([]byte("v1,"), s.mac.AppendSum(nil, 0, &m))
	} else {
		sig = verify.Base64.AppendEncode([]byte("v1a,"), keys.SignEd25519(s.priv, &m))
	}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(s.idH, id)
	h.Set(s.tsH, ts)
	h.Set(s.sigH, string(sig))
	return h, nil
}
