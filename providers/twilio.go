package providers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Header names of the Twilio scheme, in canonical form.
const (
	twilioSignatureHeader   = "X-Twilio-Signature"
	twilioIdempotencyHeader = "I-Twilio-Idempotency-Token"
	twilioSettingsHeader    = "X-Twilio-Webhooks-Signature-Settings"
)

// twilioSHA256 is the algorithm name of Twilio's SharedKey HMAC-SHA256
// signatures in X-Twilio-Webhooks-Signature-Settings.
const twilioSHA256 = "HMAC_SHA256"

// maxTwilioURL bounds the URL a Twilio signature covers.
const maxTwilioURL = 8 << 10

// twilio implements the Twilio preset behind a [Preset]; see [NewTwilio].
type twilio struct {
	mac      *verify.HMAC
	keys     []string // SharedKey IDs; nil for the auth-token scheme
	insecure bool
}

var _ Provider = (*twilio)(nil)

// NewTwilio returns a Twilio verifier for the account's auth token (add
// the secondary token with [WithSecret] while rotating), or, with
// [WithSharedKey], for a SharedKey's secret.
// [WithTolerance] and [WithoutTimestampCheck] have no effect: Twilio signs
// no timestamp.
//
// The preset verifies Twilio webhooks (Messaging, Voice, status callbacks):
// X-Twilio-Signature is the base64 HMAC, keyed with the account's auth
// token, of the full URL Twilio called followed, for a form-encoded POST,
// by every parameter's name and value sorted by name. For other bodies
// (JSON) Twilio appends a bodySHA256 query parameter to the URL: the
// signature then covers the URL alone and the body's hex SHA-256 must
// equal that parameter.
//
// The HMAC is HMAC-SHA1 under the auth token by default. Built with
// [WithSharedKey], the preset instead verifies webhooks Twilio signs with a
// SharedKey: HMAC-SHA256 of the same content under the key's secret,
// announced by X-Twilio-Webhooks-Signature-Settings:
// key=<key ID>,algorithm=HMAC_SHA256. The scheme is the receiver's choice,
// never the request's: an auth-token receiver refuses a request that
// carries the settings header, and a SharedKey receiver refuses one
// without it, one naming another key, and one naming another algorithm.
//
// The URL is [verify.Request.URL]: the receiver builds it from the request,
// so behind a proxy or a TLS terminator set hookguard.WithPublicURL to the
// scheme and host Twilio calls. As Twilio's own validators do, the URL is
// also tried with the default port added or removed, since Twilio's
// back end is not consistent about it.
//
// Twilio signs no timestamp and no ID: [verify.Delivery.Replayable] is true
// and [verify.Delivery.Digest] fingerprints the signed content. The event
// ID is the I-Twilio-Idempotency-Token header (unsigned), and the type the
// form's MessageStatus, CallStatus or SmsStatus when present.
func NewTwilio(authToken string, opts ...Option) (*Preset, error) {
	return wrap(newTwilio(authToken, opts...))
}

func newTwilio(authToken string, opts ...Option) (*twilio, error) {
	const name = "twilio"
	c, err := newPresetConfig(name, authToken, opts, optSharedKey)
	if err != nil {
		return nil, err
	}
	if err := c.rejectTiming(name); err != nil {
		return nil, err
	}
	alg := verify.SHA1
	if len(c.asym.sharedKeys) > 0 {
		alg = verify.SHA256
	}
	mac, err := rawSecrets(name, alg, c.secrets)
	if err != nil {
		return nil, err
	}
	return &twilio{mac: mac, keys: slices.Clone(c.asym.sharedKeys), insecure: c.insecure}, nil
}

// Name returns "twilio".
func (*twilio) Name() string { return "twilio" }

// Info describes the Twilio preset as configured.
func (t *twilio) Info() Info {
	alg := "HMAC-SHA1 (base64) of URL + sorted form parameters"
	if len(t.keys) > 0 {
		alg = "SharedKey HMAC-SHA256 (base64) of URL + sorted form parameters, X-Twilio-Webhooks-Signature-Settings"
	}
	return Info{
		Name:            "twilio",
		Title:           "Twilio",
		SignatureHeader: twilioSignatureHeader,
		Algorithm:       alg,
		IDSource:        "I-Twilio-Idempotency-Token header",
		TypeSource:      "form MessageStatus, CallStatus or SmsStatus",
	}
}

// twilioSettings is what X-Twilio-Webhooks-Signature-Settings names.
type twilioSettings struct {
	key, algorithm string
	hasAlgorithm   bool
}

