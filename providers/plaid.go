package providers

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/internal/jwt"
	"github.com/hookguard/hookguard/verify"
)

// plaidVerificationHeader is the canonical form of Plaid-Verification.
const plaidVerificationHeader = "Plaid-Verification"

// plaid implements the Plaid preset behind a [Preset]; see [NewPlaid].
type plaid struct {
	static   []plaidKey
	priv     *ecdsa.PrivateKey // nil: verify only
	kid      string            // kid Sign writes
	source   *keyCache         // nil without WithKeySource
	timing   timing
	insecure bool
}

type plaidKey struct {
	kid string // "" matches any kid
	pub *ecdsa.PublicKey
}

var _ Provider = (*plaid)(nil)

// NewPlaid returns a Plaid verifier. key is a public key as Plaid's
// /webhook_verification_key/get returns it (the JWK JSON object, or the
// whole response), a P-256 public key as base64 DER or PEM (it then
// matches any kid), or a P-256 private key as base64 DER (PKCS #8 or
// SEC 1) or PEM, which also signs, for tests. Keys added with
// [WithSecret] are further public keys. key may be empty when
// [WithKeySource] is given.
//
// The preset verifies Plaid webhooks: the Plaid-Verification header is a JSON
// Web Token signed with ES256 (any other "alg" is refused) whose
// "request_body_sha256" claim is the hex SHA-256 of the body (compared in
// constant time) and whose "iat" (issued at, Unix seconds) must lie within
// the replay window (five minutes each way by default, see
// [WithTolerance]).
//
// The signing key is chosen by the token's "kid": keys given to the
// constructor are tried first; for any other kid the preset asks the
// [KeySource] given with [WithKeySource], which normally calls Plaid's
// /webhook_verification_key/get. Keys the source returns are cached.
//
// Plaid sends no event ID: the ID is "jwt:" and a SHA-256 of the token's
// signed part (header.payload, not the signature), so a resent request is
// a duplicate whatever signature bytes it carries. The type is
// "webhook_type.webhook_code", for example
// "TRANSACTIONS.SYNC_UPDATES_AVAILABLE".
func NewPlaid(key string, opts ...Option) (*Preset, error) {
	return wrap(newPlaid(key, opts...))
}

func newPlaid(key string, opts ...Option) (*plaid, error) {
	const name = "plaid"
	placeholder := key == ""
	if placeholder {
		key = "-" // checked below: only valid with a key source
	}
	c, err := newPresetConfig(name, key, opts, optKeySource|optKeyTimeout)
	if err != nil {
		return nil, err
	}
	p := &plaid{timing: newTiming(c), insecure: c.insecure}
	secrets := c.secrets
	if placeholder {
		if c.asym.keySource == nil {
			return nil, fmt.Errorf("%s: %w: pass a Plaid verification key, or a key source with WithKeySource", name, verify.ErrEmptySecret)
		}
		secrets = secrets[1:]
	}
	for i, s := range secrets {
		k, priv, err := parsePlaidKey(s, i == 0 && !placeholder)
		if err != nil {
			return nil, fmt.Errorf("%s: key #%d: %w", name, i, err)
		}
		if priv != nil {
			p.priv = priv
			p.kid = k.kid
		}
		p.static = append(p.static, k)
	}
	if c.asym.keySource != nil {
		timeout := c.asym.keyTimeout
		if timeout == 0 {
			timeout = DefaultKeyTimeout
		}
		p.source = &keyCache{src: c.asym.keySource, timeout: timeout, interval: minMissInterval, keys: make(map[string]*ecdsa.PublicKey)}
	}
	return p, nil
}

// parsePlaidKey reads a JWK, a public key or (when private is allowed) a
// private key.
func parsePlaidKey(s string, private bool) (plaidKey, *ecdsa.PrivateKey, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
		kid, pub, err := verify.ParseP256JWK([]byte(t))
		return plaidKey{kid: kid, pub: pub}, nil, err
	}
	pub, priv, err := parseP256Key(s, private)
	switch {
	case err != nil:
		return plaidKey{}, nil, fmt.Errorf("%w: want Plaid's JWK, or a P-256 key as base64 DER or PEM", verify.ErrInvalidSecret)
	case priv != nil:
		return plaidKey{kid: plaidKID(pub), pub: pub}, priv, nil
	}
	return plaidKey{pub: pub}, nil, nil
}

