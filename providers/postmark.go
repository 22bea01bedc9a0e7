package providers

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// postmark implements the Postmark preset behind a [Preset]; see [NewPostmark].
type postmark struct {
	tokens   *tokens
	insecure bool
}

var _ Provider = (*postmark)(nil)

// maxBasicAuth bounds the Authorization header this preset decodes.
const maxBasicAuth = 1 << 10

// NewPostmark returns a Postmark verifier for the basic-auth credentials,
// given as "user:password". It returns an error wrapping
// [verify.ErrInvalidSecret] when a secret has no colon.
//
// Postmark checks Postmark webhook deliveries by HTTP basic auth. Postmark
// signs nothing: the protection it offers is the user name and password
// you put in the webhook URL (https://user:pass@host/path), which it sends
// in an Authorization: Basic header. This preset compares them with the
// configured credentials in constant time. Credentials prove who sent the
// request, not what it holds, and there is no timestamp: anyone who sees
// one delivery can send any body with them. Serve the endpoint over HTTPS
// only; Postmark also publishes the IP ranges it sends from.
//
// The secret is "user:password", exactly as in the webhook URL. The type
// is the body's "RecordType" ("Delivery", "Bounce", "Open", ...). Postmark
// sends no event ID common to all record types, so dedupe relies on
// [verify.Delivery.Digest], which fingerprints the body under the
// credentials ([verify.Delivery.Replayable] is true).
func NewPostmark(secret string, opts ...Option) (*Preset, error) {
	return wrap(newPostmark(secret, opts...))
}

func newPostmark(secret string, opts ...Option) (*postmark, error) {
	c, err := newConfig("postmark", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming("postmark"); err != nil {
		return nil, err
	}
	if err := c.rejectLegacy("postmark"); err != nil {
		return nil, err
	}
	for i, s := range c.secrets {
		if !strings.Contains(s, ":") || len(s) > maxBasicAuth/2 {
			return nil, fmt.Errorf("postmark: %w: credentials #%d must be \"user:password\", as in the webhook URL", verify.ErrInvalidSecret, i)
		}
	}
	t, err := newTokens("postmark", c.secrets)
	if err != nil {
		return nil, err
	}
	return &postmark{tokens: t, insecure: c.insecure}, nil
}

// Name returns "postmark".
func (*postmark) Name() string { return "postmark" }

// Info describes the Postmark preset.
func (*postmark) Info() Info {
	return Info{
		Name:            "postmark",
		Title:           "Postmark",
		SignatureHeader: "Authorization",
		Algorithm:       "HTTP basic auth (no signature; compared in constant time)",
		IDSource:        "none: dedupe on the body",
		TypeSource:      `body "RecordType"`,
		SharedToken:     true,
	}
}

// parseBasicAuth returns the "user:password" of an Authorization: Basic
// header value, or false when v is not one.
func parseBasicAuth(v string) (string, bool) {
	v = trimOWS(v)
	const scheme = "Basic "
	if len(v) > maxBasicAuth || !hasPrefixFold(v, scheme) {
		return "", false
	}
	enc := trimOWS(v[len(scheme):])
	// encoding/base64 skips \r and \n even in strict mode: refuse them,
	// so that one credential has one accepted encoding.
	if strings.ContainsAny(enc, "\r\n") {
		return "", false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || !strings.Contains(string(b), ":") {
		return "", false
	}
	return string(b), true
}

// Verify checks req's Authorization header. now is unused: Postmark sends
// no timestamp.
func (p *postmark) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "postmark"
	d := verify.Delivery{Provider: name, Replayable: true}
	if p.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		v, present, ok := single(req.Header, "Authorization")
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no Authorization header: put the credentials in the webhook URL (https://user:pass@host/path)")
		}
		creds, basic := parseBasicAuth(v)
		if !ok || !basic {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "Authorization must be one Basic header holding base64 of user:password")
		}
		i := p.tokens.match(creds)
		if i < 0 {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "basic-auth credentials do not match any configured ones: check the user and password in the webhook URL")
		}
		d.SecretIndex = i
		d.Digest = p.tokens.digest(i, req.Body)
	}
	var err error
	if d.Type, err = bodyField(name, req.Body, "RecordType"); err != nil {
		return d, err
	}
	return d, nil
}

// Sign returns the headers Postmark would send with o: Authorization
// (Basic, with the first credentials), User-Agent and Content-Type.
func (p *postmark) Sign(o Outgoing) (http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set("User-Agent", "Postmark")
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.tokens.first)))
	return h, nil
}
