package providers

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookguard/hookguard/internal/keys"
	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

// ErrInvalidScheme means a [Scheme] cannot be used: a field is missing,
// unknown or contradicts another. The error's text names every problem and
// what to write instead.
var ErrInvalidScheme = errors.New("providers: invalid scheme")

// Scheme describes a signature scheme declaratively, so that a sender that
// has no preset can be verified without code. The same description is
// read from JSON by [ParseScheme] (field names in the struct tags; unknown
// fields are an error) and turned into a [Provider] by [NewCustom].
//
// A Scheme holds no secret: the secret is given to NewCustom, as to every
// preset.
//
// Handshakes (Slack's url_verification, GET challenges) are not part of a
// Scheme: a sender that needs one needs a preset.
type Scheme struct {
	// Name is the lowercase name of the scheme: letters, digits, '-' and
	// '_', at most 64 bytes. It is [verify.Delivery.Provider], and the CLI
	// uses it in URLs and in --secret NAME=SECRET.
	Name string `json:"name"`
	// Title is a display name; empty means Name.
	Title string `json:"title,omitempty"`

	// Header is the header that carries the signature, such as
	// "X-Hub-Signature-256".
	Header string `json:"header"`
	// Prefix is the text before each signature in the header, such as
	// "sha256=" or "v1,"; it is matched ignoring ASCII case, and entries
	// with another prefix are ignored. It cannot be combined with
	// VersionKey.
	Prefix string `json:"prefix,omitempty"`
	// Separator says how one header value holds several signatures:
	// "none" (or empty: one signature per header line), "space", "comma"
	// or "semicolon". Repeated header lines are always read.
	Separator string `json:"separator,omitempty"`
	// VersionKey, when set, makes the entries "key=value" items, as in
	// Stripe's "t=...,v1=...": the values of items whose key is
	// VersionKey are the signatures, other items are ignored (except the
	// timestamp's, see [SchemeTimestamp.Key]). It needs a Separator.
	VersionKey string `json:"version_key,omitempty"`

	// Algorithm is "hmac-sha1", "hmac-sha256", "hmac-sha512" or "ed25519".
	Algorithm string `json:"algorithm"`
	// Encoding is how a signature is written: "hex", "base64" or
	// "base64url". Decoding accepts either hex case and, for both base64
	// forms, either alphabet with or without padding; signing writes
	// lowercase hex, padded standard base64 or unpadded base64url.
	Encoding string `json:"encoding"`
	// SecretFormat is how the HMAC key is written in the secret given to
	// [NewCustom]: "raw" (the default: the bytes as written, as Stripe,
	// GitHub, Shopify and Slack use them), "whsec" ("whsec_" plus base64,
	// as Standard Webhooks and Svix), "hex" or "base64". It must be empty
	// for "ed25519", whose secret is a public key (32 bytes as hex or
	// base64, or "whpk_" plus base64) or, to sign, a private key ("whsk_"
	// plus base64, or the 64-byte key as hex or base64).
	SecretFormat string `json:"secret_format,omitempty"`

	// Signed is the signed content as a template: literal text and the
	// placeholders {body} (exactly once), {id}, {timestamp}, {url},
	// {method} and {header:Name}. "{{" and "}}" stand for literal braces.
	// Stripe's is "{timestamp}.{body}", Slack's "v0:{timestamp}:{body}".
	Signed string `json:"signed"`
	// Timestamp says where the signed timestamp is; nil when the scheme
	// signs none. It is set exactly when Signed holds {timestamp}.
	Timestamp *SchemeTimestamp `json:"timestamp,omitempty"`

	// ID lists where the event ID is, tried in order until one is not
	// empty. When Signed holds {id}, ID must be exactly one header: its
	// value is what is signed.
	ID []SchemeField `json:"id,omitempty"`
	// Type lists where the event type is, tried in order until one is not
	// empty.
	Type []SchemeField `json:"type,omitempty"`
}

// SchemeTimestamp says where a [Scheme]'s signed timestamp is and how it
// is written. Exactly one of Header and Key is set.
type SchemeTimestamp struct {
	// Header is the header that carries the timestamp.
	Header string `json:"header,omitempty"`
	// Key is the key of the item that carries the timestamp inside the
	// signature header, such as "t" for Stripe; it needs
	// [Scheme.VersionKey].
	Key string `json:"key,omitempty"`
	// Unit is "s" (the default) for Unix seconds or "ms" for Unix
	// milliseconds.
	Unit string `json:"unit,omitempty"`
	// Tolerance is how far the timestamp may lie from now in each
	// direction, as a Go duration such as "5m"; empty means
	// [verify.DefaultTolerance]. [WithTolerance] overrides it.
	Tolerance string `json:"tolerance,omitempty"`
}

// SchemeField is one place to read an event ID or type from. Exactly one
// of Header and JSON is set.
type SchemeField struct {
	// Header names a request header.
	Header string `json:"header,omitempty"`
	// JSON is a path of member names into a JSON object body:
	// ["data", "id"] is the "id" of the top-level "data" object. A body
	// that holds a name along the path twice, or only in another case, is
	// refused with [verify.ErrAmbiguousJSON].
	JSON []string `json:"json,omitempty"`
}