// plaidKID derives the kid a signing preset writes: a short hash of the
// public key.
func plaidKID(pub *ecdsa.PublicKey) string {
	b, _ := pub.Bytes()
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Name returns "plaid".
func (*plaid) Name() string { return "plaid" }

// Info describes the Plaid preset.
func (*plaid) Info() Info {
	return Info{
		Name:            "plaid",
		Title:           "Plaid",
		SignatureHeader: plaidVerificationHeader,
		Algorithm:       "JWT ES256 (key by kid), body SHA-256 claim",
		Timestamped:     true,
		IDSource:        "SHA-256 of the Plaid-Verification token's header.payload (Plaid sends no event ID)",
		TypeSource:      `body "webhook_type"."webhook_code"`,
	}
}

// plaidClaims are the claims Plaid signs.
type plaidClaims struct {
	IAT        *int64 `json:"iat"`
	BodySHA256 string `json:"request_body_sha256"`
}

// Verify checks req's Plaid-Verification token: its ES256 signature under
// the key its kid names, its body hash against the body, and its iat
// against the window around now.
func (p *plaid) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "plaid"
	d := verify.Delivery{Provider: name}
	tok, present, one := single(req.Header, plaidVerificationHeader)
	if p.insecure {
		d.SecretIndex = -1
	} else {
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no Plaid-Verification header: is this the webhook URL set on the Plaid Item or Link token?")
		}
		if !one {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "Plaid-Verification appears twice with different values")
		}
		token, err := jwt.Parse(tok)
		if err != nil {
			return d, verify.Fail(name, verify.ErrMalformedSignature, "Plaid-Verification is not a well-formed JWT")
		}
		if token.Alg != "ES256" {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "Plaid-Verification token has alg "+strconv.Quote(truncate(token.Alg, 16))+"; only ES256 is accepted")
		}
		i, ferr := p.match(token)
		if ferr != nil {
			return d, ferr
		}
		var claims plaidClaims
		if err := json.Unmarshal(token.Claims, &claims); err != nil || claims.IAT == nil {
			return d, verify.Fail(name, verify.ErrMissingTimestamp, "Plaid-Verification token has no numeric iat claim")
		}
		d.Timestamp = time.Unix(*claims.IAT, 0)
		if err := p.timing.checkTime(name, "the Plaid-Verification iat claim", d.Timestamp, now); err != nil {
			return d, err
		}
		if !bodySHA256Matches(req.Body, claims.BodySHA256) {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "the body's SHA-256 does not match the token's request_body_sha256 claim: the body was altered or re-encoded")
		}
		d.SecretIndex = i
	}
	if tok != "" {
		d.ID = plaidID(tok)
	}
	ms := [...]jsonscan.Member{{Key: "webhook_type"}, {Key: "webhook_code"}}
	if err := jsonscan.Members(req.Body, ms[:]); err != nil {
		return d, bodyJSONError(name, err)
	}
	wt, wc := ms[0].Value, ms[1].Value
	if wt != "" || wc != "" {
		d.Type = wt + "." + wc
	}
	return d, nil
}

// plaidID returns the event ID of a Plaid-Verification token: "jwt:" and
// the first 16 bytes, in hex, of the SHA-256 of its signing input
// (header.payload), which the signature covers byte for byte and which
// holds the iat and the body's hash. The signature is left out: an ECDSA
// signature (r, s) has a twin (r, n-s) that verifies too, and Plaid's
// signer need not produce low-S signatures, so the same event could
// otherwise arrive under two IDs.
func plaidID(tok string) string {
	input := tok
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		input = tok[:i]
	}
	sum := sha256.Sum256([]byte(input))
	return "jwt:" + hex.EncodeToString(sum[:16])
}

