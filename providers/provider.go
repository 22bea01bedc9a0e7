package providers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// Provider is what every preset implements: it verifies requests from one
// sender and can sign outgoing deliveries the way that sender does, for
// tests and local tooling.
//
// A Provider is safe for concurrent use by multiple goroutines.
type Provider interface {
	// Name returns the preset's lowercase name, for example "stripe".
	Name() string
	// Verify checks the signature (and, where the scheme signs one, the
	// timestamp against now) of req and returns what it learned. Every
	// error it returns is a [*verify.Error] wrapping one of the verify
	// sentinels.
	Verify(req verify.Request, now time.Time) (verify.Delivery, error)
	// Sign returns the headers the sender would send with o, including
	// Content-Type and the signature, computed with the first secret.
	Sign(o Outgoing) (http.Header, error)
	// Info describes the preset.
	Info() Info
}

// Outgoing describes a delivery to sign, for tests and command-line tools.
type Outgoing struct {
	// Body is the exact body to send.
	Body []byte
	// ID is the event ID for schemes that carry it in a header (GitHub
	// X-GitHub-Delivery, Shopify X-Shopify-Event-Id and X-Shopify-Webhook-Id,
	// Standard Webhooks webhook-id, Svix svix-id). Empty means a random
	// one. Presets whose ID is in the body ignore it.
	ID string
	// Type is the event type for schemes that carry it in a header (GitHub
	// X-GitHub-Event, Shopify X-Shopify-Topic). Presets whose type is in
	// the body ignore it.
	Type string
	// Timestamp is the signed timestamp; zero means time.Now().
	Timestamp time.Time
	// Method is the HTTP method; empty means POST. None of the presets in
	// this package signs it.
	Method string
	// URL is the target URL, for schemes that sign it. None of the presets
	// in this package signs it.
	URL string
	// ContentType is the body's media type; empty means application/json.
	// GitHub form deliveries use application/x-www-form-urlencoded.
	ContentType string
}

// Info describes a preset for documentation, the README and the CLI.
type Info struct {
	// Name is the preset's lowercase name, for example "stripe".
	Name string
	// Title is the provider's display name, for example "Stripe".
	Title string
	// SignatureHeader is the header that carries the signature.
	SignatureHeader string
	// Algorithm names the algorithm and encoding, for example
	// "HMAC-SHA256 (hex)".
	Algorithm string
	// Timestamped reports whether the scheme signs a timestamp, so that
	// the replay window applies.
	Timestamped bool
	// IDSource says where the event ID comes from.
	IDSource string
	// TypeSource says where the event type comes from.
	TypeSource string
	// Handshake describes the handshake the preset answers, or is empty.
	Handshake string
	// SignedInBody reports whether the signature or signed data lives
	// inside the body (Mailgun's signature object, Linear's
	// webhookTimestamp), so that [Preset.SignBody] returns a new body
	// rather than the one given.
	SignedInBody bool
	// SharedToken reports whether the sender proves itself with a shared
	// secret that it sends as is (a token, basic-auth credentials or an
	// authorization header) rather than with a signature: anyone who
	// reads one delivery can replay the secret, so it must arrive over
	// TLS. It is true for GitLab, Postmark and Okta. The hookguard
	// receiver and middleware refuse such deliveries over plain HTTP; see
	// [Preset.SharedToken].
	SharedToken bool
}

// Configuration errors returned by the constructors, besides
// [verify.ErrEmptySecret] and [verify.ErrInvalidSecret].
var (
	// ErrInvalidOption means an option's value is out of range, or the
	// option does not apply to the preset it was given to.
	ErrInvalidOption = errors.New("providers: invalid option")
	// ErrUnknownProvider means [New] was given a name that is not one of
	// [Names].
	ErrUnknownProvider = errors.New("providers: unknown provider")
	// ErrCannotSign means the preset holds no key it can sign with, for
	// example a Standard Webhooks verifier built from a "whpk_" public key.
	ErrCannotSign = errors.New("providers: cannot sign")
)

// Option configures a preset. Options are created by the With functions
// of this package and by [InsecureSkipVerification]; a nil Option is
// skipped. A value out of range, or an option the preset cannot honour, is
// an error from the constructor, wrapping [ErrInvalidOption].
type Option func(*config)

type config struct {
	secrets   []string // positional secret first
	window    verify.Window
	noTime    bool
	legacy    bool
	insecure  bool
	optionErr error
	asym      asymConfig // options of the asymmetric and handshake presets (options_asymmetric.go)
}

