package providers

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/verify"
)

// Header names of the HubSpot schemes, in canonical form.
const (
	hubspotV3Header        = "X-Hubspot-Signature-V3"
	hubspotTimestampHeader = "X-Hubspot-Request-Timestamp"
	hubspotLegacyHeader    = "X-Hubspot-Signature"
	hubspotVersionHeader   = "X-Hubspot-Signature-Version"
)

// HubSpot verifies HubSpot webhooks and app requests under all three of
// HubSpot's signature versions:
//
//   - v3, X-HubSpot-Signature-v3: base64 HMAC-SHA256, keyed with the app's
//     client secret, of method + URL + body + X-HubSpot-Request-Timestamp
//     (Unix milliseconds). The timestamp must lie within the replay window
//     (five minutes each way by default, see [WithTolerance]). Where the
//     URL holds percent-escapes of the characters HubSpot's instructions
//     list (: / ? @ ! $ ' ( ) * , ;), the decoded form is tried too.
//   - v2, X-HubSpot-Signature with X-HubSpot-Signature-Version: v2: hex
//     SHA-256 (a plain hash, not an HMAC) of client secret + method + URL +
//     body.
//   - v1, X-HubSpot-Signature with version v1 (or no version header): hex
//     SHA-256 of client secret + body. CRM webhook subscriptions send v1.
//
// v3 is used whenever its header is present; a request carrying it never
// falls back to v1 or v2. v1 and v2 sign no timestamp, so a captured v1 or
// v2 request stays valid forever: their deliveries are
// [verify.Delivery.Replayable] with a [verify.Delivery.Digest].
// [WithRequireV3] refuses v1 and v2 altogether.
//
// The URL is [verify.Request.URL]; behind a proxy set
// hookguard.WithPublicURL. The event ID is the first event's "eventId"
// and the type its "subscriptionType" (webhook bodies are arrays of
// events).
//
// A HubSpot is safe for concurrent use by multiple goroutines.
type HubSpot struct {
	mac       *verify.HMAC
	secrets   []*string // pointers, so that fmt prints addresses, never keys
	requireV3 bool
	timing    timing
	insecure  bool
}

var _ Provider = (*HubSpot)(nil)

