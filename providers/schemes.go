package providers

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

// This file holds the machinery shared by the shared-secret presets added
// after the first release: a preset that signs only the raw body with one
// header (Bitbucket, Intercom, Typeform, Vercel, Lemon Squeezy, Sentry,
// Linear), a preset that signs "timestamp + separator + body" with a
// "t=...,v1=..." style header (Calendly, Mux, Paddle), and a preset that
// only presents a shared token (GitLab, Postmark).

// field is where a preset reads the event ID or type: the first non-empty
// of the headers, in order, then the JSON path in the body.
type field struct {
	headers []string // canonical header names
	path    []string // JSON path in the body, nil for none
}

// read returns the field's value in req; it refuses (see bodyField) a
// body that holds the path's names twice.
func (f field) read(provider string, req verify.Request) (string, error) {
	for _, h := range f.headers {
		if v := trimOWS(first(req.Header, h)); v != "" {
			return v, nil
		}
	}
	if f.path != nil {
		return bodyField(provider, req.Body, f.path...)
	}
	return "", nil
}

// bodySpec describes a preset that signs the raw body (and nothing else)
// with an HMAC carried in one header.
type bodySpec struct {
	name, title string
	sigHeader   string // canonical form
	display     string // the form the provider's docs write
	prefix      string // for example "sha256=", or ""
	alg         verify.Algorithm
	enc         verify.Encoding
	id, typ     field
	idSource    string
	typeSource  string
	// tsPath, when set, is the JSON path of a signed timestamp in the body
	// (Linear's webhookTimestamp), in milliseconds when milli is true.
	tsPath []string
	milli  bool
	// hint ends the mismatch error: what to check.
	hint string
	// sign adds the sender's own headers (ID, type, User-Agent) to h.
	sign func(h http.Header, o Outgoing)
}

// bodyHMAC is the verifier behind the body-only presets.
type bodyHMAC struct {
	spec     *bodySpec
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

func newBodyHMAC(spec *bodySpec, secret string, opts []Option) (bodyHMAC, error) {
	c, err := newConfig(spec.name, secret, opts)
	if err != nil {
		return bodyHMAC{}, err
	}
	if spec.tsPath == nil {
		if err := c.rejectTiming(spec.name); err != nil {
			return bodyHMAC{}, err
		}
	}
	if err := c.rejectLegacy(spec.name); err != nil {
		return bodyHMAC{}, err
	}
	mac, err := rawSecrets(spec.name, spec.alg, c.secrets)
	if err != nil {
		return bodyHMAC{}, err
	}
	return bodyHMAC{spec: spec, mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns the preset's name.
func (b *bodyHMAC) Name() string { return b.spec.name }

// Info describes the preset.
func (b *bodyHMAC) Info() Info {
	alg := "HMAC-" + algName(b.spec.alg) + " (" + b.spec.enc.String()
	if b.spec.prefix != "" {
		alg += ", " + b.spec.prefix + " prefix"
	}
	alg += ")"
	return Info{
		Name:            b.spec.name,
		Title:           b.spec.title,
		SignatureHeader: b.spec.display,
		Algorithm:       alg,
		Timestamped:     b.spec.tsPath != nil,
		IDSource:        b.spec.idSource,
		TypeSource:      b.spec.typeSource,
	}
}

func algName(a verify.Algorithm) string {
	switch a {
	case verify.SHA1:
		return "SHA1"
	case verify.SHA512:
		return "SHA512"
	}
	return "SHA256"
}

// parseSigValues adds every header value of the form prefix + signature
// (prefix matched ignoring case, whitespace trimmed) whose signature
// decodes with enc to size bytes. Values with another prefix are ignored.
// It reports false when there are more than verify.MaxSignatures candidate
// values.
func parseSigValues(vals []string, prefix string, enc verify.Encoding, size int, sigs *verify.Signatures) bool {
	for _, v := range vals {
		v = trimOWS(v)
		if !hasPrefixFold(v, prefix) {
			continue
		}
		if sigs.Full() {
			return false
		}
		addSig(sigs, enc, v[len(prefix):], size)
	}
	return true
}

// Verify checks req's signature header against the body and, for a preset
// whose body carries a signed timestamp, that timestamp against now.
func (b *bodyHMAC) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	s := b.spec
	name := s.name
	d := verify.Delivery{Provider: name, Replayable: true}
	if b.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		vals := header(req.Header, s.sigHeader)
		if len(vals) == 0 {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no "+s.display+" header: set a signing secret on the "+s.title+" webhook")
		}
		if tooLong(vals) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, s.display+" header is too long")
		}
		var sigs verify.Signatures
		if !parseSigValues(vals, s.prefix, s.enc, s.alg.Size(), &sigs) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, s.display+" has too many signatures")
		}
		if sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, s.display+" must be "+s.prefix+"the "+s.enc.String()+" HMAC-"+algName(s.alg)+" of the body")
		}
		m := verify.Message{Body: req.Body}
		i, err := b.mac.Match(&m, &sigs, &d.Digest)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, s.display+" does not match any configured secret: "+s.hint+", and that nothing re-encoded the body")
		}
		d.SecretIndex = i
	}
	if s.tsPath != nil {
		// The body is verified: reading the timestamp from it is safe now.
		raw, ok, err := jsonscan.Find(req.Body, s.tsPath...)
		if err != nil {
			return d, bodyJSONError(name, err)
		}
		if err := b.bodyTime(raw, ok, now, &d); err != nil {
			return d, err
		}
	}
	var err error
	if d.ID, err = s.id.read(name, req); err != nil {
		return d, err
	}
	if d.Type, err = s.typ.read(name, req); err != nil {
		return d, err
	}
	return d, nil
}

