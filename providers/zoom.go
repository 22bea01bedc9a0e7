package providers

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// Header names of the Zoom scheme, in canonical form.
const (
	zoomSignatureHeader = "X-Zm-Signature"
	zoomTimestampHeader = "X-Zm-Request-Timestamp"
)

// zoom implements the Zoom preset behind a [Preset]; see [NewZoom].
type zoom struct {
	mac      *verify.HMAC
	timing   timing
	insecure bool
}

var _ Provider = (*zoom)(nil)

// NewZoom returns a Zoom verifier for the app's Secret Token (not the
// deprecated Verification Token).
//
// The preset verifies Zoom webhooks: x-zm-signature is "v0=" and the hex
// HMAC-SHA256 of "v0:" + x-zm-request-timestamp + ":" + body, keyed with
// the app's Secret Token. Zoom documents no replay window; the preset
// applies the usual one (five minutes each way, see [WithTolerance]) to
// the timestamp, a Unix time in seconds.
//
// Handshake: Zoom validates the endpoint URL (when it is saved, and every
// 72 hours) with a signed POST whose "event" is "endpoint.url_validation";
// once verified it is answered with the JSON {"plainToken": ...,
// "encryptedToken": hex HMAC-SHA256 of plainToken under the Secret Token}.
//
// Zoom sends no event ID: the ID is a SHA-256 of the body (which holds
// the event's "event_ts" in milliseconds), so a retry of the same event is
// a duplicate. The type is the body's "event", for example
// "meeting.started".
func NewZoom(secretToken string, opts ...Option) (*Preset, error) {
	return wrap(newZoom(secretToken, opts...))
}

func newZoom(secretToken string, opts ...Option) (*zoom, error) {
	const name = "zoom"
	c, mac, err := newHMACPreset(name, secretToken, opts, 0)
	if err != nil {
		return nil, err
	}
	return &zoom{mac: mac, timing: newTiming(c), insecure: c.insecure}, nil
}

// Name returns "zoom".
func (*zoom) Name() string { return "zoom" }

// Info describes the Zoom preset.
func (*zoom) Info() Info {
	return Info{
		Name:            "zoom",
		Title:           "Zoom",
		SignatureHeader: "x-zm-signature",
		Algorithm:       "HMAC-SHA256 (hex, v0= prefix)",
		Timestamped:     true,
		IDSource:        "SHA-256 of the body (Zoom sends no event ID)",
		TypeSource:      `body "event"`,
		Handshake:       "endpoint.url_validation answered with plainToken and encryptedToken",
	}
}

// Verify checks req's x-zm-signature against x-zm-request-timestamp and
// the body, the timestamp against the window around now, and answers the
// URL validation.
func (z *zoom) Verify(req verify.Request, now time.Time) (verify.Delivery, error) {
	const name = "zoom"
	d := verify.Delivery{Provider: name}
	if err := zoomScheme.verify(z.mac, z.timing, z.insecure, req, now, &d, nil); err != nil {
		return d, err
	}
	matched := max(d.SecretIndex, 0) // the secret that answers the URL validation
	var err error
	if d.Type, err = bodyField(name, req.Body, "event"); err != nil {
		return d, err
	}
	if d.Type == "endpoint.url_validation" {
		plain, ok := jsonscan.Field(req.Body, "payload", "plainToken")
		if !ok || plain == "" || len(plain) > maxChallenge {
			return d, verify.Fail(name, verify.ErrMissingHeader, "endpoint.url_validation has no payload.plainToken")
		}
		enc := z.mac.AppendSum(nil, matched, &verify.Message{Prefix: [4]string{plain}})
		body, err := json.Marshal(struct {
			Plain     string `json:"plainToken"`
			Encrypted string `json:"encryptedToken"`
		}{plain, hex.EncodeToString(enc)})
		if err != nil {
			return d, verify.Fail(name, verify.ErrMissingHeader, "payload.plainToken cannot be encoded")
		}
		d.Reply = replyJSON(body)
		return d, nil
	}
	d.ID = bodyID(req.Body)
	return d, nil
}

// Sign returns the headers Zoom would send with o: x-zm-request-timestamp,
// x-zm-signature under the first secret, and Content-Type.
func (z *zoom) Sign(o Outgoing) (http.Header, error) {
	return zoomScheme.sign(z.mac, o), nil
}

// zoomScheme is Zoom's request signing, Slack's scheme under other
// headers.
var zoomScheme = &v0Scheme{
	name:      "zoom",
	sigHeader: zoomSignatureHeader,
	tsHeader:  zoomTimestampHeader,
	sigName:   "x-zm-signature",
	tsName:    "x-zm-request-timestamp",
	hint:      "is this the event notification endpoint of your Zoom app?",
	unusable:  "x-zm-signature must be v0= followed by the hex HMAC",
	mismatch:  "x-zm-signature does not match any configured Secret Token: check the token, and that nothing re-encoded the body",
}
