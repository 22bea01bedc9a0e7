package providers

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Header names of the GitLab scheme, in canonical form.
const (
	gitlabTokenHeader     = "X-Gitlab-Token"
	gitlabEventHeader     = "X-Gitlab-Event"
	gitlabEventUUIDHeader = "X-Gitlab-Event-Uuid"
	gitlabIdempotencyKey  = "Idempotency-Key"
)

// gitlab implements the GitLab preset behind a [Preset]; see [NewGitLab].
type gitlab struct {
	tokens   *tokens
	insecure bool
}

var _ Provider = (*gitlab)(nil)

// NewGitLab returns a GitLab verifier for the webhook's secret token.
// Pass a previous token with [WithSecret] while changing it.
// [WithTolerance] and [WithoutTimestampCheck] have no effect: GitLab sends
// no timestamp.
//
// The preset verifies GitLab webhook deliveries by their secret token. GitLab
// does not sign anything: it sends the token itself in X-Gitlab-Token, and
// this preset compares it with the configured token in constant time. A
// token proves who sent the request, not what it holds: anyone who sees
// one delivery (a logging proxy, a misdirected URL) can send any body with
// it, for as long as the token is valid. Serve the endpoint over HTTPS
// only, and rotate a token that may have leaked.
//
// There is no timestamp either, so dedupe is the only replay defence:
// [verify.Delivery.Replayable] is true and [verify.Delivery.Digest]
// fingerprints the body under the token. The event ID is the
// Idempotency-Key header (GitLab 17.4 and later; the same on every retry
// of one event), else X-Gitlab-Event-UUID; the type is X-Gitlab-Event, for
// example "Push Hook".
//
// GitLab's newer signing tokens (Standard Webhooks headers) are not
// handled by this preset.
func NewGitLab(secret string, opts ...Option) (*Preset, error) {
	return wrap(newGitLab(secret, opts...))
}

func newGitLab(secret string, opts ...Option) (*gitlab, error) {
	c, err := newConfig("gitlab", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming("gitlab"); err != nil {
		return nil, err
	}
	if err := c.rejectLegacy("gitlab"); err != nil {
		return nil, err
	}
	if err := checkHeaderTokens("gitlab", c.secrets); err != nil {
		return nil, err
	}
	t, err := newTokens("gitlab", c.secrets)
	if err != nil {
		return nil, err
	}
	return &gitlab{tokens: t, insecure: c.insecure}, nil
}

// Name returns "gitlab".
func (*gitlab) Name() string { return "gitlab" }

// Info describes the GitLab preset.
func (*gitlab) Info() Info {
	return Info{
		Name:            "gitlab",
		Title:           "GitLab",
		SignatureHeader: "X-Gitlab-Token",
		Algorithm:       "shared token (no signature; compared in constant time)",
		IDSource:        "Idempotency-Key header, else X-Gitlab-Event-UUID",
		TypeSource:      "X-Gitlab-Event header",
		SharedToken:     true,
	}
}

// Verify checks req's X-Gitlab-Token. now is unused: GitLab sends no
// timestamp.
func (g *gitlab) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "gitlab"
	d := verify.Delivery{Provider: name, Replayable: true}
	if g.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		tok, present, ok := single(req.Header, gitlabTokenHeader)
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Gitlab-Token header: set a secret token on the GitLab webhook")
		}
		if !ok || tok == "" || len(tok) > maxHeaderBytes {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Gitlab-Token must be one non-empty token")
		}
		i := g.tokens.match(tok)
		if i < 0 {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Gitlab-Token does not match any configured token: check the webhook's secret token")
		}
		d.SecretIndex = i
		d.Digest = g.tokens.digest(i, req.Body)
	}
	d.ID = trimOWS(first(req.Header, gitlabIdempotencyKey))
	if d.ID == "" {
		d.ID = trimOWS(first(req.Header, gitlabEventUUIDHeader))
	}
	d.Type = trimOWS(first(req.Header, gitlabEventHeader))
	return d, nil
}

// Sign returns the headers GitLab would send with o: X-Gitlab-Token (the
// first token), X-Gitlab-Event (o.Type, when set), Idempotency-Key and
// X-Gitlab-Event-UUID (o.ID, or a random UUID), X-Gitlab-Webhook-UUID,
// X-Gitlab-Instance, User-Agent and Content-Type.
func (g *gitlab) Sign(o Outgoing) (http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set("User-Agent", "GitLab/17.6.0")
	id := o.ID
	if id == "" {
		id = uuid()
	}
	h.Set(gitlabIdempotencyKey, id)
	h.Set("X-Gitlab-Event-UUID", id)
	h.Set("X-Gitlab-Webhook-UUID", uuid())
	h.Set("X-Gitlab-Instance", "https://gitlab.example.com")
	if o.Type != "" {
		h.Set(gitlabEventHeader, o.Type)
	}
	h.Set(gitlabTokenHeader, g.tokens.first)
	return h, nil
}
