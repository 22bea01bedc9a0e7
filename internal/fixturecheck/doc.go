// Package fixturecheck holds the tests that check webhooktest's fixtures
// against sources hookguard did not write: GitHub's payloads against the
// JSON Schemas of @octokit/webhooks-schemas, Stripe's against stripe-go's
// types, Slack's against slack-go's. It is a module of its own, so that
// those SDKs never enter the root module's requirements; it has no code
// besides its tests.
package fixturecheck
