package providers

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Header names of the GitHub scheme.
const (
	githubSignature256Header = "X-Hub-Signature-256"
	githubSignature1Header   = "X-Hub-Signature"
	githubDeliveryHeader     = "X-Github-Delivery" // canonical form of X-GitHub-Delivery
	githubEventHeader        = "X-Github-Event"    // canonical form of X-GitHub-Event
)

// github implements the GitHub preset behind a [Preset]; see [NewGitHub].
type github struct {
	mac      *verify.HMAC
	sha1     *verify.HMAC // nil unless WithLegacySHA1
	insecure bool
}

var _ Provider = (*github)(nil)

// NewGitHub returns a GitHub verifier for the webhook's secret. It returns
// an error wrapping [verify.ErrEmptySecret] when a secret is empty and one
// wrapping [ErrInvalidOption] for a bad option. [WithTolerance] and
// [WithoutTimestampCheck] have no effect: GitHub signs no timestamp.
//
// The preset verifies GitHub webhook deliveries: HMAC-SHA256 of the raw body,
// sent as X-Hub-Signature-256: sha256=<hex>. For form-encoded deliveries
// the MAC covers the form body (payload=%7B...) exactly as received.
//
// The event ID is the X-GitHub-Delivery header and the type the
// X-GitHub-Event header. Neither header is signed and GitHub signs no
// timestamp, so [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] fingerprints the signed body: dedupe on it, as
// a captured delivery can be sent again at any time under a new ID.
func NewGitHub(secret string, opts ...Option) (*Preset, error) {
	return wrap(newGitHub(secret, opts...))
}

func newGitHub(secret string, opts ...Option) (*github, error) {
	c, err := newConfig("github", secret, opts)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming("github"); err != nil {
		return nil, err
	}
	g := &github{insecure: c.insecure}
	if g.mac, err = hmacSecrets("github", c.secrets); err != nil {
		return nil, err
	}
	if c.legacy {
		secrets := make([]verify.Secret, len(c.secrets))
		for i, s := range c.secrets {
			if secrets[i], err = verify.NewSecret(s); err != nil {
				return nil, fmt.Errorf("github: %w", err)
			}
		}
		if g.sha1, err = newHMAC("github", verify.SHA1, secrets); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Name returns "github".
func (*github) Name() string { return "github" }

// Info describes the GitHub preset.
func (*github) Info() Info {
	return Info{
		Name:            "github",
		Title:           "GitHub",
		SignatureHeader: "X-Hub-Signature-256",
		Algorithm:       "HMAC-SHA256 (hex, sha256= prefix)",
		IDSource:        "X-GitHub-Delivery header",
		TypeSource:      "X-GitHub-Event header",
	}
}

// parsePrefixedHex adds every value of the form prefix + hex (prefix
// matched ignoring case, whitespace trimmed) that decodes to size bytes.
// Values with another prefix are ignored. It reports false when there are
// more than verify.MaxSignatures candidate values.
func parsePrefixedHex(vals []string, prefix string, size int, sigs *verify.Signatures) bool {
	return parseSigValues(vals, prefix, verify.Hex, size, sigs)
}

// Verify checks req's X-Hub-Signature-256 (or, with [WithLegacySHA1] and no
// such header, X-Hub-Signature) against the body. now is unused: GitHub
// signs no timestamp.
func (g *github) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "github"
	d := verify.Delivery{Provider: name, Replayable: true}
	if g.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		mac, hdr, prefix := g.mac, githubSignature256Header, "sha256="
		vals := header(req.Header, githubSignature256Header)
		sha1Only := false
		if len(vals) == 0 && g.sha1 != nil {
			mac, hdr, prefix = g.sha1, githubSignature1Header, "sha1="
			vals = header(req.Header, githubSignature1Header)
			sha1Only = true
		}
		if len(vals) == 0 {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Hub-Signature-256 header: set a secret on the GitHub webhook")
		}
		if tooLong(vals) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, hdr+" header is too long")
		}
		var sigs verify.Signatures
		if !parsePrefixedHex(vals, prefix, mac.Algorithm().Size(), &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, hdr+" has too many signatures")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, hdr+" must be "+prefix+" followed by the hex HMAC")
		}
		m := verify.Message{Body: req.Body}
		i, err := mac.Match(&m, &sigs, &d.Digest)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, hdr+" does not match any configured secret: check the webhook's secret, and that nothing re-encoded the body")
		}
		if sha1Only {
			// The digest must not depend on which header verified: GitHub
			// sends both, and a replay stripped of X-Hub-Signature-256
			// would otherwise get a digest of its own and, under a fresh
			// unsigned delivery ID, be handled again. Fingerprint the
			// body by its SHA-256 HMAC under the secret that matched, as
			// the X-Hub-Signature-256 path does.
			var sum [sha256.Size]byte
			d.Digest = sha256.Sum256(g.mac.AppendSum(sum[:0], i, &m))
		}
		d.SecretIndex = i
	}
	d.ID = first(req.Header, githubDeliveryHeader)
	d.Type = first(req.Header, githubEventHeader)
	return d, nil
}

// Sign returns the headers GitHub would send with o: X-GitHub-Delivery
// (o.ID, or a random UUID), X-GitHub-Event (o.Type, when set),
// X-Hub-Signature-256 under the first secret (and X-Hub-Signature with
// [WithLegacySHA1]), User-Agent and Content-Type.
func (g *github) Sign(o Outgoing) (http.Header, error) {
	m := verify.Message{Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set("User-Agent", "GitHub-Hookshot/hookguard")
	id := o.ID
	if id == "" {
		id = uuid()
	}
	h.Set("X-GitHub-Delivery", id)
	if o.Type != "" {
		h.Set("X-GitHub-Event", o.Type)
	}
	h.Set(githubSignature256Header, string(verify.Hex.AppendEncode([]byte("sha256="), g.mac.AppendSum(nil, 0, &m))))
	if g.sha1 != nil {
		h.Set(githubSignature1Header, string(verify.Hex.AppendEncode([]byte("sha1="), g.sha1.AppendSum(nil, 0, &m))))
	}
	return h, nil
}
