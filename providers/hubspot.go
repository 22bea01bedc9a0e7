package providers

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the HubSpot schemes, in canonical form.
const (
	hubspotV3Header        = "X-Hubspot-Signature-V3"
	hubspotTimestampHeader = "X-Hubspot-Request-Timestamp"
	hubspotLegacyHeader    = "X-Hubspot-Signature"
	hubspotVersionHeader   = "X-Hubspot-Signature-Version"
)

// hubspot implements the HubSpot preset behind a [Preset]; see [NewHubSpot].
type hubspot struct {
	mac      *verify.HMAC
	secrets  []*string // pointers, so that fmt prints addresses, never keys
	version  string    // "v1", "v2" or "v3"
	timing   timing
	insecure bool
}

var _ Provider = (*hubspot)(nil)

// NewHubSpot returns a HubSpot verifier for the app's client secret. It
// verifies v3 signatures only unless [WithSignatureVersion] says otherwise.
//
// The preset verifies HubSpot webhooks and app requests under one of
// HubSpot's three signature versions, chosen when the preset is built with
// [WithSignatureVersion] and never by the request:
//
//   - v3 (the default), X-HubSpot-Signature-v3: base64 HMAC-SHA256, keyed
//     with the app's client secret, of method + URL + body +
//     X-HubSpot-Request-Timestamp (Unix milliseconds). The timestamp must
//     lie within the replay window (five minutes each way by default, see
//     [WithTolerance]). Where the URL holds percent-escapes of the
//     characters HubSpot's instructions list (: / ? @ ! $ ' ( ) * , ;),
//     the decoded form is tried too.
//   - v2, X-HubSpot-Signature with X-HubSpot-Signature-Version: v2: hex
//     SHA-256 (a plain hash, not an HMAC) of client secret + method + URL +
//     body.
//   - v1, X-HubSpot-Signature with version v1 (or no version header): hex
//     SHA-256 of client secret + body.
//
// Only the configured version is checked. A request that carries only
// another version's headers is refused with [verify.ErrSignatureMismatch]
// (401) and a reason naming the version expected; HubSpot sends the v1
// headers beside v3 ones, and they are ignored under v3, as a v3 header is
// under v1 or v2. v1 and v2 sign no timestamp, so a captured v1 or v2
// request stays valid forever, and v1 is open to length extension (see
// [WithSignatureVersion] for what that costs): their deliveries are
// [verify.Delivery.Replayable] with a [verify.Delivery.Digest].
//
// The URL is [verify.Request.URL]; behind a proxy set
// hookguard.WithPublicURL. The event ID is the first event's "eventId"
// and the type its "subscriptionType" (webhook bodies are arrays of
// events).
func NewHubSpot(clientSecret string, opts ...Option) (*Preset, error) {
	return wrap(newHubSpot(clientSecret, opts...))
}

func newHubSpot(clientSecret string, opts ...Option) (*hubspot, error) {
	const name = "hubspot"
	c, mac, err := newHMACPreset(name, clientSecret, opts, optSignatureVersion)
	if err != nil {
		return nil, err
	}
	version := c.asym.version
	if version == "" {
		version = "v3"
	}
	if version != "v3" {
		if err := c.rejectTiming(name); err != nil {
			return nil, fmt.Errorf("%w (HubSpot %s)", err, version)
		}
	}
	return &hubspot{mac: mac, secrets: secretPtrs(c.secrets), version: version, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "hubspot".
func (*hubspot) Name() string { return "hubspot" }

// Info describes the HubSpot preset as configured: v3 unless built with
// [WithSignatureVersion].
func (h *hubspot) Info() Info {
	info := Info{
		Name:            "hubspot",
		Title:           "HubSpot",
		SignatureHeader: "X-HubSpot-Signature-v3",
		Algorithm:       "v3: HMAC-SHA256 (base64) of method + URL + body + timestamp (v1/v2 only with WithSignatureVersion)",
		Timestamped:     true,
		IDSource:        `first event's "eventId"`,
		TypeSource:      `first event's "subscriptionType"`,
	}
	switch h.version {
	case "v1":
		info.SignatureHeader, info.Timestamped = "X-HubSpot-Signature", false
		info.Algorithm = "v1: plain SHA-256 (hex) of client secret + body; no timestamp, open to length extension"
	case "v2":
		info.SignatureHeader, info.Timestamped = "X-HubSpot-Signature", false
		info.Algorithm = "v2: plain SHA-256 (hex) of client secret + method + URL + body; no timestamp, open to length extension"
	}
	return info
}

// hubspotDecoder decodes the percent-escapes HubSpot's v3 instructions
// list.
var hubspotDecoder = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
)

// method returns req's method, POST when empty.
func method(m string) string {
	if m == "" {
		return http.MethodPost
	}
	return m
}

// Verify checks req's signature of the configured version, and only that
// version, against the request.
func (h *hubspot) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "hubspot"
	d := verify.Delivery{Provider: name}
	// Read before verifying, used only once verified: a delivery without
	// an eventId (a workflow action posts records) takes its Digest from
	// the MAC that verifies it.
	id, idErr := firstElement(name, req.Body, "eventId")
	switch {
	case h.insecure:
		d.SecretIndex = -1
		if t, err := unixtime.ParseMilli(first(req.Header, hubspotTimestampHeader)); err == nil {
			d.Timestamp = t
		}
	case h.version == "v3":
		v3 := header(req.Header, hubspotV3Header)
		if len(v3) == 0 {
			return d, h.wrongVersion(req)
		}
		var digest *[32]byte
		if id == "" {
			digest = &d.Digest
		}
		if err := h.verifyV3(req, v3, now, &d, digest); err != nil {
			return d, err
		}
	default:
		if err := h.verifyLegacy(req, &d); err != nil {
			return d, err
		}
	}
	if idErr != nil { // refused only once verified: a forged body fails as a mismatch
		return d, idErr
	}
	d.ID = id
	var err error
	if d.Type, err = firstElement(name, req.Body, "subscriptionType"); err != nil {
		return d, err
	}
	if id == "" && d.Digest == ([32]byte{}) { // unverified: InsecureSkipVerification
		d.Digest = signedDigest(d.SecretIndex, &verify.Message{Body: req.Body})
	}
	return d, nil
}