// parseTwilioSettings reads a settings header value: comma-separated
// name=value pairs, spaces around each trimmed. key is required; algorithm
// may be absent (Twilio's validators then read HMAC_SHA1). Other names are
// ignored; a pair without "=", or key or algorithm given twice, is an
// error.
func parseTwilioSettings(v string) (twilioSettings, bool) {
	var st twilioSettings
	hasKey := false
	for part := range strings.SplitSeq(v, ",") {
		part = trimOWS(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return st, false
		}
		k, val = trimOWS(k), trimOWS(val)
		switch k {
		case "key":
			if hasKey {
				return st, false
			}
			st.key, hasKey = val, true
		case "algorithm":
			if st.hasAlgorithm {
				return st, false
			}
			st.algorithm, st.hasAlgorithm = val, true
		}
	}
	return st, hasKey && st.key != ""
}

// checkSettings applies the receiver's scheme to the settings header: an
// auth-token receiver refuses any, a SharedKey receiver wants one naming
// a configured key and HMAC_SHA256.
func (t *twilio) checkSettings(h http.Header) error {
	const name = "twilio"
	vals := header(h, twilioSettingsHeader)
	if len(t.keys) == 0 {
		if len(vals) > 0 {
			return verify.Fail(name, verify.ErrSignatureMismatch, "the request is signed with a Twilio SharedKey (X-Twilio-Webhooks-Signature-Settings), and this receiver holds the auth token: configure the key with providers.WithSharedKey and its secret")
		}
		return nil
	}
	if len(vals) == 0 {
		return verify.Fail(name, verify.ErrSignatureMismatch, "no X-Twilio-Webhooks-Signature-Settings header: the request is signed with the auth token (HMAC-SHA1), and this receiver accepts SharedKey HMAC-SHA256 signatures only (providers.WithSharedKey); check the Webhook Rule that matches this URL")
	}
	v, _, one := singleValue(vals)
	if !one || tooLong(vals) {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-Twilio-Webhooks-Signature-Settings must be one key=<id>,algorithm=<name> value")
	}
	st, ok := parseTwilioSettings(v)
	if !ok {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-Twilio-Webhooks-Signature-Settings must be key=<id>,algorithm=<name>, with key once and algorithm at most once")
	}
	if !slices.Contains(t.keys, st.key) {
		return verify.Fail(name, verify.ErrSignatureMismatch, "X-Twilio-Webhooks-Signature-Settings names a SharedKey this receiver is not configured with: add its ID with providers.WithSharedKey")
	}
	if !strings.EqualFold(st.algorithm, twilioSHA256) {
		return verify.Fail(name, verify.ErrSignatureMismatch, "X-Twilio-Webhooks-Signature-Settings names an algorithm other than HMAC_SHA256 (none means HMAC_SHA1), and this receiver accepts HMAC_SHA256 only: set the Webhook Setting's signature algorithm to HMAC_SHA256")
	}
	return nil
}

