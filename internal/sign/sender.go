package sign

import "net/http"

// senderProfile is what a preset's real sender sends besides what
// [providers.Provider.Sign] returns, so that "hookguard sign", send, demo
// and webhooktest send every header the provider sends: receivers (and the providers' own libraries)
// require some of them even though they are not signed.
type senderProfile struct {
	// typ is the event type sign uses when --type is absent: every real
	// delivery names its event.
	typ string
	// header holds headers the sender always sends, with a plausible
	// value; Sign's own headers win.
	header http.Header
}

// senderProfiles lists, per preset, the default type and the headers that
// Sign leaves out. Sources are cited per entry; header names only, values
// are examples.
var senderProfiles = map[string]senderProfile{
	// docs.github.com "Webhook events and payloads", Delivery headers:
	// X-GitHub-Hook-ID, X-GitHub-Event, X-GitHub-Delivery,
	// X-GitHub-Hook-Installation-Target-Type and -ID, User-Agent.
	"github": {typ: "push", header: http.Header{
		"X-Github-Hook-Id":                       {"1"},
		"X-Github-Hook-Installation-Target-Type": {"repository"},
		"X-Github-Hook-Installation-Target-Id":   {"1"},
	}},
	// shopify.dev "About webhooks", headers; @shopify/shopify-api
	// lib/webhooks/validate.ts requires X-Shopify-Hmac-Sha256,
	// X-Shopify-Topic, X-Shopify-Shop-Domain, X-Shopify-API-Version and
	// X-Shopify-Webhook-Id.
	"shopify": {typ: "orders/create", header: http.Header{
		"X-Shopify-Api-Version": {"2025-07"},
	}},
	// gitlab lib/gitlab/web_hooks.rb: X-Gitlab-Event names the hook.
	"gitlab": {typ: "Push Hook"},
	// Bitbucket "Event payloads": X-Event-Key on every request.
	"bitbucket": {typ: "repo:push"},
	// Linear webhooks: Linear-Event names the entity.
	"linear": {typ: "Issue"},
	// docs.sentry.io integration-platform webhooks: Sentry-Hook-Resource.
	"sentry": {typ: "issue"},
	// Lemon Squeezy webhooks: X-Event-Name.
	"lemonsqueezy": {typ: "order_created"},
	// dev.twitch.tv "Handling webhook events", list of request headers:
	// Twitch-Eventsub-Message-Retry and -Subscription-Version besides the
	// ones Sign sets.
	"twitch": {typ: "channel.follow", header: http.Header{
		"Twitch-Eventsub-Message-Retry":        {"0"},
		"Twitch-Eventsub-Subscription-Version": {"2"},
	}},
	// developer.squareup.com "Validate notifications": square-environment
	// comes with x-square-hmacsha256-signature.
	"square": {header: http.Header{
		"Square-Environment": {"Production"},
	}},
}

// DefaultType returns the event type a delivery of preset name carries
// when none is given ("" when the preset carries no type in a header).
func DefaultType(name string) string { return senderProfiles[name].typ }

// AddSenderHeaders adds to h the headers preset name's sender always sends
// that h lacks.
func AddSenderHeaders(name string, h http.Header) {
	for k, vs := range senderProfiles[name].header {
		if _, ok := h[k]; !ok {
			h[k] = append([]string(nil), vs...)
		}
	}
}
