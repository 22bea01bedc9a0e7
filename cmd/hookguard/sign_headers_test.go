package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// signedHeaderNames runs "hookguard sign" for preset name with extra
// arguments and returns the header names it printed, canonicalised.
func signedHeaderNames(t *testing.T, name string, extra ...string) []string {
	t.Helper()
	secret, err := testsecret.For(name)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"id":"evt_1","type":"invoice.paid","event_type":"x"}`
	args := []string{"sign", "--provider", name, "--secret", secret, "--url", "https://hooks.example.com/webhooks/" + name}
	switch name {
	case "twilio":
		body = "CallSid=CA1&From=%2B14158675309"
		args = append(args, "--content-type", "application/x-www-form-urlencoded")
	case "mailgun", "linear": // they sign inside the body
		args = append(args, "--body-out", filepath.Join(t.TempDir(), "body.json"))
	}
	got := runCmd(t, body, append(args, extra...)...)
	if got.code != 0 {
		t.Fatalf("sign %s = %d\n%s", name, got.code, got.stderr)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(got.stdout), "\n") {
		k, _, _ := strings.Cut(l, ":")
		names = append(names, http.CanonicalHeaderKey(k))
	}
	return names
}

// "hookguard sign --provider shopify left out X-Shopify-API-Version (and
// X-Shopify-Topic without --type), which Shopify always sends and
// Shopify's own library requires."
func TestSignShopifyHasTheHeadersShopifyAPIRequires(t *testing.T) {
	// Shopify/shopify-app-js packages/apps/shopify-api/lib/webhooks/
	// validate.ts, checkWebhooksHeaders: a webhook missing any of these is
	// refused with WebhookValidationErrorReason.MissingHeaders.
	required := []string{"X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Webhook-Id"}
	for _, extra := range [][]string{nil, {"--type", "products/update"}} {
		got := signedHeaderNames(t, "shopify", extra...)
		for _, h := range required {
			if !slices.Contains(got, http.CanonicalHeaderKey(h)) {
				t.Errorf("sign --provider shopify %q prints %v; lacks %s", extra, got, h)
			}
		}
	}
}

// sign prints every header each preset's sender sends, with a default
// event type when --type is absent.
func TestSignPrintsEveryDocumentedHeader(t *testing.T) {
	svix := []string{"Svix-Id", "Svix-Timestamp", "Svix-Signature"} // docs.svix.com "Verifying payloads"
	documented := map[string][]string{
		// Bitbucket Cloud: X-Event-Key, X-Hook-UUID, X-Request-UUID,
		// X-Attempt-Number (support.atlassian.com "Event payloads").
		"bitbucket": {"X-Hub-Signature", "X-Event-Key", "X-Hook-Uuid", "X-Request-Uuid", "X-Attempt-Number"},
		"calendly":  {"Calendly-Webhook-Signature"},
		"clerk":     svix,
		// discord.com/developers/docs/interactions/overview, security.
		"discord": {"X-Signature-Ed25519", "X-Signature-Timestamp"},
		"dropbox": {"X-Dropbox-Signature"},
		// docs.github.com webhook-events-and-payloads, delivery headers.
		"github": {"X-Hub-Signature-256", "X-Github-Event", "X-Github-Delivery", "X-Github-Hook-Id",
			"X-Github-Hook-Installation-Target-Id", "X-Github-Hook-Installation-Target-Type", "User-Agent"},
		// gitlab lib/gitlab/web_hooks.rb and docs "Webhook events".
		"gitlab": {"X-Gitlab-Token", "X-Gitlab-Event", "X-Gitlab-Instance", "X-Gitlab-Webhook-Uuid", "X-Gitlab-Event-Uuid", "Idempotency-Key"},
		// developers.hubspot.com "Validating requests", v3.
		"hubspot":      {"X-Hubspot-Signature-V3", "X-Hubspot-Request-Timestamp"},
		"instagram":    {"X-Hub-Signature-256"},
		"intercom":     {"X-Hub-Signature"},
		"lemonsqueezy": {"X-Signature", "X-Event-Name"},
		// linear.app/developers/webhooks: Linear-Delivery, Linear-Event.
		"linear":   {"Linear-Signature", "Linear-Delivery", "Linear-Event"},
		"mailgun":  {"Content-Type"}, // signed inside the body
		"meta":     {"X-Hub-Signature-256"},
		"mux":      {"Mux-Signature"},
		"okta":     {"Authorization"},
		"paddle":   {"Paddle-Signature"},
		"plaid":    {"Plaid-Verification"},
		"postmark": {"Authorization"},
		"resend":   svix,
		"sendgrid": {"X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"},
		// docs.sentry.io integration-platform/webhooks, headers.
		"sentry": {"Sentry-Hook-Signature", "Sentry-Hook-Resource", "Sentry-Hook-Timestamp", "Request-Id"},
		// shopify.dev/docs/apps/build/webhooks, headers.
		"shopify": {"X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Api-Version",
			"X-Shopify-Webhook-Id", "X-Shopify-Triggered-At", "X-Shopify-Event-Id"},
		"slack": {"X-Slack-Signature", "X-Slack-Request-Timestamp"},
		// developer.squareup.com "Validate notifications".
		"square":           {"X-Square-Hmacsha256-Signature", "Square-Environment"},
		"standardwebhooks": {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"},
		"stripe":           {"Stripe-Signature"},
		"svix":             svix,
		"twilio":           {"X-Twilio-Signature"},
		// dev.twitch.tv/docs/eventsub/handling-webhook-events, request
		// headers.
		"twitch": {"Twitch-Eventsub-Message-Id", "Twitch-Eventsub-Message-Retry", "Twitch-Eventsub-Message-Type",
			"Twitch-Eventsub-Message-Signature", "Twitch-Eventsub-Message-Timestamp",
			"Twitch-Eventsub-Subscription-Type", "Twitch-Eventsub-Subscription-Version"},
		"typeform": {"Typeform-Signature"},
		"vercel":   {"X-Vercel-Signature"},
		"whatsapp": {"X-Hub-Signature-256"},
		// developers.zoom.us webhooks, verify with the secret token.
		"zoom": {"X-Zm-Signature", "X-Zm-Request-Timestamp"},
	}
	for _, name := range providers.Names() {
		want, ok := documented[name]
		if !ok {
			t.Errorf("%s: no documented headers in this test; add the preset's", name)
			continue
		}
		got := signedHeaderNames(t, name)
		for _, h := range want {
			if !slices.Contains(got, h) {
				t.Errorf("sign --provider %s prints %v; lacks %s", name, got, h)
			}
		}
	}
}