// bodyTime parses and checks the signed timestamp read from the body.
func (b *bodyHMAC) bodyTime(raw string, ok bool, now time.Time, d *verify.Delivery) error {
	s := b.spec
	what := "body field " + s.tsPath[len(s.tsPath)-1]
	parse := unixtime.Parse
	if s.milli {
		parse = unixtime.ParseMilli
	}
	ts, err := parse(raw)
	switch {
	case b.insecure:
		if ok && err == nil {
			d.Timestamp = ts
		}
		return nil
	case !ok:
		return verify.Fail(s.name, verify.ErrMissingTimestamp, "no "+what+" in the signed body")
	case err != nil:
		unit := "seconds"
		if s.milli {
			unit = "milliseconds"
		}
		return verify.Fail(s.name, verify.ErrMalformedTimestamp, what+" must be a Unix time in "+unit)
	}
	d.Timestamp = ts
	return b.timing.checkTime(s.name, what, ts, now)
}

// Sign returns the headers the sender would send with o: the signature
// under the first secret, Content-Type and the sender's ID and type
// headers where it has them.
func (b *bodyHMAC) Sign(o Outgoing) (http.Header, error) {
	m := verify.Message{Body: o.Body}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	if b.spec.sign != nil {
		b.spec.sign(h, o)
	}
	h.Set(b.spec.sigHeader, string(b.spec.enc.AppendEncode([]byte(b.spec.prefix), b.mac.AppendSum(nil, 0, &m))))
	return h, nil
}

// stampSpec describes a preset that signs timestamp + join + body and
// sends "<tsKey>=<unix><sep><sigKey>=<hex>[<sep><sigKey>=<hex>...]".
type stampSpec struct {
	name, title string
	sigHeader   string // canonical form
	display     string
	tsKey       string // "t" or "ts"
	sigKey      string // "v1" or "h1"
	sep         byte   // ',' or ';'
	join        string // "." or ":"
	id, typ     field
	idSource    string
	typeSource  string
	hint        string
	// replayable is true when the event ID is absent or not signed, so
	// that a captured request could be resent within the window.
	replayable bool
	sign       func(h http.Header, o Outgoing)
}

// stampHeader is a parsed timestamped signature header.
type stampHeader struct {
	t    string // the timestamp exactly as sent; it is part of the signed content
	dupT bool   // two different timestamps
	sigs verify.Signatures
}