// WithSecret adds one more accepted secret, tried after the positional one
// and any added before it: use it while rotating a secret, or for a Stripe
// Connect endpoint that receives events signed with two secrets. Signing
// always uses the positional secret. [verify.Delivery.SecretIndex] reports which
// secret matched: 0 for the positional one, 1 for the first WithSecret, and
// so on.
func WithSecret(secret string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secret) }
}

// WithTolerance sets how far a signed timestamp may lie before now (past)
// and after now (future). Both default to [verify.DefaultTolerance]. A value
// of zero or less is a construction error: to accept any timestamp, use
// [WithoutTimestampCheck] instead. Given to a preset that signs no timestamp
// (GitHub, Shopify, ...; see [Info].Timestamped), it is a construction
// error.
func WithTolerance(past, future time.Duration) Option {
	return func(c *config) {
		if past <= 0 || future <= 0 {
			c.setErr(fmt.Errorf("%w: WithTolerance(%v, %v): both limits must be positive; use WithoutTimestampCheck to disable the check", ErrInvalidOption, past, future))
			return
		}
		c.window = verify.Window{Past: past, Future: future}
	}
}

// WithoutTimestampCheck accepts a signed timestamp however far it lies from
// now. The timestamp must still be present and well formed, and it is
// still covered by the signature. Use it only to replay stored deliveries
// in tests; in production a captured request could be replayed forever.
// Given to a preset that signs no timestamp, it is a construction error.
func WithoutTimestampCheck() Option {
	return func(c *config) { c.noTime = true }
}

// WithLegacySHA1 makes the GitHub preset also accept the legacy
// X-Hub-Signature header (HMAC-SHA1, "sha1=") when a request carries no
// X-Hub-Signature-256 header. GitHub sends both; prefer SHA-256 and use this
// only for old GitHub Enterprise Server instances. A request whose
// X-Hub-Signature-256 header is present never falls back to SHA-1. Given to
// any other preset, it is a construction error.
func WithLegacySHA1() Option {
	return func(c *config) { c.legacy = true }
}

// InsecureSkipVerification turns signature and timestamp checks OFF.
//
// DO NOT USE IN PRODUCTION: anyone who can reach the endpoint can then
// forge any event. It exists only for local development against a sender
// that cannot sign (a hand-written curl, a replayed fixture). Verify still
// extracts the event ID and type and still answers handshakes, and sets
// [verify.Delivery.SecretIndex] to -1 so that callers can see, and log, that
// nothing was verified; for GitHub and Shopify, [verify.Delivery.Digest] is
// then a SHA-256 of the body. A secret must still be given to the
// constructor.
func InsecureSkipVerification() Option {
	return func(c *config) { c.insecure = true }
}

func (c *config) setErr(err error) {
	if c.optionErr == nil {
		c.optionErr = err
	}
}

// newConfig applies opts after the positional secret and checks what every
// preset has in common.
func newConfig(name, secret string, opts []Option) (*config, error) {
	c, err := parseConfig(name, secret, opts)
	if err != nil {
		return nil, err
	}
	// An option meant for another preset is an error here, as it is for
	// the presets built with newPresetConfig: ignored, it would leave a
	// user believing, say, that WithVerifyToken guards this endpoint.
	if err := c.rejectAsym(name, 0); err != nil {
		return nil, err
	}
	return c, nil
}

// parseConfig applies opts and checks the secrets, leaving the check of
// preset-specific options to the caller.
func parseConfig(name, secret string, opts []Option) (*config, error) {
	c := &config{secrets: []string{secret}}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if c.optionErr != nil {
		return nil, fmt.Errorf("%s: %w", name, c.optionErr)
	}
	for i, s := range c.secrets {
		if s == "" {
			if i == 0 {
				return nil, fmt.Errorf("%s: %w: pass the signing secret from the sender's dashboard", name, verify.ErrEmptySecret)
			}
			return nil, fmt.Errorf("%s: %w: WithSecret #%d is empty", name, verify.ErrEmptySecret, i)
		}
	}
	return c, nil
}

// rejectTiming returns an error when WithTolerance or
// WithoutTimestampCheck was given to a preset whose scheme signs no
// timestamp: there is no window for them to change, and accepting them
// would leave a user believing the endpoint has one.
func (c *config) rejectTiming(name string) error {
	switch {
	case c.window != (verify.Window{}):
		return fmt.Errorf("%s: %w: WithTolerance: %s signs no timestamp, so there is no replay window to set; its deliveries are deduplicated by ID and by a digest of their signed content instead", name, ErrInvalidOption, name)
	case c.noTime:
		return fmt.Errorf("%s: %w: WithoutTimestampCheck: %s signs no timestamp, so there is no timestamp check to turn off", name, ErrInvalidOption, name)
	}
	return nil
}

