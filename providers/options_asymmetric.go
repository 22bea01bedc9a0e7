package providers

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// asymConfig holds the options only some of the asymmetric and handshake
// presets take. Each constructor rejects the ones that do not apply to it.
type asymConfig struct {
	verifyToken string    // Meta GET verification
	keySource   KeySource // Plaid
	keyTimeout  time.Duration
	version     string   // HubSpot: "v1", "v2" or "v3"; empty means v3
	authHeader  string   // Okta
	sharedKeys  []string // Twilio: SharedKey IDs
	set         asymOption
}

// asymOption names the options of asymConfig, as bits.
type asymOption uint8

const (
	optVerifyToken asymOption = 1 << iota
	optKeySource
	optKeyTimeout
	optSignatureVersion
	optAuthHeader
	optSharedKey
)

var asymOptionNames = []struct {
	bit       asymOption
	name      string
	appliesTo string
}{
	{optVerifyToken, "WithVerifyToken", "meta, whatsapp and instagram"},
	{optKeySource, "WithKeySource", "plaid"},
	{optKeyTimeout, "WithKeyTimeout", "plaid"},
	{optSignatureVersion, "WithSignatureVersion", "hubspot"},
	{optAuthHeader, "WithAuthHeader", "okta"},
	{optSharedKey, "WithSharedKey", "twilio"},
}

// onlyAsym returns an error when an option outside allowed was given to
// the preset called name, or WithLegacySHA1 (which only GitHub takes).
func (c *config) onlyAsym(name string, allowed asymOption) error {
	if err := c.rejectLegacy(name); err != nil {
		return err
	}
	return c.rejectAsym(name, allowed)
}

// rejectAsym returns an error naming the first preset-specific option
// that was given but is not in allowed.
func (c *config) rejectAsym(name string, allowed asymOption) error {
	for _, o := range asymOptionNames {
		if c.asym.set&o.bit != 0 && allowed&o.bit == 0 {
			return fmt.Errorf("%s: %w: %s applies only to the %s preset", name, ErrInvalidOption, o.name, o.appliesTo)
		}
	}
	return nil
}

// WithVerifyToken sets the verify token of the Meta (Facebook, Instagram,
// Messenger, WhatsApp) presets: the string you typed as "Verify token"
// when you registered the callback URL. Meta's GET subscription request
// (hub.mode=subscribe) is answered with its hub.challenge only when its
// hub.verify_token equals token (compared in constant time). Without it,
// every GET is refused. An empty token is a construction error.
func WithVerifyToken(token string) Option {
	return func(c *config) {
		c.asym.set |= optVerifyToken
		if token == "" {
			c.setErr(fmt.Errorf("%w: WithVerifyToken(\"\"): the verify token must not be empty", ErrInvalidOption))
			return
		}
		c.asym.verifyToken = token
	}
}

// KeySource returns the public key that signed a Plaid webhook, by the
// "kid" of the token's header. Key is called for a kid the preset has not
// seen yet; the preset caches what it returns (at most
// [MaxCachedKeys] keys) and calls Key for unknown kids at most once a
// second, so a flood of forged kids cannot turn into a flood of calls.
//
// An implementation typically calls Plaid's /webhook_verification_key/get
// with the kid and parses the "key" it returns with
// [verify.ParseP256JWK]. It returns an error wrapping [ErrUnknownKey] when
// Plaid does not know the kid (the request is then refused with 401), and
// any other error when the key could not be fetched (503, so that Plaid
// retries). Key must honour ctx, which ends after the time set by
// [WithKeyTimeout].
type KeySource interface {
	Key(ctx context.Context, kid string) (*ecdsa.PublicKey, error)
}

// KeySourceFunc lets an ordinary function be a [KeySource].
type KeySourceFunc func(ctx context.Context, kid string) (*ecdsa.PublicKey, error)

// Key calls f(ctx, kid).
func (f KeySourceFunc) Key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	return f(ctx, kid)
}

// Errors of key sources.
var (
	// ErrUnknownKey means a [KeySource] does not know the key ID: the
	// request was not signed by the provider.
	ErrUnknownKey = errors.New("providers: unknown key ID")
	// ErrKeyUnavailable means a key could not be fetched in time; the
	// request is answered 503 so that the sender retries.
	ErrKeyUnavailable = errors.New("providers: signing key unavailable")
)

// MaxCachedKeys bounds how many keys a Plaid preset caches from its
// [KeySource].
const MaxCachedKeys = 32

// DefaultKeyTimeout bounds one call to a [KeySource].
const DefaultKeyTimeout = 5 * time.Second

// WithKeySource makes the Plaid preset look up signing keys by kid in ks,
// for tokens whose kid matches no key given to the constructor. With it,
// the constructor's positional key may be empty.
func WithKeySource(ks KeySource) Option {
	return func(c *config) {
		c.asym.set |= optKeySource
		if ks == nil {
			c.setErr(fmt.Errorf("%w: WithKeySource(nil)", ErrInvalidOption))
			return
		}
		c.asym.keySource = ks
	}
}

// WithKeyTimeout bounds each call the Plaid preset makes to its
// [KeySource] (default [DefaultKeyTimeout]). It must be positive.
func WithKeyTimeout(d time.Duration) Option {
	return func(c *config) {
		c.asym.set |= optKeyTimeout
		if d <= 0 {
			c.setErr(fmt.Errorf("%w: WithKeyTimeout(%v): must be positive", ErrInvalidOption, d))
			return
		}
		c.asym.keyTimeout = d
	}
}