// NewHubSpot returns a HubSpot verifier for the app's client secret.
func NewHubSpot(clientSecret string, opts ...Option) (*HubSpot, error) {
	const name = "hubspot"
	c, mac, err := newHMACPreset(name, clientSecret, opts, optRequireV3)
	if err != nil {
		return nil, err
	}
	return &HubSpot{mac: mac, secrets: secretPtrs(c.secrets), requireV3: c.asym.requireV3, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "hubspot".
func (*HubSpot) Name() string { return "hubspot" }

// Info describes the HubSpot preset.
func (*HubSpot) Info() Info {
	return Info{
		Name:            "hubspot",
		Title:           "HubSpot",
		SignatureHeader: "X-HubSpot-Signature-v3",
		Algorithm:       "v3: HMAC-SHA256 (base64) of method + URL + body + timestamp; v1/v2 (X-HubSpot-Signature): plain SHA-256 (hex)",
		Timestamped:     true,
		IDSource:        `first event's "eventId"`,
		TypeSource:      `first event's "subscriptionType"`,
	}
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

// Verify checks req's v3 signature, or its v1 or v2 hash, against the
// request.
func (h *HubSpot) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "hubspot"
	d := verify.Delivery{Provider: name}
	v3 := header(req.Header, hubspotV3Header)
	switch {
	case h.insecure:
		d.Secret = -1
		if t, err := verify.ParseUnixMilli(first(req.Header, hubspotTimestampHeader)); err == nil {
			d.Timestamp = t
		}
	case len(v3) > 0:
		if err := h.verifyV3(req, v3, now, &d); err != nil {
			return d, err
		}
	case h.requireV3:
		return d, verify.Fail(name, verify.ErrMissingSignature, "no X-HubSpot-Signature-v3 header, and WithRequireV3 refuses v1 and v2 signatures")
	default:
		if err := h.verifyLegacy(req, &d); err != nil {
			return d, err
		}
	}
	d.ID = firstElement(req.Body, "eventId")
	d.Type = firstElement(req.Body, "subscriptionType")
	return d, nil
}

func (h *HubSpot) verifyV3(req verify.Request, vals []string, now time.Time, d *verify.Delivery) error {
	const name = "hubspot"
	ts, present, one := single(req.Header, hubspotTimestampHeader)
	if !present {
		return verify.Fail(name, verify.ErrMissingTimestamp, "no X-HubSpot-Request-Timestamp header")
	}
	t, err := verify.ParseUnixMilli(ts)
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
		if i, err := h.mac.Match(&m, &sigs, nil); err == nil {
			d.Secret = i
			return nil
		}
	}
	return verify.Fail(name, verify.ErrSignatureMismatch, "X-HubSpot-Signature-v3 does not match any configured client secret: check the secret, and that the URL is exactly the one HubSpot called (hookguard.WithPublicURL behind a proxy)")
}

func (h *HubSpot) verifyLegacy(req verify.Request, d *verify.Delivery) error {
	const name = "hubspot"
	sig, present, one := single(req.Header, hubspotLegacyHeader)
	if !present {
		return verify.Fail(name, verify.ErrMissingSignature, "no X-HubSpot-Signature-v3 or X-HubSpot-Signature header: is this URL registered with your HubSpot app?")
	}
	var got [sha256.Size]byte
	n, ok := verify.Hex.Decode(got[:], sig)
	if !one || !ok || n != sha256.Size {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature must be one hex SHA-256 (64 hex digits)")
	}
	version := first(req.Header, hubspotVersionHeader)
	if version == "" {
		version = "v1"
	}
	if version != "v1" && version != "v2" {
		return verify.Fail(name, verify.ErrMalformedSignature, "X-HubSpot-Signature-Version must be v1 or v2")
	}
	if version == "v2" && (req.URL == "" || len(req.URL) > maxSignedURL) {
		return verify.Fail(name, verify.ErrMissingHeader, "the request URL is unknown or too long: a v2 signature covers it (hookguard.WithPublicURL behind a proxy)")
	}
	d.Replayable = true
	for i, s := range h.secrets {
		sum := hubspotLegacySum(version, *s, method(req.Method), req.URL, req.Body)
		if subtle.ConstantTimeCompare(sum[:], got[:]) == 1 {
			d.Secret = i
			// Fingerprint the content, not the public hash itself.
			d.Digest = sha256.Sum256(append([]byte("hookguard-hubspot-"+version+":"), sum[:]...))
			return nil
		}
	}
	return verify.Fail(name, verify.ErrSignatureMismatch, "X-HubSpot-Signature ("+version+") does not match any configured client secret: check the secret, and that nothing re-encoded the body")
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

// Sign returns the headers HubSpot would send with o: X-HubSpot-Signature-v3
// over o.Method (default POST), o.URL, the body and the timestamp, with
// X-HubSpot-Request-Timestamp, and Content-Type. o.URL is required.
func (h *HubSpot) Sign(o Outgoing) (http.Header, error) {
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
// and X-HubSpot-Signature-Version), for tests of legacy receivers.
func (h *HubSpot) SignLegacy(version string, o Outgoing) (http.Header, error) {
	if version != "v1" && version != "v2" {
		return nil, fmt.Errorf("hubspot: %w: version must be v1 or v2", ErrInvalidOption)
	}
	sum := hubspotLegacySum(version, *h.secrets[0], method(o.Method), o.URL, o.Body)
	hd := http.Header{}
	hd.Set("Content-Type", contentType(o))
	hd.Set(hubspotVersionHeader, version)
	hd.Set(hubspotLegacyHeader, string(verify.Hex.AppendEncode(nil, sum[:])))
	return hd, nil
}