// rejectLegacy returns an error when WithLegacySHA1 was given to a preset
// other than GitHub.
func (c *config) rejectLegacy(name string) error {
	if c.legacy {
		return fmt.Errorf("%s: %w: WithLegacySHA1 applies only to the github preset", name, ErrInvalidOption)
	}
	return nil
}

// hmacSecrets keys an HMAC-SHA256 with the raw bytes of each secret.
func hmacSecrets(name string, raw []string) (*verify.HMAC, error) {
	return rawSecrets(name, verify.SHA256, raw)
}

// rawSecrets keys an HMAC of alg with the raw bytes of each secret.
func rawSecrets(name string, alg verify.Algorithm, raw []string) (*verify.HMAC, error) {
	secrets := make([]verify.Secret, len(raw))
	for i, s := range raw {
		sec, err := verify.NewSecret(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		secrets[i] = sec
	}
	return newHMAC(name, alg, secrets)
}

func newHMAC(name string, alg verify.Algorithm, secrets []verify.Secret) (*verify.HMAC, error) {
	h, err := verify.NewHMAC(alg, secrets...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return h, nil
}

// timing is the timestamp policy shared by the timestamped presets.
type timing struct {
	window       verify.Window
	check        bool
	past, future time.Duration // window with the defaults of Window.Check applied, for within
}

func newTiming(c *config) timing {
	t := timing{window: c.window, check: !c.noTime, past: c.window.Past, future: c.window.Future}
	if t.past <= 0 {
		t.past = verify.DefaultTolerance
	}
	if t.future <= 0 {
		t.future = verify.DefaultTolerance
	}
	return t
}

// checkTime applies the window; reason names the header for the error.
func (t timing) checkTime(name, header string, ts, now time.Time) error {
	if !t.check || t.within(ts, now) {
		return nil
	}
	var e *verify.Error
	switch err := t.window.Check(ts, now); {
	case errors.Is(err, verify.ErrTimestampTooOld):
		e = verify.Fail(name, err, header+" is older than the replay window allows: a replayed or very late delivery, or a slow receiver clock (check NTP)")
	case errors.Is(err, verify.ErrTimestampTooNew):
		e = verify.Fail(name, err, header+" lies further in the future than the replay window allows: check the receiver's clock (NTP)")
	case err != nil:
		e = verify.Fail(name, err, header+" is outside the replay window")
	default:
		return nil
	}
	e.Skew = now.Sub(ts)
	return e
}

// within reports that ts, a parsed timestamp (no monotonic reading), is
// inside the window around now, where Window.Check would return nil. It
// compares Unix seconds and nanoseconds as integers, which costs a fraction
// of Window.Check's two time.Add calls on a monotonic now. It reports
// false for a timestamp outside the window or more than 2^32 s from now;
// checkTime then asks Window.Check, which says why.
func (t timing) within(ts, now time.Time) bool {
	const (
		far = 1 << 32 // seconds; 2^32 s in nanoseconds fits an int64
		lim = 1 << 62 // seconds; the difference of two such fits an int64
	)
	n, u := now.Unix(), ts.Unix()
	if n <= -lim || n >= lim || u <= -lim || u >= lim {
		return false
	}
	sec := n - u
	if sec <= -far || sec >= far {
		return false
	}
	d := time.Duration(sec)*time.Second + time.Duration(now.Nanosecond()-ts.Nanosecond()) // now - ts, exactly
	return d <= t.past && -d <= t.future
}

// header returns the values of the header named key, which must be in
// canonical form. Headers from net/http are canonical; for a hand-built
// map whose keys are not, it falls back to a case-insensitive scan, which
// allocates nothing.
func header(h http.Header, key string) []string {
	if v, ok := h[key]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// first returns the first value of the header named key, or "".
func first(h http.Header, key string) string {
	if v := header(h, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// single returns the value of a header that must not carry two different
// values. Repeated identical lines (a proxy that duplicated them) are
// accepted. ok is false when the lines differ.
func single(h http.Header, key string) (v string, present, ok bool) {
	return singleValue(header(h, key))
}

// singleValue is single for the values of a header already looked up.
func singleValue(vals []string) (v string, present, ok bool) {
	if len(vals) == 0 {
		return "", false, true
	}
	v = trimOWS(vals[0])
	for _, o := range vals[1:] {
		if trimOWS(o) != v {
			return v, true, false
		}
	}
	return v, true, true
}

// maxHeaderBytes bounds the total size of a signature header's values:
// far above what any sender sends with [verify.MaxSignatures] entries.
const maxHeaderBytes = 8 << 10

func tooLong(vals []string) bool {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	return n > maxHeaderBytes
}

// trimOWS trims spaces and tabs, the optional whitespace of HTTP.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// addSig decodes enc-encoded s and adds it to sigs when it decodes to
// exactly size bytes. A truncated or padded signature is not usable: it
// could never match, and it says the header was damaged.
func addSig(sigs *verify.Signatures, enc verify.Encoding, s string, size int) bool {
	// Where the encoded length tells the decoded size, check it first and
	// decode straight into sigs: that saves zeroing a buffer and a copy.
	switch enc {
	case verify.Hex:
		return len(s) == 2*size && sigs.Add(enc, s)
	case verify.Base64:
		n := len(s) // without padding, which Decode checks
		for n > 0 && s[n-1] == '=' {
			n--
		}
		return n*6/8 == size && sigs.Add(enc, s)
	}
	var buf [verify.MaxSignatureSize]byte
	n, ok := enc.Decode(buf[:], s)
	if !ok || n != size {
		return false
	}
	return sigs.AddRaw(buf[:n])
}

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// outgoingTime returns o's timestamp, or now.
func outgoingTime(o Outgoing) time.Time {
	if o.Timestamp.IsZero() {
		return time.Now()
	}
	return o.Timestamp
}

func contentType(o Outgoing) string {
	if o.ContentType == "" {
		return "application/json"
	}
	return o.ContentType
}

// randomID returns prefix followed by 32 random hex digits.
func randomID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return prefix + hex.EncodeToString(b[:])
}

// uuid returns a random version 4 UUID, the form GitHub delivery IDs take.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// bodyField returns the value at path in a verified body for an event ID
// or type, as encoding/json decodes it for the handler: "" when absent,
// and a 400 error (see bodyJSONError) when the body holds the name twice
// (or in another case) or the value is a string with invalid UTF-8, which
// would make the ID used for deduplication differ from the one the handler
// decodes, or two IDs read as one.
func bodyField(provider string, body []byte, path ...string) (string, error) {
	v, _, err := jsonscan.Find(body, path...)
	if err != nil {
		return "", bodyJSONError(provider, err)
	}
	return v, nil
}

// bodyJSONError turns an error of the JSON readers (internal/jsonscan) into a 400
// verification error that says what was wrong with the body, wrapping
// verify.ErrAmbiguousJSON or verify.ErrInvalidJSONString.
func bodyJSONError(provider string, err error) error {
	var je *jsonscan.Error
	if !errors.As(err, &je) {
		return err
	}
	return &verify.Error{Provider: provider, Reason: je.Reason() + ": a genuine delivery never has that", Status: http.StatusBadRequest, Err: je.Err}
}

// idAndType returns the body's field at idPath and its top-level typeKey
// (interned by internType) as bodyField reads them, for one allocation,
// the ID's: both are appended to one buffer on the stack, then the ID is
// converted and the type looked up. When idPath is one key, one pass over
// the top-level object reads both and checks that neither name occurs
// twice.
func idAndType(provider string, body []byte, idPath []string, typeKey string) (id, typ string, err error) {
	var arr [128]byte
	if len(idPath) == 1 {
		ms := [2]jsonscan.Member{{Key: idPath[0]}, {Key: typeKey}}
		buf, err := jsonscan.AppendMembers(arr[:0], body, ms[:])
		if err != nil {
			return "", "", bodyJSONError(provider, err)
		}
		if ms[0].Found && ms[0].Raw == nil {
			id = string(buf[ms[0].Start:ms[0].End])
		}
		if ms[1].Found && ms[1].Raw == nil {
			typ = internType(buf[ms[1].Start:ms[1].End])
		}
		return id, typ, nil
	}
	if id, err = bodyField(provider, body, idPath...); err != nil {
		return "", "", err
	}
	if typ, err = typeField(provider, body, typeKey); err != nil {
		return "", "", err
	}
	return id, typ, nil
}

// topField returns a top-level field as bodyField does, for an ID or type
// source of a custom scheme ([NewCustom]).
func topField(provider string, body []byte, key string) (string, error) {
	return bodyField(provider, body, key)
}

// Where the Okta and Square presets read their event IDs: package
// variables, so that passing them does not allocate.
var (
	oktaIDPath   = []string{"eventId"}
	squareIDPath = []string{"event_id"}
)