// parseStampHeader scans every value of the header: entries separated by
// sep, each "key=value", whitespace around entries tolerated. Entries of
// other keys are ignored. It reports false when there are more than
// verify.MaxSignatures signature entries.
func parseStampHeader(vals []string, sep byte, tsKey, sigKey string, p *stampHeader) bool {
	for _, v := range vals {
		for len(v) > 0 {
			var entry string
			entry, v = cut(v, sep)
			key, val := cut(trimOWS(entry), '=')
			switch key {
			case tsKey:
				if p.t != "" && p.t != val {
					p.dupT = true
				}
				p.t = val
			case sigKey:
				if p.sigs.Full() {
					return false
				}
				addSig(&p.sigs, verify.Hex, val, 32)
			}
		}
	}
	return true
}

// stamped is the verifier behind the timestamped presets.
type stamped struct {
	spec     *stampSpec
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

func newStamped(spec *stampSpec, secret string, opts []Option) (stamped, error) {
	c, err := newConfig(spec.name, secret, opts)
	if err != nil {
		return stamped{}, err
	}
	if err := c.rejectLegacy(spec.name); err != nil {
		return stamped{}, err
	}
	mac, err := hmacSecrets(spec.name, c.secrets)
	if err != nil {
		return stamped{}, err
	}
	return stamped{spec: spec, mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns the preset's name.
func (s *stamped) Name() string { return s.spec.name }

// Info describes the preset.
func (s *stamped) Info() Info {
	return Info{
		Name:            s.spec.name,
		Title:           s.spec.title,
		SignatureHeader: s.spec.display,
		Algorithm:       "HMAC-SHA256 (hex, " + s.spec.sigKey + "=)",
		Timestamped:     true,
		IDSource:        s.spec.idSource,
		TypeSource:      s.spec.typeSource,
	}
}

// Verify checks req's signature header against its timestamp and the
// body, and the timestamp against the window around now.
func (s *stamped) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	sp := s.spec
	name := sp.name
	d := verify.Delivery{Provider: name, Replayable: sp.replayable}
	vals := header(req.Header, sp.sigHeader)
	var p stampHeader
	if s.insecure {
		parseStampHeader(vals, sp.sep, sp.tsKey, sp.sigKey, &p)
		if t, err := unixtime.Parse(p.t); err == nil && !p.dupT {
			d.Timestamp = t
		}
		d.SecretIndex = -1
	} else {
		if len(vals) == 0 {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no "+sp.display+" header: is this endpoint registered with "+sp.title+" with a signing key?")
		}
		if tooLong(vals) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, sp.display+" header is too long")
		}
		if !parseStampHeader(vals, sp.sep, sp.tsKey, sp.sigKey, &p) {
			return d, verify.Fail(name, verify.ErrMalformedSignature, sp.display+" has too many "+sp.sigKey+" signatures")
		}
		if p.sigs.Len() == 0 {
			return d, verify.Fail(name, verify.ErrMalformedSignature, sp.display+" has no usable "+sp.sigKey+"= signature (64 hex digits)")
		}
		if p.t == "" {
			return d, verify.Fail(name, verify.ErrMissingTimestamp, sp.display+" has no "+sp.tsKey+"= timestamp")
		}
		t, err := unixtime.Parse(p.t)
		if err != nil || p.dupT {
			return d, verify.Fail(name, verify.ErrMalformedTimestamp, sp.display+" "+sp.tsKey+"= must be one Unix time in seconds")
		}
		d.Timestamp = t
		if err := s.timing.checkTime(name, sp.display+" "+sp.tsKey+"=", t, now); err != nil {
			return d, err
		}
		m := verify.Message{Prefix: [4]string{p.t, sp.join}, Body: req.Body}
		var digest *[32]byte
		if sp.replayable {
			digest = &d.Digest
		}
		i, err := s.mac.Match(&m, &p.sigs, digest)
		if err != nil {
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "no "+sp.sigKey+" signature matches any configured secret: "+sp.hint)
		}
		d.SecretIndex = i
	}
	var err error
	if d.ID, err = sp.id.read(name, req); err != nil {
		return d, err
	}
	if d.Type, err = sp.typ.read(name, req); err != nil {
		return d, err
	}
	if (sp.replayable || d.ID == "") && d.Digest == ([32]byte{}) {
		// No event ID, or an insecure delivery: fingerprint the content
		// the sender signs, the timestamp included (the body when
		// nothing was verified).
		d.Digest = macDigest(s.mac, d.SecretIndex, &verify.Message{Prefix: [4]string{p.t, sp.join}, Body: req.Body}, &p.sigs)
	}
	return d, nil
}

