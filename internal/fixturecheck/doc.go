// Package fixturecheck holds the tests that check webhooktest's fixtures
// against sources hookguard did not write: GitHub's payloads against the
// JSON Schemas of @octokit/webhooks-schemas, Stripe's against stripe-go's
// types, Slack's against slack-go's; Shopify's, for which no Go SDK is
// used, against the privacy topics' documented bodies and for consistency
// with the references their sidecars name. It is a module of its own, so that
// those SDKs never enter the root module's requirements; it has no code
// besides its tests.
package fixturecheck
