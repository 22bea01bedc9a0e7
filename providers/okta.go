package providers

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// oktaChallengeHeader is the canonical form of X-Okta-Verification-Challenge.
const oktaChallengeHeader = "X-Okta-Verification-Challenge"

// okta implements the Okta preset behind a [Preset]; see [NewOkta].
type okta struct {
	secrets  []*string  // pointers, so that fmt prints addresses, never secrets
	digests  [][32]byte // SHA-256 of each secret, compared in constant time
	header   string
	insecure bool
}

var _ Provider = (*okta)(nil)

// NewOkta returns an Okta verifier for the event hook's authentication
// secret, exactly as typed in the hook's "Authentication secret" field
// (for Basic authentication that is "Basic " and the base64 credentials).
// [WithSecret] adds secrets accepted during a rotation.
//
// The preset verifies Okta event hooks. Okta signs nothing: it sends the
// authentication secret configured on the hook verbatim in a header
// (Authorization by default, see [WithAuthHeader]) with every request,
// including the verification GET; the preset compares it with the
// configured secret in constant time. Serve the endpoint over HTTPS only.
//
// Handshake: when the hook is verified, Okta sends a GET with
// X-Okta-Verification-Challenge; once the secret matches it is answered
// with the JSON {"verification": "<challenge>"}.
//
// The event ID is the body's "eventId" and the type its "eventType". No
// timestamp is authenticated, so [verify.Delivery.Replayable] is true and
// [verify.Delivery.Digest] is a SHA-256 of the body.
func NewOkta(secret string, opts ...Option) (*Preset, error) {
	return wrap(newOkta(secret, opts...))
}

func newOkta(secret string, opts ...Option) (*okta, error) {
	const name = "okta"
	c, err := newPresetConfig(name, secret, opts, optAuthHeader)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming(name); err != nil {
		return nil, err
	}
	if err := checkHeaderTokens(name, c.secrets); err != nil {
		return nil, err
	}
	o := &okta{header: "Authorization", insecure: c.insecure}
	if c.asym.authHeader != "" {
		o.header = c.asym.authHeader
	}
	o.secrets = secretPtrs(c.secrets)
	for _, s := range c.secrets {
		o.digests = append(o.digests, sha256.Sum256([]byte(s)))
	}
	return o, nil
}

// Name returns "okta".
func (*okta) Name() string { return "okta" }

// Methods returns GET and POST: Okta verifies an event hook by GET.
func (*okta) Methods() []string { return []string{http.MethodGet, http.MethodPost} }

// Info describes the Okta preset.
func (o *okta) Info() Info {
	return Info{
		Name:            "okta",
		Title:           "Okta event hooks",
		SignatureHeader: o.header,
		Algorithm:       "shared secret in a header (constant-time compare)",
		IDSource:        `body "eventId"`,
		TypeSource:      `body "eventType"`,
		Handshake:       `GET X-Okta-Verification-Challenge answered with {"verification": ...}`,
		SharedToken:     true,
	}
}

// Verify checks the authentication header, then answers the verification
// GET or reads a POST's event. now is unused: Okta signs no timestamp.
func (o *okta) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "okta"
	d := verify.Delivery{Provider: name}
	if o.insecure {
		d.SecretIndex = -1
	} else {
		got, present, ok := single(req.Header, o.header)
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no "+o.header+" header: set an authentication secret on the Okta event hook")
		}
		if !ok || len(got) > maxHeaderBytes {
			return d, verify.Fail(name, verify.ErrMalformedSignature, o.header+" must be one value")
		}
		// Compare digests, so that neither the time nor an early exit
		// reveals the secret's length.
		sum := sha256.Sum256([]byte(got))
		d.SecretIndex = -1
		for i := range o.digests {
			if subtle.ConstantTimeCompare(sum[:], o.digests[i][:]) == 1 && d.SecretIndex < 0 {
				d.SecretIndex = i
			}
		}
		if d.SecretIndex < 0 {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, o.header+" does not match any configured secret")
		}
	}
	if req.Method == http.MethodGet {
		c, present, ok := single(req.Header, oktaChallengeHeader)
		if !present || !ok || c == "" || len(c) > maxChallenge {
			return d, verify.Fail(name, verify.ErrMissingHeader, "a GET must be Okta's verification request with one X-Okta-Verification-Challenge header")
		}
		body, err := json.Marshal(struct {
			Verification string `json:"verification"`
		}{c})
		if err != nil {
			return d, verify.Fail(name, verify.ErrMissingHeader, "X-Okta-Verification-Challenge cannot be encoded")
		}
		d.Type = "verification"
		d.Reply = replyJSON(body)
		return d, nil
	}
	d.Replayable = true
	d.Digest = sha256.Sum256(req.Body)
	var err error
	if d.ID, d.Type, err = idAndType(name, req.Body, oktaIDPath, "eventType"); err != nil {
		return d, err
	}
	return d, nil
}

// Sign returns the headers Okta would send with o: the authentication
// header holding the first secret, and Content-Type.
func (o *okta) Sign(out Outgoing) (http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType(out))
	h.Set(o.header, *o.secrets[0])
	return h, nil
}
