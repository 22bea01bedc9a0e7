package sign

import (
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
)

// TestBuildConfiguredSchemes: Build signs as the configured preset's
// sender does, so that `hookguard sign` and `send` produce what the
// receiver accepts: HubSpot under each WithSignatureVersion, and Twilio
// with a SharedKey (HMAC-SHA256 and its settings header). Every tamper
// kind that applies is still refused.
func TestBuildConfiguredSchemes(t *testing.T) {
	const (
		hubspotBody = `[{"eventId":1,"subscriptionType":"contact.creation"}]`
		twilioBody  = "MessageSid=SM1&MessageStatus=delivered"
		form        = "application/x-www-form-urlencoded"
	)
	mk := func(name, secret string, opts ...providers.Option) providers.Provider {
		t.Helper()
		p, err := providers.New(name, secret, opts...)
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		return p
	}
	tests := []struct {
		name  string
		p     providers.Provider
		body  string
		ctype string
		want  string // a header the delivery must carry
	}{
		{"hubspot v3", mk("hubspot", "client-secret"), hubspotBody, "", "X-Hubspot-Signature-V3"},
		{"hubspot v2", mk("hubspot", "client-secret", providers.WithSignatureVersion("v2")), hubspotBody, "", "X-Hubspot-Signature"},
		{"hubspot v1", mk("hubspot", "client-secret", providers.WithSignatureVersion("v1")), hubspotBody, "", "X-Hubspot-Signature"},
		{"twilio shared key", mk("twilio", "shared-secret", providers.WithSharedKey("webhooks_sharedkey_01jexample")), twilioBody, form, "X-Twilio-Webhooks-Signature-Settings"},
	}
	now := time.Unix(1716480205, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []Tamper{None, Signature, Body, Timestamp, Secret, MissingSignature} {
				if !k.Applies(tt.p) {
					continue
				}
				s := Spec{Body: []byte(tt.body), Time: now, URL: "https://hooks.example.com/in", ContentType: tt.ctype}
				k.Apply(&s, tt.p)
				d, err := Build(tt.p, s)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				if k == None && d.Header.Get(tt.want) == "" {
					t.Errorf("no %s header in %v", tt.want, d.Header)
				}
				if got := accepts(tt.p, &d, now); got != (k == None) {
					t.Errorf("%s: accepted = %v", k, got)
				}
			}
		})
	}
}