// legacyVersion returns the version a request's X-HubSpot-Signature claims:
// its X-HubSpot-Signature-Version, v1 when there is none.
func legacyVersion(hd http.Header) string {
	if v := first(hd, hubspotVersionHeader); v != "" {
		return v
	}
	return "v1"
}

// wrongVersion is the error for a request that lacks the headers of the
// configured version: missing (400) when it carries no HubSpot signature
// at all, a refusal (401) naming both versions when it carries another
// version's.
func (h *hubspot) wrongVersion(req verify.Request) error {
	const name = "hubspot"
	var got string
	switch {
	case h.version != "v3" && len(header(req.Header, hubspotV3Header)) > 0:
		got = "v3 (X-HubSpot-Signature-v3)"
	case h.version == "v3" && len(header(req.Header, hubspotLegacyHeader)) > 0:
		got = "X-HubSpot-Signature"
		if v := legacyVersion(req.Header); v == "v1" || v == "v2" {
			got = v + " (X-HubSpot-Signature)"
		}
	default:
		if h.version == "v3" {
			return verify.Fail(name, verify.ErrMissingSignature, "no X-HubSpot-Signature-v3 header: is this URL registered with your HubSpot app?")
		}
		return verify.Fail(name, verify.ErrMissingSignature, "no X-HubSpot-Signature header: this receiver expects HubSpot "+h.version+" signatures")
	}
	if h.version == "v3" {
		return verify.Fail(name, verify.ErrSignatureMismatch, "the request is signed with HubSpot "+got+" only, and this receiver accepts v3 (X-HubSpot-Signature-v3) only: v1 and v2 sign no timestamp and are forgeable by length extension; providers.WithSignatureVersion(\"v1\" or \"v2\") accepts them, at that cost")
	}
	return verify.Fail(name, verify.ErrSignatureMismatch, "the request is signed with HubSpot "+got+" only, and this receiver accepts "+h.version+" only: providers.WithSignatureVersion(\"v3\") (the default) accepts v3")
}

// verifyV3 checks a v3 signature, setting d.Timestamp and d.SecretIndex, and
// *digest when digest is not nil.
func (h *hubspot) verifyV3(req verify.Request, vals []string, now time.Time, d *verify.Delivery, digest *[32]byte) error {
	const name = "hubspot"
	ts, present, one := single(req.Header, hubspotTimestampHeader)
	if !present {
		return verify.Fail(name, verify.ErrMissingTimestamp, "no X-HubSpot-Request-Timestamp header")
	}
	t, err := unixtime.ParseMilli(ts)
	if err != nil || !one {
		return verify.Fail(name, verify.ErrMalformedTimestamp, "X-HubSpot-Request-Timestamp must be one Unix time in milliseconds")
	}
	d.Timestamp = t
	if tooLong(vals) {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature-v3 header is too long")
	}
	var sigs verify.Signatures
	if !parseSigValues(vals, "", verify.Base64, 32, &sigs) {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature-v3 has too many values")
	}
	if sigs.Len() == 0 {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature-v3 must be a base64 HMAC-SHA256")
	}
	if req.URL == "" || len(req.URL) > maxSignedURL {
		return verify.Fail(name, verify.ErrMissingHeader, "the request URL is unknown or too long: HubSpot signs it, so the receiver must know it (hookguard.WithPublicURL behind a proxy)")
	}
	if err := h.timing.checkTime(name, "X-HubSpot-Request-Timestamp", t, now); err != nil {
		return err
	}
	urls := []string{req.URL}
	if dec := hubspotDecoder.Replace(req.URL); dec != req.URL {
		urls = append(urls, dec)
	}
	for _, u := range urls {
		m := verify.Message{Prefix: [4]string{method(req.Method), u}, Body: req.Body, Suffix: ts}
		if i, err := h.mac.Match(&m, &sigs, digest); err == nil {
			d.SecretIndex = i
			return nil
		}
	}
	return verify.Fail(name, verify.ErrSignatureMismatch, "X-HubSpot-Signature-v3 does not match any configured client secret: check the secret, and that the URL is exactly the one HubSpot called (hookguard.WithPublicURL behind a proxy)")
}