// Sign returns the headers the sender would send with o: the signature
// header with one signature under the first secret, and Content-Type.
func (s *stamped) Sign(o Outgoing) (http.Header, error) {
	sp := s.spec
	t := strconv.FormatInt(outgoingTime(o).Unix(), 10)
	m := verify.Message{Prefix: [4]string{t, sp.join}, Body: o.Body}
	sig := make([]byte, 0, len(sp.tsKey)+len(sp.sigKey)+len(t)+68)
	sig = append(sig, sp.tsKey...)
	sig = append(sig, '=')
	sig = append(sig, t...)
	sig = append(sig, sp.sep)
	sig = append(sig, sp.sigKey...)
	sig = append(sig, '=')
	sig = verify.Hex.AppendEncode(sig, s.mac.AppendSum(nil, 0, &m))
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	if sp.sign != nil {
		sp.sign(h, o)
	}
	h.Set(sp.sigHeader, string(sig))
	return h, nil
}

// tokens holds shared tokens (GitLab's secret token, Postmark's basic-auth
// credentials) for comparison in constant time. It keeps SHA-256 digests,
// not the tokens, so that comparing takes the same time whatever the
// lengths, and an HMAC keyed with each token to fingerprint bodies.
// Presets hold a *tokens, so that printing a preset with %+v shows a
// pointer, not the credentials.
type tokens struct {
	sums  [][32]byte
	mac   *verify.HMAC
	first string // the positional token, for Sign
}

func newTokens(name string, raw []string) (*tokens, error) {
	t := &tokens{sums: make([][32]byte, len(raw)), first: raw[0]}
	for i, s := range raw {
		t.sums[i] = sha256.Sum256([]byte(s))
	}
	var err error
	t.mac, err = hmacSecrets(name, raw)
	return t, err
}

// checkHeaderTokens rejects a token that is sent as it is in a header
// (GitLab, Okta) but could never arrive as configured: HTTP trims spaces
// and tabs around a header value and cannot carry a line break, so such a
// token would fail every genuine delivery with 401. The usual cause is a
// token read from a file or an environment variable with its newline.
func checkHeaderTokens(name string, secrets []string) error {
	for i, s := range secrets {
		if strings.TrimSpace(s) != s || strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("%s: %w: token #%d has spaces or a line break around or in it (read from a file with its newline?), which no HTTP header carries; trim it", name, verify.ErrInvalidSecret, i)
		}
	}
	return nil
}

// match returns the index of the configured token equal to presented, or
// -1. Every token is compared, whatever matches first.
func (t *tokens) match(presented string) int {
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i := range t.sums {
		if subtle.ConstantTimeCompare(sum[:], t.sums[i][:]) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

// digest fingerprints body under token i, for content dedupe: equal for
// equal bodies under the same token, and not derivable without the token.
func (t *tokens) digest(i int, body []byte) [32]byte {
	var buf [32]byte
	m := verify.Message{Body: body}
	return sha256.Sum256(t.mac.AppendSum(buf[:0], i, &m))
}

// prependMember returns a copy of the JSON object body with "key": raw
// inserted as its first member. raw must be valid JSON.
func prependMember(body []byte, key string, raw []byte) ([]byte, error) {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	if i == len(body) || body[i] != '{' {
		return nil, fmt.Errorf("%w: the body must be a JSON object to carry %q", ErrCannotSign, key)
	}
	rest := body[i+1:]
	j := 0
	for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\r' || rest[j] == '\n') {
		j++
	}
	out := make([]byte, 0, len(body)+len(key)+len(raw)+5)
	out = append(out, body[:i+1]...)
	out = strconv.AppendQuote(out, key)
	out = append(out, ':')
	out = append(out, raw...)
	if j < len(rest) && rest[j] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}
