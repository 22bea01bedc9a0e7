package providers_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
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
			if err != nil {
				t.Fatal(err)
			}
			p, err := providers.New(tc.name, secret)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Methods(); !slices.Equal(got, tc.methods) {
				t.Errorf("Methods() = %q, want %q", got, tc.methods)
			}
			if got := p.ReadsURL(); got != tc.readsURL {
				t.Errorf("ReadsURL() = %v, want %v", got, tc.readsURL)
			}
			if got := p.Info().SignedInBody; got != tc.signedInBody {
				t.Errorf("Info().SignedInBody = %v, want %v", got, tc.signedInBody)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	o := providers.Outgoing{Body: body, Timestamp: now}
	got, h, err := stripe.SignBody(o)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("stripe SignBody = %q, %v; want the body as given", got, err)
	}
	want, _ := stripe.Sign(o)
	if h.Get("Stripe-Signature") != want.Get("Stripe-Signature") || h.Get("Stripe-Signature") == "" {
		t.Errorf("stripe SignBody header %q, Sign %q", h.Get("Stripe-Signature"), want.Get("Stripe-Signature"))
	}
	if _, err := stripe.Verify(verify.Request{Header: h, Body: got}, now); err != nil {
		t.Errorf("stripe: SignBody's delivery does not verify: %v", err)
	}

	linear, err := providers.NewLinear("lin_wh_test")
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(body)
	got, h, err = linear.SignBody(o)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, body) || !bytes.Equal(body, orig) {
		t.Errorf("linear SignBody = %q (given %q, now %q): want a new body with webhookTimestamp and the given one unchanged", got, orig, body)
	}
	if _, err := linear.Verify(verify.Request{Header: h, Body: got}, now); err != nil {
		t.Errorf("linear: SignBody's delivery does not verify: %v", err)
	}
}