func (h *hubspot) verifyLegacy(req verify.Request, d *verify.Delivery) error {
	const name = "hubspot"
	sig, present, one := single(req.Header, hubspotLegacyHeader)
	if !present {
		return h.wrongVersion(req)
	}
	if version := legacyVersion(req.Header); version != h.version {
		if version != "v1" && version != "v2" {
			return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature-Version must be v1 or v2")
		}
		return verify.Fail(name, verify.ErrSignatureMismatch, "the request is signed with HubSpot "+version+" (X-HubSpot-Signature-Version), and this receiver accepts "+h.version+" only: set providers.WithSignatureVersion to the version the app sends")
	}
	var got [sha256.Size]byte
	n, ok := verify.Hex.Decode(got[:], sig)
	if !one || !ok || n != sha256.Size {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature must be one hex SHA-256 (64 hex digits)")
	}
	if h.version == "v2" && (req.URL == "" || len(req.URL) > maxSignedURL) {
		return verify.Fail(name, verify.ErrMissingHeader, "the request URL is unknown or too long: a v2 signature covers it (hookguard.WithPublicURL behind a proxy)")
	}
	d.Replayable = true
	for i, s := range h.secrets {
		sum := hubspotLegacySum(h.version, *s, method(req.Method), req.URL, req.Body)
		if subtle.ConstantTimeCompare(sum[:], got[:]) == 1 {
			d.SecretIndex = i
			// Fingerprint the content, not the public hash itself.
			d.Digest = sha256.Sum256(append([]byte("hookguard-hubspot-"+h.version+":"), sum[:]...))
			return nil
		}
	}
	return verify.Fail(name, verify.ErrSignatureMismatch, "X-HubSpot-Signature ("+h.version+") does not match any configured client secret: check the secret, and that nothing re-encoded the body")
}

// hubspotLegacySum returns the v1 or v2 hash: SHA-256 of secret + body, or
// of secret + method + URL + body.
func hubspotLegacySum(version, secret, method, url string, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(secret))
	if version == "v2" {
		h.Write([]byte(method))
		h.Write([]byte(url))
	}
	h.Write(body)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Sign returns the headers HubSpot would send with o under the configured
// version: for v3, X-HubSpot-Signature-v3 over o.Method (default POST),
// o.URL, the body and the timestamp, with X-HubSpot-Request-Timestamp; for
// v1 and v2, what SignLegacy returns. Content-Type is set too.
// o.URL is required for v3 and v2.
func (h *hubspot) Sign(o Outgoing) (http.Header, error) {
	if h.version != "v3" {
		return h.SignLegacy(h.version, o)
	}
	if o.URL == "" {
		return nil, fmt.Errorf("hubspot: %w: HubSpot v3 signs the URL; set Outgoing.URL", ErrInvalidOption)
	}
	ts := strconv.FormatInt(outgoingTime(o).UnixMilli(), 10)
	m := verify.Message{Prefix: [4]string{method(o.Method), o.URL}, Body: o.Body, Suffix: ts}
	hd := http.Header{}
	hd.Set("Content-Type", contentType(o))
	hd.Set(hubspotTimestampHeader, ts)
	hd.Set(hubspotV3Header, string(verify.Base64.AppendEncode(nil, h.mac.AppendSum(nil, 0, &m))))
	return hd, nil
}

// SignLegacy returns the v1 or v2 headers HubSpot sends (X-HubSpot-Signature
// and X-HubSpot-Signature-Version) and Content-Type, whatever version the
// preset verifies: for tests that show a receiver refuses them. v2 signs
// o.URL, which is then required.
func (h *hubspot) SignLegacy(version string, o Outgoing) (http.Header, error) {
	if version != "v1" && version != "v2" {
		return nil, fmt.Errorf("hubspot: %w: version must be v1 or v2", ErrInvalidOption)
	}
	if version == "v2" && o.URL == "" {
		return nil, fmt.Errorf("hubspot: %w: HubSpot v2 signs the URL; set Outgoing.URL", ErrInvalidOption)
	}
	sum := hubspotLegacySum(version, *h.secrets[0], method(o.Method), o.URL, o.Body)
	hd := http.Header{}
	hd.Set("Content-Type", contentType(o))
	hd.Set(hubspotVersionHeader, version)
	hd.Set(hubspotLegacyHeader, string(verify.Hex.AppendEncode(nil, sum[:])))
	return hd, nil
}