// isForm reports whether h declares a form-encoded body.
func isForm(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(first(h, "Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// twilioParams returns the form parameters, each name followed by its
// value, in the order Twilio signs them: sorted by name, and the values of
// one name sorted (duplicates once), as Twilio's reference validators do.
func twilioParams(form url.Values) []byte {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		vals := slices.Clone(form[k])
		slices.Sort(vals)
		vals = slices.Compact(vals)
		for _, v := range vals {
			b = append(append(b, k...), v...)
		}
	}
	return b
}

// urlVariants returns raw, and raw with its default port added or removed
// (https 443, http 80, as Twilio's validators try both).
func urlVariants(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return out
	}
	host, port := u.Hostname(), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	switch {
	case port != "":
		v := *u
		v.Host = host
		out = append(out, v.String())
	case u.Scheme == "https":
		v := *u
		v.Host = net.JoinHostPort(u.Hostname(), "443")
		out = append(out, v.String())
	case u.Scheme == "http":
		v := *u
		v.Host = net.JoinHostPort(u.Hostname(), "80")
		out = append(out, v.String())
	}
	return out
}

// Verify checks req's X-Twilio-Signature against req.URL and, for a form
// POST, the form parameters; for other bodies, the bodySHA256 parameter
// against the body. now is unused: Twilio signs no timestamp.
func (t *twilio) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "twilio"
	d := verify.Delivery{Provider: name, Replayable: true}
	form := isForm(req.Header) && req.Method != http.MethodGet
	var values url.Values
	if form {
		var err error
		if values, err = url.ParseQuery(string(req.Body)); err != nil {
			if !t.insecure {
				return d, verify.Fail(name, verify.ErrMalformedSignature, "the form body does not parse, so its parameters cannot be checked")
			}
		}
	}
	if t.insecure {
		d.SecretIndex = -1
		d.Digest = sha256.Sum256(req.Body)
	} else {
		sig, present, ok := single(req.Header, twilioSignatureHeader)
		if !present {
			return d, verify.Fail(name, verify.ErrMissingSignature, "no X-Twilio-Signature header: is this URL configured as a Twilio webhook?")
		}
		if err := t.checkSettings(req.Header); err != nil {
			return d, err
		}
		var sigs verify.Signatures
		if !ok || !addSig(&sigs, verify.Base64, sig, t.mac.Algorithm().Size()) {
			if len(t.keys) > 0 {
				return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Twilio-Signature must be one base64 HMAC-SHA256")
			}
			return d, verify.Fail(name, verify.ErrMalformedSignature, "X-Twilio-Signature must be one base64 HMAC-SHA1")
		}
		if req.URL == "" || len(req.URL) > maxTwilioURL {
			return d, verify.Fail(name, verify.ErrMissingHeader, "the request URL is unknown or too long: Twilio signs the URL it called, so the receiver must know it (hookguard.WithPublicURL behind a proxy)")
		}
		var params []byte
		if form {
			params = twilioParams(values)
		} else if req.Method != http.MethodGet || len(req.Body) > 0 {
			// A non-form body is covered by the bodySHA256 parameter.
			u, err := url.Parse(req.URL)
			want := ""
			if err == nil {
				want = u.Query().Get("bodySHA256")
			}
			if want == "" {
				return d, verify.Fail(name, verify.ErrMissingHeader, "a non-form body needs the bodySHA256 query parameter Twilio adds to the URL; is the Content-Type right?")
			}
			if !bodySHA256Matches(req.Body, want) {
				return d, verify.Fail(name, verify.ErrSignatureMismatch, "the body's SHA-256 does not match the bodySHA256 query parameter: the body was altered")
			}
		}
		matched := -1
		for _, u := range urlVariants(req.URL) {
			m := verify.Message{Prefix: [4]string{u}, Body: params}
			if i, err := t.mac.Match(&m, &sigs, &d.Digest); err == nil {
				matched = i
				break
			}
		}
		if matched < 0 {
			if len(t.keys) > 0 {
				return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Twilio-Signature does not match the URL and parameters under any configured SharedKey secret: check the secret, and that the URL is exactly the one configured in Twilio (scheme, host, path and query; set hookguard.WithPublicURL behind a proxy)")
			}
			return d, verify.Fail(name, verify.ErrSignatureMismatch, "X-Twilio-Signature does not match the URL and parameters under any configured auth token: check the token, and that the URL is exactly the one configured in Twilio (scheme, host, path and query; set hookguard.WithPublicURL behind a proxy)")
		}
		d.SecretIndex = matched
	}
	d.ID = first(req.Header, twilioIdempotencyHeader)
	for _, k := range []string{"MessageStatus", "CallStatus", "SmsStatus"} {
		if v := values.Get(k); v != "" {
			d.Type = v
			break
		}
	}
	return d, nil
}

// Sign returns the headers Twilio would send with o: X-Twilio-Signature
// over o.URL and, for a form-encoded body, its parameters (HMAC-SHA1, or
// with [WithSharedKey] HMAC-SHA256 and X-Twilio-Webhooks-Signature-Settings
// naming the first key); I-Twilio-Idempotency-Token (o.ID or a random
// one); and Content-Type.
// o.URL is required. For a non-form body o.URL must already carry the
// bodySHA256 parameter (see [TwilioBodyURL]); Sign cannot change the URL.
func (t *twilio) Sign(o Outgoing) (http.Header, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("twilio: %w: Twilio signs the URL; set Outgoing.URL", ErrInvalidOption)
	}
	h := http.Header{}
	h.Set("Content-Type", contentType(o))
	var params []byte
	if isForm(h) && o.Method != http.MethodGet {
		form, err := url.ParseQuery(string(o.Body))
		if err != nil {
			return nil, fmt.Errorf("twilio: the form body does not parse: %w", err)
		}
		params = twilioParams(form)
	} else if len(o.Body) > 0 {
		u, err := url.Parse(o.URL)
		if err != nil || u.Query().Get("bodySHA256") == "" {
			return nil, fmt.Errorf("twilio: %w: a non-form body is signed through the bodySHA256 URL parameter; build the URL with TwilioBodyURL", ErrInvalidOption)
		}
	}
	id := o.ID
	if id == "" {
		id = uuid()
	}
	m := verify.Message{Prefix: [4]string{o.URL}, Body: params}
	h.Set(twilioIdempotencyHeader, id)
	if len(t.keys) > 0 {
		h.Set(twilioSettingsHeader, "key="+t.keys[0]+",algorithm="+twilioSHA256)
	}
	h.Set(twilioSignatureHeader, string(verify.Base64.AppendEncode(nil, t.mac.AppendSum(nil, 0, &m))))
	return h, nil
}

// TwilioBodyURL returns rawURL with the bodySHA256 query parameter Twilio
// adds for a non-form (JSON) body: the hex SHA-256 of body.
func TwilioBodyURL(rawURL string, body []byte) string {
	sum := sha256.Sum256(body)
	sep := "?"
	if strings.Contains(rawURL, "?") {
		sep = "&"
	}
	return rawURL + sep + "bodySHA256=" + hex.EncodeToString(sum[:])
}
