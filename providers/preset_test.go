package providers_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPresetOptionalBehaviours checks what Preset reports for the
// behaviours that used to need a type assertion: the methods it answers,
// whether it reads the URL, and whether it signs inside the body.
func TestPresetOptionalBehaviours(t *testing.T) {
	tests := []struct {
		name         string
		methods      []string
		readsURL     bool
		signedInBody bool
	}{
		{"stripe", []string{http.MethodPost}, false, false},
		{"github", []string{http.MethodPost}, false, false},
		{"twilio", []string{http.MethodPost}, true, false},  // signs the URL
		{"hubspot", []string{http.MethodPost}, true, false}, // v3 signs the URL
		{"meta", []string{http.MethodGet, http.MethodPost}, true, false},
		{"dropbox", []string{http.MethodGet, http.MethodPost}, true, false},
		{"okta", []string{http.MethodGet, http.MethodPost}, false, false},
		{"mailgun", []string{http.MethodPost}, false, true},
		{"linear", []string{http.MethodPost}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret, err := testsecret.For(tc.name)
			require.NoError(t, err)
			p, err := providers.New(tc.name, secret)
			require.NoError(t, err)
			assert.Equal(t, tc.methods, p.Methods(), "Methods()")
			assert.Equal(t, tc.readsURL, p.ReadsURL(), "ReadsURL()")
			assert.Equal(t, tc.signedInBody, p.Info().SignedInBody, "Info().SignedInBody")
		})
	}
}

// TestPresetSignBody checks that SignBody returns o.Body and Sign's
// headers for a preset that signs in headers, and a new body that
// verifies (leaving o.Body alone) for one that signs inside the body.
func TestPresetSignBody(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	stripe, err := providers.NewStripe("whsec_test")
	require.NoError(t, err)
	o := providers.Outgoing{Body: body, Timestamp: now}
	got, h, err := stripe.SignBody(o)
	require.NoError(t, err, "stripe SignBody")
	require.Equal(t, body, got, "stripe SignBody: want the body as given")
	want, _ := stripe.Sign(o)
	assert.NotEmpty(t, h.Get("Stripe-Signature"), "stripe SignBody header")
	assert.Equal(t, want.Get("Stripe-Signature"), h.Get("Stripe-Signature"), "stripe SignBody header: want Sign's")
	_, err = stripe.Verify(verify.Request{Header: h, Body: got}, now)
	assert.NoError(t, err, "stripe: SignBody's delivery does not verify")

	linear, err := providers.NewLinear("lin_wh_test")
	require.NoError(t, err)
	orig := bytes.Clone(body)
	got, h, err = linear.SignBody(o)
	require.NoError(t, err)
	// A new body with webhookTimestamp, and the given one unchanged.
	assert.NotEqual(t, body, got, "linear SignBody: want a new body with webhookTimestamp")
	assert.Equal(t, orig, body, "linear SignBody changed the given body")
	_, err = linear.Verify(verify.Request{Header: h, Body: got}, now)
	assert.NoError(t, err, "linear: SignBody's delivery does not verify")
}