// match verifies token under the static keys, then the key source. It
// returns the index of the key that matched: static keys by position,
// key-source keys after them.
func (p *plaid) match(token *jwt.Token) (int, error) {
	const name = "plaid"
	for i, k := range p.static {
		if (k.kid == "" || k.kid == token.Kid) && token.VerifyES256(k.pub) {
			return i, nil
		}
	}
	if p.source == nil {
		return -1, verify.Fail(name, verify.ErrSignatureMismatch, "Plaid-Verification does not verify under the configured keys: fetch the key for its kid from /webhook_verification_key/get (see WithKeySource)")
	}
	if token.Kid == "" {
		return -1, verify.Fail(name, verify.ErrSignatureMismatch, "Plaid-Verification token has no kid")
	}
	pub, err := p.source.key(token.Kid)
	switch {
	case errors.Is(err, ErrUnknownKey):
		return -1, verify.Fail(name, verify.ErrSignatureMismatch, "the key source does not know the token's kid")
	case err != nil:
		return -1, &verify.Error{Provider: name, Reason: "the Plaid verification key could not be fetched; Plaid will retry", Status: http.StatusServiceUnavailable, Err: ErrKeyUnavailable}
	}
	if !token.VerifyES256(pub) {
		return -1, verify.Fail(name, verify.ErrSignatureMismatch, "Plaid-Verification does not verify under the key for its kid")
	}
	return len(p.static), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// keyCache caches a KeySource's keys and rate-limits lookups of unknown
// kids to one a second.
type keyCache struct {
	src      KeySource
	timeout  time.Duration
	interval time.Duration // between lookups of unseen kids

	mu       sync.Mutex
	keys     map[string]*ecdsa.PublicKey
	lastMiss time.Time
	fetch    sync.Mutex // one lookup at a time
}

// minMissInterval is how often a keyCache asks its source about a kid it
// has not seen.
const minMissInterval = time.Second

func (c *keyCache) key(kid string) (*ecdsa.PublicKey, error) {
	if len(kid) > 256 {
		return nil, ErrUnknownKey
	}
	c.mu.Lock()
	if k, ok := c.keys[kid]; ok {
		c.mu.Unlock()
		return k, nil
	}
	c.mu.Unlock()
	// One lookup at a time: concurrent requests for a new kid wait for
	// the first, then find the key cached.
	c.fetch.Lock()
	defer c.fetch.Unlock()
	c.mu.Lock()
	if k, ok := c.keys[kid]; ok {
		c.mu.Unlock()
		return k, nil
	}
	if !c.lastMiss.IsZero() && time.Since(c.lastMiss) < c.interval {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: key lookups are limited to one a second", ErrKeyUnavailable)
	}
	c.lastMiss = time.Now()
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	k, err := c.src.Key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, ErrUnknownKey
	}
	c.mu.Lock()
	if len(c.keys) >= MaxCachedKeys {
		for old := range c.keys { // evict an arbitrary key
			delete(c.keys, old)
			break
		}
	}
	c.keys[kid] = k
	c.mu.Unlock()
	return k, nil
}

// Sign returns the headers Plaid would send with o: a Plaid-Verification
// ES256 token over the body's SHA-256, issued at o's timestamp, and
// Content-Type. It returns an error wrapping [ErrCannotSign] for a
// verifier built from a public key.
func (p *plaid) Sign(o Outgoing) (http.Header, error) {
	if p.priv == nil {
		return nil, fmt.Errorf("plaid: %w: a verification (public) key only verifies; sign with a P-256 private key", ErrCannotSign)
	}
	sum := sha256.Sum256(o.Body)
	claims := `{"iat":` + strconv.FormatInt(outgoingTime(o).Unix(), 10) + `,"request_body_sha256":"` + hex.EncodeToString(sum[:]) + `"}`
	tok, err := jwt.SignES256(p.priv, p.kid, []byte(claims))
	if err != nil {
		return nil, fmt.Errorf("plaid: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	h.Set(plaidVerificationHeader, tok)
	return h, nil
}