// Limits on a Scheme, far above what any sender needs.
const (
	maxSchemeJSON     = 64 << 10
	maxTemplateBytes  = 1 << 10
	maxTemplateParts  = 16
	maxFieldSources   = 4
	maxSchemeNameSize = 64
)

// ParseScheme reads a [Scheme] from JSON and validates it. Unknown fields,
// trailing data and a document larger than 64 KiB are errors; every error
// wraps [ErrInvalidScheme].
func ParseScheme(data []byte) (Scheme, error) {
	var s Scheme
	if len(data) > maxSchemeJSON {
		return s, fmt.Errorf("%w: the JSON is %d bytes; a scheme is at most %d", ErrInvalidScheme, len(data), maxSchemeJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Scheme{}, fmt.Errorf("%w: %v: write one JSON object with the fields of providers.Scheme", ErrInvalidScheme, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Scheme{}, fmt.Errorf("%w: data after the JSON object: a file holds one scheme", ErrInvalidScheme)
	}
	if err := s.Validate(); err != nil {
		return Scheme{}, err
	}
	return s, nil
}

// Validate reports every problem with s in one error wrapping
// [ErrInvalidScheme], or nil when [NewCustom] can use it.
func (s Scheme) Validate() error {
	_, err := compileScheme(&s)
	return err
}

// Template placeholders.
type partKind uint8

const (
	partLiteral partKind = iota
	partBody
	partID
	partTimestamp
	partURL
	partMethod
	partHeader
)

// part is one piece of a compiled template: literal text, or a value
// taken from the request (for partHeader, text is the canonical name).
type part struct {
	kind partKind
	text string
}

// parseTemplate compiles a Signed template. Adjacent literal text is
// merged, so "{id}.{timestamp}.{body}" is five parts.
func parseTemplate(s string) ([]part, error) {
	if s == "" {
		return nil, errors.New("empty: write the signed content, such as {timestamp}.{body}")
	}
	if len(s) > maxTemplateBytes {
		return nil, fmt.Errorf("%d bytes long; at most %d", len(s), maxTemplateBytes)
	}
	var (
		parts []part
		lit   strings.Builder
	)
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, part{kind: partLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '}':
			return nil, fmt.Errorf("a lone } at byte %d; write }} for a literal brace", i)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("the { at byte %d is never closed", i)
			}
			name := s[i+1 : i+end]
			p, err := placeholder(name)
			if err != nil {
				return nil, fmt.Errorf("{%s} at byte %d: %w", quoteSafe(name), i, err)
			}
			flush()
			parts = append(parts, p)
			i += end + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if len(parts) > maxTemplateParts {
		return nil, fmt.Errorf("%d parts; at most %d", len(parts), maxTemplateParts)
	}
	return parts, nil
}

func placeholder(name string) (part, error) {
	switch name {
	case "body":
		return part{kind: partBody}, nil
	case "id":
		return part{kind: partID}, nil
	case "timestamp":
		return part{kind: partTimestamp}, nil
	case "url":
		return part{kind: partURL}, nil
	case "method":
		return part{kind: partMethod}, nil
	}
	if h, ok := strings.CutPrefix(name, "header:"); ok {
		if !isHeaderToken(h) {
			return part{}, errors.New("not a valid header name")
		}
		return part{kind: partHeader, text: http.CanonicalHeaderKey(h)}, nil
	}
	return part{}, errors.New("unknown placeholder; use {body}, {id}, {timestamp}, {url}, {method} or {header:Name}, and {{ for a literal brace")
}

// printable returns s for an error message, cut short and with anything
// but printable ASCII replaced, so a hostile scheme file cannot inject
// text into logs.
func quoteSafe(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// isToken reports whether s is an RFC 9110 token, as header names are.
func isHeaderToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// schemeSource is a compiled SchemeField.
type schemeSource struct {
	header string // canonical; "" for a JSON path
	path   []string
}

// compiled is a validated Scheme, ready to verify with.
type compiled struct {
	name, title  string
	sigH         string // canonical
	prefix       string
	sep          byte // 0: one signature per line; ' ', ',' or ';'
	versionKey   string
	alg          verify.Algorithm // 0 for Ed25519
	ed           bool
	size         int // decoded signature size
	enc          verify.Encoding
	encName      string
	secretFormat string
	parts        []part
	bodyAt       int
	fast         bool   // the parts fit a verify.Message without copying
	tsH, tsKey   string // at most one is set
	tsMilli      bool
	tolerance    time.Duration
	timed        bool // signs a timestamp
	idH          string
	signsID      bool
	// unsignedID is true when an ID source is a header the signature does
	// not cover: whoever replays a request can rewrite it, so deliveries
	// get a Digest as well.
	unsignedID bool
	ids, types []schemeSource
}

// compileScheme validates s and compiles it, collecting every problem.
func compileScheme(s *Scheme) (*compiled, error) {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	c := &compiled{name: s.Name, title: s.Title}
	if c.title == "" {
		c.title = s.Name
	}

	switch {
	case s.Name == "":
		bad("name is empty: give the scheme a lowercase name such as acme")
	case len(s.Name) > maxSchemeNameSize || strings.TrimLeft(s.Name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "":
		bad("name %q must be at most %d lowercase letters, digits, '-' or '_'", quoteSafe(s.Name), maxSchemeNameSize)
	}

	if !isHeaderToken(s.Header) {
		bad("header %q is not a header name: name the header that carries the signature", quoteSafe(s.Header))
	}
	c.sigH = http.CanonicalHeaderKey(s.Header)
	c.prefix = s.Prefix
	switch s.Separator {
	case "", "none":
	case "space":
		c.sep = ' '
	case "comma":
		c.sep = ','
	case "semicolon":
		c.sep = ';'
	default:
		bad("separator %q is unknown: use none, space, comma or semicolon", quoteSafe(s.Separator))
	}
	switch {
	case c.sep == ' ' && strings.ContainsAny(s.Prefix, " \t"), c.sep != 0 && c.sep != ' ' && strings.IndexByte(s.Prefix, c.sep) >= 0:
		bad("prefix %q holds the separator, so no entry could carry it", quoteSafe(s.Prefix))
	case len(s.Prefix) > 64 || strings.ContainsFunc(s.Prefix, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		bad("prefix must be at most 64 printable ASCII characters without spaces")
	}
	c.versionKey = s.VersionKey
	if s.VersionKey != "" {
		switch {
		case c.sep == 0:
			bad("version_key needs a separator between the key=value items (comma for Stripe's t=...,v1=...)")
		case s.Prefix != "":
			bad("version_key and prefix cannot both be set: with key=value items the key is the prefix")
		case !isHeaderToken(s.VersionKey) || strings.IndexByte(s.VersionKey, c.sep) >= 0:
			bad("version_key %q must be a plain word such as v1", quoteSafe(s.VersionKey))
		}
	}

	switch s.Algorithm {
	case "hmac-sha1":
		c.alg = verify.SHA1
	case "hmac-sha256":
		c.alg = verify.SHA256
	case "hmac-sha512":
		c.alg = verify.SHA512
	case "ed25519":
		c.ed = true
	default:
		bad("algorithm %q is unknown: use hmac-sha1, hmac-sha256, hmac-sha512 or ed25519", quoteSafe(s.Algorithm))
	}
	c.size = c.alg.Size()
	if c.ed {
		c.size = ed25519.SignatureSize
	}
	c.encName = s.Encoding
	switch s.Encoding {
	case "hex":
		c.enc = verify.Hex
	case "base64", "base64url":
		c.enc = verify.Base64
	default:
		bad("encoding %q is unknown: use hex, base64 or base64url", quoteSafe(s.Encoding))
	}
	// The secret format's value is never echoed: a user may have put the
	// secret itself there.
	c.secretFormat = s.SecretFormat
	switch {
	case c.ed && s.SecretFormat != "":
		bad("secret_format must be empty for ed25519: the secret is the public key (hex or base64) or a whsk_ private key")
	case c.ed:
	case s.SecretFormat == "":
		c.secretFormat = "raw"
	case s.SecretFormat == "raw", s.SecretFormat == "whsec", s.SecretFormat == "hex", s.SecretFormat == "base64":
	default:
		bad("secret_format is unknown: use raw, whsec, hex or base64 (the secret itself never goes in the scheme)")
	}

	parts, err := parseTemplate(s.Signed)
	if err != nil {
		bad("signed: %v", err)
	}
	c.parts, c.bodyAt = parts, -1
	var signsTS, signsID bool
	for i, p := range parts {
		switch p.kind {
		case partBody:
			if c.bodyAt >= 0 {
				bad("signed holds {body} twice; it must hold it exactly once")
			}
			c.bodyAt = i
		case partTimestamp:
			signsTS = true
		case partID:
			signsID = true
		}
	}
	if err == nil && c.bodyAt < 0 {
		bad("signed has no {body}: a signature that does not cover the body does not authenticate the event")
	}
	if c.bodyAt >= 0 {
		c.fast = c.bodyAt <= len(verify.Message{}.Prefix) && len(parts)-c.bodyAt-1 <= 1
	}

	if ts := s.Timestamp; ts != nil {
		switch {
		case ts.Header != "" && ts.Key != "":
			bad("timestamp: set header or key, not both")
		case ts.Header != "":
			if !isHeaderToken(ts.Header) {
				bad("timestamp.header %q is not a header name", quoteSafe(ts.Header))
			}
			c.tsH = http.CanonicalHeaderKey(ts.Header)
			if c.tsH == c.sigH {
				bad("timestamp.header is the signature header: to read the timestamp from inside it, set timestamp.key and version_key")
			}
		case ts.Key != "":
			switch {
			case s.VersionKey == "":
				bad("timestamp.key reads a key=value item of the signature header, which needs version_key")
			case ts.Key == s.VersionKey:
				bad("timestamp.key and version_key are both %q", quoteSafe(ts.Key))
			case !isHeaderToken(ts.Key) || (c.sep != 0 && strings.IndexByte(ts.Key, c.sep) >= 0):
				bad("timestamp.key %q must be a plain word such as t", quoteSafe(ts.Key))
			}
			c.tsKey = ts.Key
		default:
			bad("timestamp: set header (a header that carries it) or key (an item of the signature header)")
		}
		switch ts.Unit {
		case "", "s":
		case "ms":
			c.tsMilli = true
		default:
			bad("timestamp.unit %q is unknown: use s (Unix seconds) or ms (Unix milliseconds)", quoteSafe(ts.Unit))
		}
		if ts.Tolerance != "" {
			d, err := time.ParseDuration(ts.Tolerance)
			if err != nil || d <= 0 {
				bad("timestamp.tolerance %q must be a positive duration such as 5m", quoteSafe(ts.Tolerance))
			}
			c.tolerance = d
		}
		if !signsTS && err == nil {
			bad("timestamp is set but signed has no {timestamp}: an unsigned timestamp protects against nothing; add {timestamp} to signed, or remove timestamp")
		}
	} else if signsTS {
		bad("signed holds {timestamp} but timestamp is not set: say where the timestamp is (timestamp.header or timestamp.key)")
	}
	c.timed = signsTS && s.Timestamp != nil

	c.ids = compileSources("id", s.ID, bad)
	c.types = compileSources("type", s.Type, bad)
	if signsID {
		if len(c.ids) != 1 || c.ids[0].header == "" {
			bad("signed holds {id}, so id must be exactly one header, whose value is signed")
		} else {
			c.idH, c.signsID = c.ids[0].header, true
		}
	}
	for _, src := range c.ids {
		if src.header != "" && !(c.signsID && src.header == c.idH) && !slices.ContainsFunc(parts, func(p part) bool {
			return p.kind == partHeader && p.text == src.header
		}) {
			c.unsignedID = true
		}
	}
	for _, p := range parts {
		if p.kind == partHeader && p.text == c.sigH {
			bad("signed cannot hold the signature header itself")
		}
	}
	// Each header has one role: Sign sets it once.
	roles := map[string]string{c.sigH: "the signature"}
	if c.tsH != "" && c.tsH != c.sigH {
		roles[c.tsH] = "the timestamp"
	}
	for _, group := range []struct {
		role string
		srcs []schemeSource
	}{{"id", c.ids}, {"type", c.types}} {
		for _, s := range group.srcs {
			if s.header == "" {
				continue
			}
			if r, ok := roles[s.header]; ok && r != group.role {
				bad("%s reads header %s, which carries %s", group.role, s.header, r)
			}
			roles[s.header] = group.role
		}
	}

	if len(probs) > 0 {
		name := s.Name
		if name == "" {
			name = "(unnamed)"
		}
		return nil, fmt.Errorf("%w %q: %s", ErrInvalidScheme, quoteSafe(name), strings.Join(probs, "; "))
	}
	return c, nil
}

func compileSources(field string, fs []SchemeField, bad func(string, ...any)) []schemeSource {
	if len(fs) > maxFieldSources {
		bad("%s lists %d places; at most %d", field, len(fs), maxFieldSources)
		return nil
	}
	out := make([]schemeSource, 0, len(fs))
	for i, f := range fs {
		switch {
		case f.Header != "" && len(f.JSON) > 0:
			bad("%s[%d]: set header or json, not both", field, i)
		case f.Header != "":
			if !isHeaderToken(f.Header) {
				bad("%s[%d].header %q is not a header name", field, i, quoteSafe(f.Header))
			}
			out = append(out, schemeSource{header: http.CanonicalHeaderKey(f.Header)})
		case len(f.JSON) > 0:
			if len(f.JSON) > 8 {
				bad("%s[%d].json is %d keys deep; at most 8", field, i, len(f.JSON))
			}
			for _, k := range f.JSON {
				if k == "" {
					bad("%s[%d].json holds an empty key", field, i)
				}
			}
			out = append(out, schemeSource{path: append([]string(nil), f.JSON...)})
		default:
			bad("%s[%d]: set header (a header name) or json (a path such as [\"data\", \"id\"])", field, i)
		}
	}
	return out
}

// custom implements the Custom preset behind a [Preset]; see [NewCustom].
type custom struct {
	c        *compiled
	mac      *verify.HMAC
	ed       *verify.Ed25519
	priv     ed25519.PrivateKey // nil unless the first key is a private key
	timing   timing
	insecure bool
	info     Info
	bufs     sync.Pool // of *[]byte: signed content, when it does not fit a verify.Message
}

var _ Provider = (*custom)(nil)

// NewCustom returns a verifier for the scheme s under secret, in the
// format s.SecretFormat names. It accepts [WithSecret], [WithTolerance],
// [WithoutTimestampCheck] and [InsecureSkipVerification]. It returns an
// error wrapping [ErrInvalidScheme] for an invalid s,
// [verify.ErrEmptySecret] or [verify.ErrInvalidSecret] for a secret it
// cannot use, and [ErrInvalidOption] for a bad option.
//
// The preset verifies deliveries of a scheme described by a [Scheme]. It
// checks what the hand-written presets check: the signature in constant
// time against every configured secret, the signed timestamp against the
// replay window, and the structure of the signature header. A scheme that
// signs neither a timestamp nor the ID yields [verify.Delivery.Replayable]
// deliveries with a [verify.Delivery.Digest], as [NewGitHub]'s preset does; a
// delivery without an ID, or with one read from a header the signature
// does not cover, gets a Digest too. It never answers a handshake.
func NewCustom(s Scheme, secret string, opts ...Option) (*Preset, error) {
	return wrap(newCustom(s, secret, opts...))
}

func newCustom(s Scheme, secret string, opts ...Option) (*custom, error) {
	c, err := compileScheme(&s)
	if err != nil {
		return nil, err
	}
	// WithLegacySHA1 and the options of the asymmetric presets do not
	// apply to a Scheme.
	cfg, err := newPresetConfig(c.name, secret, opts, 0)
	if err != nil {
		return nil, err
	}
	if !c.timed {
		if err := cfg.rejectTiming(c.name); err != nil {
			return nil, err
		}
	}
	if cfg.window == (verify.Window{}) && c.tolerance > 0 {
		cfg.window = verify.Window{Past: c.tolerance, Future: c.tolerance}
	}
	p := &custom{c: c, timing: newTiming(cfg), insecure: cfg.insecure}
	p.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	if c.ed {
		keys := make([]ed25519.PublicKey, len(cfg.secrets))
		for i, raw := range cfg.secrets {
			pub, priv, err := parseEd25519Key(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: secret #%d: %w", c.name, i, err)
			}
			keys[i] = pub
			if i == 0 {
				p.priv = priv
			}
		}
		if p.ed, err = verify.NewEd25519(keys...); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	} else {
		keys := make([]verify.Secret, len(cfg.secrets))
		for i, raw := range cfg.secrets {
			if keys[i], err = parseHMACSecret(c.secretFormat, raw); err != nil {
				return nil, fmt.Errorf("%s: secret #%d: %w", c.name, i, err)
			}
		}
		if p.mac, err = newHMAC(c.name, c.alg, keys); err != nil {
			return nil, err
		}
	}
	p.info = c.describe()
	return p, nil
}

// parseHMACSecret reads an HMAC key written in format. Errors never hold
// the secret.
func parseHMACSecret(format, s string) (verify.Secret, error) {
	var (
		key []byte
		err error
	)
	switch format {
	case "whsec":
		return verify.ParseWhsec(s)
	case "hex":
		key, err = hex.DecodeString(s)
		if err != nil {
			return verify.Secret{}, fmt.Errorf("%w: the scheme's secret_format is hex; the secret is not an even number of hex digits", verify.ErrInvalidSecret)
		}
	case "base64":
		enc := base64.RawStdEncoding
		if strings.ContainsAny(s, "-_") {
			enc = base64.RawURLEncoding
		}
		key, err = enc.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return verify.Secret{}, fmt.Errorf("%w: the scheme's secret_format is base64; the secret is not base64", verify.ErrInvalidSecret)
		}
	default:
		return verify.NewSecret(s)
	}
	return verify.SecretFromBytes(key)
}

// parseEd25519Key reads an Ed25519 key: "whsk_" (private) or "whpk_"
// (public) plus base64, or a bare key of 32 bytes (public, as senders
// publish it) or 64 bytes (private) in hex or base64.
func parseEd25519Key(s string) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	if strings.HasPrefix(s, keys.PrivateKeyPrefix) {
		priv, err := keys.ParseEd25519PrivateKey(s)
		if err != nil {
			return nil, nil, err
		}
		return priv.Public().(ed25519.PublicKey), priv, nil
	}
	pub, err := verify.ParseEd25519PublicKey(s)
	if err == nil || strings.HasPrefix(s, keys.PublicKeyPrefix) {
		return pub, nil, err
	}
	// Not 32 bytes, so not a seed either (a bare 32-byte seed would be
	// taken for a public key; a seed needs "whsk_"): a whole 64-byte
	// private key.
	if priv, perr := keys.ParseEd25519PrivateKey(s); perr == nil {
		return priv.Public().(ed25519.PublicKey), priv, nil
	}
	return nil, nil, fmt.Errorf("%w: an ed25519 scheme takes the sender's public key (32 bytes as hex or base64, or whpk_ plus base64), or to sign a private key (whsk_ plus base64, or 64 bytes as hex or base64)", verify.ErrInvalidSecret)
}

// describe builds the Info of a compiled scheme.
func (c *compiled) describe() Info {
	alg := strings.ToUpper(c.algName())
	if c.ed {
		alg = "Ed25519"
	}
	how := c.encName
	switch {
	case c.versionKey != "":
		how += ", " + c.versionKey + "="
	case c.prefix != "":
		how += ", " + c.prefix + " prefix"
	}
	return Info{
		Name:            c.name,
		Title:           c.title,
		SignatureHeader: c.sigH,
		Algorithm:       alg + " (" + how + ")",
		Timestamped:     c.timed,
		IDSource:        describeSources(c.ids),
		TypeSource:      describeSources(c.types),
	}
}

func (c *compiled) algName() string {
	switch c.alg {
	case verify.SHA1:
		return "hmac-sha1"
	case verify.SHA512:
		return "hmac-sha512"
	}
	return "hmac-sha256"
}

func describeSources(srcs []schemeSource) string {
	var b strings.Builder
	for i, s := range srcs {
		if i > 0 {
			b.WriteString(", else ")
		}
		if s.header != "" {
			b.WriteString(s.header + " header")
		} else {
			b.WriteString(`body "` + strings.Join(s.path, ".") + `"`)
		}
	}
	return b.String()
}

// Name returns the scheme's name.
func (p *custom) Name() string { return p.c.name }

// Info describes the scheme.
func (p *custom) Info() Info { return p.info }

// customHeader is a parsed signature header.
type customHeader struct {
	t       string // the timestamp item's value, exactly as sent
	dupT    bool   // two different timestamp values
	tooMany bool
	sigs    verify.Signatures
}

// parseSignatures scans every value of the signature header.
func (c *compiled) parseSignatures(vals []string, p *customHeader) {
	for _, v := range vals {
		if c.sep == 0 {
			c.entry(trimOWS(v), p)
			continue
		}
		for len(v) > 0 && !p.tooMany {
			var e string
			if c.sep == ' ' {
				e, v = cutSpace(v)
			} else {
				e, v = cut(v, c.sep)
			}
			if e = trimOWS(e); e != "" {
				c.entry(e, p)
			}
		}
	}
}

// entry reads one entry of the signature header.
func (c *compiled) entry(e string, p *customHeader) {
	if c.versionKey != "" {
		key, val := cut(e, '=')
		switch key {
		case c.tsKey:
			if c.tsKey == "" {
				return
			}
			if p.t != "" && p.t != val {
				p.dupT = true
			}
			p.t = val
			return
		case c.versionKey:
			e = val
		default:
			return
		}
	} else {
		if !hasPrefixFold(e, c.prefix) {
			return
		}
		e = e[len(c.prefix):]
	}
	if p.sigs.Full() {
		p.tooMany = true
		return
	}
	addSig(&p.sigs, c.enc, e, c.size)
}

// Verify checks req's signature against the signed content the scheme
// describes, and a signed timestamp against the window around now.
func (p *custom) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	c := p.c
	name := c.name
	d := verify.Delivery{Provider: name, Replayable: !c.timed && !c.signsID}
	if p.insecure {
		d.SecretIndex = -1
		if c.timed {
			var h customHeader
			ts, _, ok := single(req.Header, c.tsH)
			if c.tsKey != "" {
				c.parseSignatures(header(req.Header, c.sigH), &h)
				ts, ok = h.t, !h.dupT
			}
			if t, err := c.parseTime(ts); err == nil && ok {
				d.Timestamp = t
			}
		}
		if err := p.extract(req, &d); err != nil {
			return d, err
		}
		if d.Replayable || c.unsignedID || d.ID == "" {
			d.Digest = sha256.Sum256(req.Body)
		}
		return d, nil
	}
	vals := header(req.Header, c.sigH)
	if err := checkSigValues(name, vals, c.sigH, "is this endpoint registered with the sender?"); err != nil {
		return d, err
	}
	var h customHeader
	c.parseSignatures(vals, &h)
	var (
		id, ts string
		err    error
	)
	if c.tsKey != "" {
		// The timestamp is an item of the signature header: check the
		// header's signatures first, as the Stripe preset does.
		if err := c.checkSigs(&h); err != nil {
			return d, err
		}
		if ts, d.Timestamp, err = c.timestamp(req, &h); err != nil {
			return d, err
		}
		if id, err = c.signedID(req); err != nil {
			return d, err
		}
	} else {
		// Separate headers: check them first, as the Standard Webhooks
		// and Slack presets do.
		if id, err = c.signedID(req); err != nil {
			return d, err
		}
		if c.timed {
			if ts, d.Timestamp, err = c.timestamp(req, &h); err != nil {
				return d, err
			}
		}
		if err := c.checkSigs(&h); err != nil {
			return d, err
		}
	}
	var vals16 [maxTemplateParts]string
	if err := c.values(req, id, ts, &vals16); err != nil {
		return d, err
	}
	if c.timed {
		if err := p.timing.checkTime(name, c.tsName(), d.Timestamp, now); err != nil {
			return d, err
		}
	}
	// The ID is read first, and kept only once verified: a delivery
	// without one, or with one the signature does not cover, takes its
	// Digest from the content that verifies.
	extractErr := p.extract(req, &d)
	var digest *[32]byte
	if d.Replayable || c.unsignedID || d.ID == "" {
		digest = &d.Digest
	}
	i, err := p.match(req.Body, &vals16, &h.sigs, digest)
	if err != nil {
		d.ID, d.Type = "", ""
		return d, verify.Fail(name, verify.ErrSignatureMismatch, c.sigH+" does not match any configured secret: check the secret and the scheme's signed template, and that nothing re-encoded the body")
	}
	if extractErr != nil {
		// Refused only now: a forged body fails as a mismatch.
		d.ID, d.Type = "", ""
		return d, extractErr
	}
	d.SecretIndex = i
	return d, nil
}

// signedID returns the value of the ID header when the scheme signs it,
// and "" when it does not.
func (c *compiled) signedID(req verify.Request) (string, error) {
	if !c.signsID {
		return "", nil
	}
	id, present, ok := single(req.Header, c.idH)
	if !present || id == "" {
		return "", verify.Fail(c.name, verify.ErrMissingHeader, "no "+c.idH+" header: it is part of the signed content")
	}
	if !ok {
		return "", verify.Fail(c.name, verify.ErrMissingHeader, c.idH+" appears twice with different values")
	}
	return id, nil
}

// checkSigs rejects a header with too many or no usable signatures.
func (c *compiled) checkSigs(h *customHeader) error {
	if h.tooMany {
		return verify.Fail(c.name, verify.ErrMalformedSignature, c.sigH+" has too many signatures")
	}
	if h.sigs.Len() == 0 {
		want := c.encName + " signature"
		switch {
		case c.versionKey != "":
			want = c.versionKey + "=<" + c.encName + "> item"
		case c.prefix != "":
			want = c.prefix + "<" + c.encName + "> signature"
		}
		return verify.Fail(c.name, verify.ErrMalformedSignature, c.sigH+" has no usable "+want+" of "+strconv.Itoa(c.size)+" bytes")
	}
	return nil
}

// tsName names where the timestamp is, for error messages.
func (c *compiled) tsName() string {
	if c.tsKey != "" {
		return c.sigH + " " + c.tsKey + "="
	}
	return c.tsH
}

func (c *compiled) parseTime(s string) (time.Time, error) {
	if c.tsMilli {
		return unixtime.ParseMilli(s)
	}
	return unixtime.Parse(s)
}

// timestamp returns the signed timestamp as sent and as a time.
func (c *compiled) timestamp(req verify.Request, h *customHeader) (string, time.Time, error) {
	ts, present, ok := h.t, h.t != "", !h.dupT
	if c.tsKey == "" {
		ts, present, ok = single(req.Header, c.tsH)
	}
	if !present {
		return "", time.Time{}, verify.Fail(c.name, verify.ErrMissingTimestamp, "no "+c.tsName()+" timestamp")
	}
	t, err := c.parseTime(ts)
	if err != nil || !ok {
		unit := "seconds"
		if c.tsMilli {
			unit = "milliseconds"
		}
		return "", time.Time{}, verify.Fail(c.name, verify.ErrMalformedTimestamp, c.tsName()+" must be one Unix time in "+unit)
	}
	return ts, t, nil
}

// values resolves every part of the template but the body into out.
func (c *compiled) values(req verify.Request, id, ts string, out *[maxTemplateParts]string) error {
	for i, pt := range c.parts {
		switch pt.kind {
		case partLiteral:
			out[i] = pt.text
		case partID:
			out[i] = id
		case partTimestamp:
			out[i] = ts
		case partURL:
			if req.URL == "" {
				return verify.Fail(c.name, verify.ErrMissingHeader, "the scheme signs the URL the sender called, and the request carries none: the receiver must know it (hookguard.WithPublicURL behind a proxy)")
			}
			out[i] = req.URL
		case partMethod:
			if req.Method == "" {
				return verify.Fail(c.name, verify.ErrMissingHeader, "the scheme signs the HTTP method, and the request carries none")
			}
			out[i] = req.Method
		case partHeader:
			v, present, ok := single(req.Header, pt.text)
			if !present {
				return verify.Fail(c.name, verify.ErrMissingHeader, "no "+pt.text+" header: it is part of the signed content")
			}
			if !ok {
				return verify.Fail(c.name, verify.ErrMissingHeader, pt.text+" appears twice with different values")
			}
			out[i] = v
		}
	}
	return nil
}

// match checks sigs against the signed content: the resolved parts around
// body. When the parts fit a [verify.Message], nothing is copied. When
// digest is not nil, it receives the Digest of the content that verified:
// the SHA-256 of the MAC, or for Ed25519 of the content itself.
func (p *custom) match(body []byte, vals *[maxTemplateParts]string, sigs *verify.Signatures, digest *[32]byte) (int, error) {
	c := p.c
	var m verify.Message
	if c.fast {
		copy(m.Prefix[:], vals[:c.bodyAt])
		m.Body = body
		if c.bodyAt+1 < len(c.parts) {
			m.Suffix = vals[c.bodyAt+1]
		}
	} else {
		bp := p.bufs.Get().(*[]byte)
		buf := (*bp)[:0]
		for i := range c.parts {
			if i == c.bodyAt {
				buf = append(buf, body...)
			} else {
				buf = append(buf, vals[i]...)
			}
		}
		m.Body = buf
		defer func() {
			if cap(buf) <= maxPooledBuffer {
				*bp = buf[:0]
				p.bufs.Put(bp)
			}
		}()
	}
	if p.ed != nil {
		i, err := p.ed.Match(&m, sigs)
		if err == nil && digest != nil {
			*digest = contentDigest(&m)
		}
		return i, err
	}
	return p.mac.Match(&m, sigs, digest)
}

// maxPooledBuffer is the largest signed-content buffer a Custom keeps for
// reuse, so one huge body does not pin its copy.
const maxPooledBuffer = 64 << 10

// extract sets d's ID and type from their sources.
// It returns a 400 error when the body holds a JSON source's name twice
// (or in another case), or its value is a string with invalid UTF-8: see
// bodyField.
func (p *custom) extract(req verify.Request, d *verify.Delivery) error {
	var err error
	if d.ID, err = lookupSources(p.c.name, p.c.ids, req); err != nil {
		return err
	}
	d.Type, err = lookupSources(p.c.name, p.c.types, req)
	return err
}

func lookupSources(name string, srcs []schemeSource, req verify.Request) (string, error) {
	for _, s := range srcs {
		var v string
		var err error
		switch {
		case s.header != "":
			v = first(req.Header, s.header)
		case len(s.path) == 1:
			v, err = topField(name, req.Body, s.path[0])
		default:
			v, err = bodyField(name, req.Body, s.path...)
		}
		if err != nil {
			return "", err
		}
		if v != "" {
			return v, nil
		}
	}
	return "", nil
}

// Sign returns the headers the sender would send with o: the signature
// header under the first secret, the timestamp header (when the
// timestamp has its own), every ID header (o.ID, or a random UUID), every
// type header (o.Type, when set) and Content-Type. It returns an error
// wrapping [ErrCannotSign] for an ed25519 scheme keyed with a public key,
// and for a scheme that signs what o does not carry: {url} without o.URL,
// or a {header:Name} that is not one of the headers Sign sets.
func (p *custom) Sign(o Outgoing) (http.Header, error) {
	c := p.c
	if p.ed != nil && p.priv == nil {
		return nil, fmt.Errorf("%s: %w: the secret is a public key, which only verifies; sign with the private key (whsk_...)", c.name, ErrCannotSign)
	}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	id := o.ID
	for _, s := range c.ids {
		if s.header == "" {
			continue
		}
		if id == "" {
			id = uuid()
		}
		h.Set(s.header, id)
	}
	if o.Type != "" {
		for _, s := range c.types {
			if s.header != "" {
				h.Set(s.header, o.Type)
			}
		}
	}
	t := outgoingTime(o)
	ts := strconv.FormatInt(t.Unix(), 10)
	if c.tsMilli {
		ts = strconv.FormatInt(t.UnixMilli(), 10)
	}
	if c.tsH != "" {
		h.Set(c.tsH, ts)
	}
	method := o.Method
	if method == "" {
		method = http.MethodPost
	}
	var msg []byte
	for _, pt := range c.parts {
		switch pt.kind {
		case partLiteral:
			msg = append(msg, pt.text...)
		case partBody:
			msg = append(msg, o.Body...)
		case partID:
			msg = append(msg, id...)
		case partTimestamp:
			msg = append(msg, ts...)
		case partMethod:
			msg = append(msg, method...)
		case partURL:
			if o.URL == "" {
				return nil, fmt.Errorf("%s: %w: the scheme signs the URL; set Outgoing.URL", c.name, ErrCannotSign)
			}
			msg = append(msg, o.URL...)
		case partHeader:
			v, ok := h[pt.text]
			if !ok {
				return nil, fmt.Errorf("%s: %w: the scheme signs the %s header, which Sign sets only when it is an ID, type or timestamp header (set Outgoing.ID or Outgoing.Type)", c.name, ErrCannotSign, pt.text)
			}
			msg = append(msg, v[0]...)
		}
	}
	m := verify.Message{Body: msg}
	var sig []byte
	if p.ed != nil {
		sig = ed25519.Sign(p.priv, msg)
	} else {
		sig = p.mac.AppendSum(nil, 0, &m)
	}
	var v []byte
	switch {
	case c.versionKey != "":
		if c.tsKey != "" {
			v = append(v, c.tsKey...)
			v = append(v, '=')
			v = append(v, ts...)
			v = append(v, c.sep)
		}
		v = append(v, c.versionKey...)
		v = append(v, '=')
	default:
		v = append(v, c.prefix...)
	}
	switch c.encName {
	case "hex":
		v = hex.AppendEncode(v, sig)
	case "base64url":
		v = base64.RawURLEncoding.AppendEncode(v, sig)
	default:
		v = base64.StdEncoding.AppendEncode(v, sig)
	}
	h.Set(c.sigH, string(v))
	return h, nil
}