// WithSignatureVersion sets the one HubSpot signature version the HubSpot
// preset verifies: "v3" (the default), "v2" or "v1". The preset checks
// exactly that version and nothing else, whatever headers a request
// carries: a request without that version's headers is refused (401) with
// a reason naming the version expected, and with v1 or v2 set, a v3 header
// is not consulted. Any other value is a construction error.
//
// v3 (X-HubSpot-Signature-v3) is an HMAC-SHA256 that covers a timestamp,
// checked against the replay window. Set "v1" or "v2" only for an app whose
// subscriptions still send nothing else, and know what they cost:
//
//   - Neither signs a timestamp, so a captured request stays valid
//     forever. Deliveries are [verify.Delivery.Replayable]; the receiver
//     dedupes them by a digest of the signed content, which stops a replay
//     of an identical body but nothing else.
//   - v1 is SHA-256(client secret || body), a plain hash, not an HMAC. It is
//     open to length extension: from one captured v1 signature anyone can
//     compute, without the secret, a valid signature for that body followed
//     by bytes of their choosing (SHA-256 padding, then any suffix). The
//     digest dedupe does not stop this, since the body differs. Treat a v1
//     endpoint as one an attacker who once saw a delivery can post to.
//   - v2 is SHA-256(client secret || method || URL || body): the same
//     length extension applies to the body, which comes last.
func WithSignatureVersion(v string) Option {
	return func(c *config) {
		c.asym.set |= optSignatureVersion
		switch v {
		case "v1", "v2", "v3":
			c.asym.version = v
		default:
			c.setErr(fmt.Errorf("%w: WithSignatureVersion(%q): want \"v3\" (the default), or \"v2\" or \"v1\" for legacy HubSpot apps", ErrInvalidOption, quoteSafe(v)))
		}
	}
}

// maxSharedKeyID bounds a Twilio SharedKey ID given to [WithSharedKey].
const maxSharedKeyID = 128

// WithSharedKey makes the Twilio preset verify webhooks signed with the
// Twilio SharedKey called keyID (the ID Twilio returned when the key was
// created) instead of the account's auth token. The secret given to
// [NewTwilio], and any [WithSecret], are then that key's secret (its
// secrets, while rotating), not the auth token. Give WithSharedKey once per
// key the endpoint accepts: twice while moving from one key to another.
//
// With it, the preset accepts only what a SharedKey Webhook Setting with
// the HMAC_SHA256 algorithm sends: an X-Twilio-Webhooks-Signature-Settings
// header "key=<keyID>,algorithm=HMAC_SHA256" naming one of the configured
// keys, and an X-Twilio-Signature that is the base64 HMAC-SHA256 of the
// same content the auth-token scheme signs. A request whose settings name
// another key or another algorithm, or that carries no settings header
// (an auth-token HMAC-SHA1 signature), is refused: a request cannot move
// the receiver to another key or back to SHA-1. An empty keyID, one longer
// than 128 bytes, or one with a comma, an equals sign, a semicolon, a space
// or any byte outside printable ASCII, is a construction error.
func WithSharedKey(keyID string) Option {
	return func(c *config) {
		c.asym.set |= optSharedKey
		if !validSharedKeyID(keyID) {
			c.setErr(fmt.Errorf("%w: WithSharedKey(%q): want the SharedKey's ID as Twilio returned it, without spaces, commas or equals signs", ErrInvalidOption, quoteSafe(keyID)))
			return
		}
		c.asym.sharedKeys = append(c.asym.sharedKeys, keyID)
	}
}

// validSharedKeyID reports whether id can be a key= value of the settings
// header: printable ASCII without separators, as Twilio's IDs are.
func validSharedKeyID(id string) bool {
	if id == "" || len(id) > maxSharedKeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == ',' || c == '=' || c == ';' {
			return false
		}
	}
	return true
}

// WithAuthHeader names the header in which Okta sends the event hook's
// authentication secret (the "Authentication field" of the hook; default
// Authorization).
func WithAuthHeader(name string) Option {
	return func(c *config) {
		c.asym.set |= optAuthHeader
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			c.setErr(fmt.Errorf("%w: WithAuthHeader(%q): want a header name", ErrInvalidOption, name))
			return
		}
		c.asym.authHeader = textproto.CanonicalMIMEHeaderKey(name)
	}
}

// bodyID returns an event ID for senders that send none: "sha256:" and
// the first 16 bytes of the body's SHA-256, in hex. Equal bodies are one
// event.
func bodyID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// firstElement returns the field at path in the first object of a JSON
// array body, such as SendGrid's and HubSpot's batches; for an object
// body it reads the object itself. It reads an event ID or type as
// bodyField does, refusing a name that the object holds twice.
func firstElement(provider string, body []byte, path ...string) (string, error) {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	if i < len(body) && body[i] == '[' {
		i++
	}
	return bodyField(provider, body[i:], path...)
}

// replyJSON returns a 200 handshake answer with a JSON body.
func replyJSON(body []byte) *verify.Reply {
	return &verify.Reply{Status: http.StatusOK, ContentType: "application/json", Body: body}
}

// replyText returns a 200 handshake answer with a plain-text body.
func replyText(body string) *verify.Reply {
	return &verify.Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(body)}
}

// maxChallenge bounds a challenge string a preset echoes.
const maxChallenge = 1 << 10

// secretPtrs returns pointers to copies of secrets: fmt prints a pointer
// to a string as an address, so a stray %+v of a preset cannot leak them.
func secretPtrs(secrets []string) []*string {
	out := make([]*string, len(secrets))
	for i := range secrets {
		s := secrets[i]
		out[i] = &s
	}
	return out
}

// topLevelKeys returns up to max keys of the top-level JSON object body,
// in order, skipping their values. It returns nil for anything that is not
// a JSON object. Call it only on verified bodies.
func topLevelKeys(body []byte, max int) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() && len(keys) < max {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, ok := t.(string)
		if !ok {
			return keys
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}
