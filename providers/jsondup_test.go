package providers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 15, item 5: the event ID and type a preset reads from the body must
// be the ones encoding/json gives the handler (Event.Decode), or the body
// is refused. A body that holds the name twice, or in another case, is
// refused with a 400 wrapping verify.ErrAmbiguousJSON; an ID or type that
// is not valid Unicode with one wrapping verify.ErrInvalidJSONString. No
// genuine sender writes such bodies: JSON senders serialise a struct or a
// map, which cannot repeat a name.
func TestBodyIDRefusedWhenAmbiguous(t *testing.T) {
	tests := []struct {
		preset string
		body   string
		want   error
	}{
		// Deduped as evt_first and handled as evt_last before the fix.
		{"stripe", `{"id":"evt_first","object":"event","type":"invoice.paid","id":"evt_last"}`, verify.ErrAmbiguousJSON},
		{"stripe", `{"ID":"evt_upper","object":"event","type":"invoice.paid"}`, verify.ErrAmbiguousJSON},
		{"stripe", `{"id":"evt_1","\u0069d":"evt_2","type":"invoice.paid"}`, verify.ErrAmbiguousJSON},
		// "type" twice with the last member something else: the forward
		// scan took the first one.
		{"stripe", `{"id":"evt_1","type":"invoice.paid","type":"charge.refunded","livemode":false}`, verify.ErrAmbiguousJSON},
		// Both used to read as "evt_\uFFFD": the second was dropped as a
		// duplicate of the first.
		{"stripe", "{\"id\":\"evt_\xff\",\"type\":\"invoice.paid\"}", verify.ErrInvalidJSONString},
		{"stripe", "{\"id\":\"evt_\xfe\",\"type\":\"invoice.paid\"}", verify.ErrInvalidJSONString},
		{"stripe", `{"id":"evt_\ud800","type":"invoice.paid"}`, verify.ErrInvalidJSONString},
		{"slack", `{"type":"event_callback","event_id":"Ev_first","event":{"type":"message"},"event_id":"Ev_last"}`, verify.ErrAmbiguousJSON},
		{"slack", `{"type":"event_callback","event_id":"Ev1","event":{"type":"message"},"type":"app_rate_limited"}`, verify.ErrAmbiguousJSON},
		{"slack", `{"type":"event_callback","event_id":"Ev1","event":{"type":"message","type":"reaction_added"}}`, verify.ErrAmbiguousJSON},
		{"slack", `{"type":"event_callback","Event_ID":"Ev1"}`, verify.ErrAmbiguousJSON},
		{"square", `{"merchant_id":"M1","type":"payment.created","event_id":"e1","event_id":"e2"}`, verify.ErrAmbiguousJSON},
		{"standardwebhooks", `{"type":"a.b","type":"c.d","data":{}}`, verify.ErrAmbiguousJSON},
		{"discord", `{"type":2,"id":"i1","id":"i2"}`, verify.ErrAmbiguousJSON},
		{"postmark", `{"RecordType":"Bounce","recordType":"Delivery"}`, verify.ErrAmbiguousJSON},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			p, req := signedForPreset(t, tt.preset, tt.body)
			d, err := p.Verify(req, t0)
			require.ErrorIs(t, err, tt.want, "Verify(%q) = ID %q, type %q", tt.body, d.ID, d.Type)
			var ve *verify.Error
			const msg = "error %#v: want a 400 *verify.Error of %s naming the member"
			require.ErrorAs(t, err, &ve, msg, err, p.Name())
			require.Equal(t, http.StatusBadRequest, ve.Status, msg, err, p.Name())
			require.Equal(t, p.Name(), ve.Provider, msg, err, p.Name())
			require.Contains(t, ve.Reason, `"`, msg, err, p.Name())
			require.NotContains(t, err.Error(), "evt_", "the error echoes the body")
			require.NotContains(t, err.Error(), "Ev_", "the error echoes the body")
		})
	}
}

// TestBodyIDAsDecoded checks that a genuine body still gives the ID and
// type encoding/json decodes, including bodies whose nested objects repeat
// "id" and "type" (every Stripe event's data object has both).
func TestBodyIDAsDecoded(t *testing.T) {
	body := `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","data":{"object":{"id":"in_1","object":"invoice","type":"x","lines":[{"id":"il_1","type":"subscription"}]}},"livemode":false,"type":"invoice.paid"}`
	p, req := signedForPreset(t, "stripe", body)
	d, err := p.Verify(req, t0)
	require.NoError(t, err)
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ev))
	require.Equal(t, ev.ID, d.ID, "ID: want what encoding/json decodes")
	require.Equal(t, ev.Type, d.Type, "type: want what encoding/json decodes")
}

// TestMailgunSignatureObjectTwice: Mailgun's token, the event ID, is read
// before verification; a second signature object (or a second token in it)
// would give the handler another token than the one deduped.
func TestMailgunSignatureObjectTwice(t *testing.T) {
	p := mustNew(t, "mailgun", "key-mailgun-signing")
	o := Outgoing{Body: []byte(`{"event-data":{"event":"delivered"}}`), ID: "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0", Timestamp: t0}
	good := signFor(t, p, o)
	d, err := p.Verify(good, t0)
	require.NoError(t, err, "genuine body")
	require.Equal(t, o.ID, d.ID, "genuine body: ID")
	tail := strings.TrimSuffix(string(good.Body), "}")
	for _, body := range []string{
		tail + `,"signature":{"timestamp":"1700000000","token":"forged","signature":"00"}}`,
		strings.Replace(string(good.Body), `"token":`, `"token":"forged","token":`, 1),
		strings.Replace(string(good.Body), `"token":`, `"Token":"forged","token":`, 1),
		tail + `,"event-data":{"event":"failed"}}`,
	} {
		req := good
		req.Body = []byte(body)
		d, err := p.Verify(req, t0)
		assert.ErrorIs(t, err, verify.ErrAmbiguousJSON, "Verify(%s) = %q", body, d.ID)
		assert.Equal(t, http.StatusBadRequest, verify.StatusCode(err), "Verify(%s): status", body)
	}
}

// signedForPreset returns the preset and a request it verifies, signed
// for body at t0.
func signedForPreset(t *testing.T, preset, body string) (Provider, verify.Request) {
	t.Helper()
	o := Outgoing{Body: []byte(body), ID: "msg_1", Timestamp: t0, URL: asymURL}
	secret, ok := map[string]string{
		"stripe":           "whsec_test_secret",
		"slack":            "8f742231b10e8888abcd99yyyzzz85a5",
		"standardwebhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"postmark":         "hookuser:s3cret-pass",
	}[preset]
	if !ok { // an asymmetric or URL-signing preset: its test key
		p, _ := asymNew(t, preset)
		return p, asymSigned(t, p, o)
	}
	p := mustNew(t, preset, secret)
	return p, signFor(t, p, o)
}
