package webhooktest

import (
	"encoding/json"
	"net/url"
	"testing"
	"testing/fstest"

	"github.com/hookguard/hookguard/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixtures of the first six presets follow the providers' documented
// schemas (every ID and value in them is made up):
//   - Stripe: the Event object (id evt_, object, api_version, created, data.object,
//     data.previous_attributes, livemode, pending_webhooks, request{id,
//     idempotency_key}, type), https://docs.stripe.com/api/events/object, and the
//     PaymentIntent, Charge, Subscription and Checkout Session objects it wraps.
//   - GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads
//     (ping, push, pull_request, issues, issue_comment, check_run,
//     workflow_run, release, installation; X-GitHub-Hook-ID and
//     X-GitHub-Hook-Installation-Target-* headers; the form content type sends
//     the JSON as payload=).
//   - Shopify: https://shopify.dev/docs/api/webhooks (numeric IDs,
//     admin_graphql_api_id, X-Shopify-Topic, X-Shopify-API-Version; app/uninstalled
//     sends the shop) and the privacy topics of
//     https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance.
//   - Slack: https://api.slack.com/apis/events-api (the event_callback wrapper
//     with event_id, event_time, authorizations, event_context),
//     https://api.slack.com/events/url_verification, the interaction payloads
//     and slash commands (form-encoded).
//   - Standard Webhooks: the spec's payload structure (type, timestamp, data),
//     standard-webhooks/standard-webhooks spec/standard-webhooks.md; Svix sends
//     the same envelope.
//
// Each sidecar's "reference" names the page its fixture was written from;
// internal/fixturecheck checks the fixtures against the providers' SDKs and
// schemas where one exists.

// TestFixtureIndex checks every embedded fixture and that every provider,
// including presets added after this test was written, has at least three.
func TestFixtureIndex(t *testing.T) {
	all, err := index()
	require.NoError(t, err, "embedded fixtures")
	for _, name := range providers.Names() {
		assert.GreaterOrEqual(t, len(Fixtures(name)), 3, "provider %s: want at least 3 fixtures in webhooktest/testdata/%s/ (see the package doc for the format)", name, name)
	}
	known := make(map[string]bool)
	for _, n := range providers.Names() {
		known[n] = true
	}
	for _, f := range all {
		assert.True(t, known[f.Provider], "fixture %s: no provider %q in providers.Names()", f.Name, f.Provider)
		assert.Equal(t, f.Provider+"/"+f.Event, f.Name, "fixture %s: name is not provider/event", f.Name)
		// The body parses, independently of checkBody.
		switch f.ContentType {
		case "application/x-www-form-urlencoded":
			v, err := url.ParseQuery(string(f.Body))
			if assert.NoError(t, err, f.Name) {
				if p := v.Get("payload"); p != "" {
					assert.True(t, json.Valid([]byte(p)), "%s: payload is not JSON", f.Name)
				}
			}
		default:
			var v any
			assert.NoError(t, json.Unmarshal(f.Body, &v), f.Name)
		}
	}
}

func TestLoadFixturesRejects(t *testing.T) {
	good := `{"description": "ok"}`
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing sidecar", map[string]string{"p/a.json": `{}`}, "no sidecar"},
		{"sidecar not JSON", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{`}, "sidecar"},
		{"unknown sidecar field", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{"description":"x","id":"1"}`}, "unknown field"},
		{"no description", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{"type":"x"}`}, "description"},
		{"two-line description", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{"description":"a\nb"}`}, "description"},
		{"two-line reference", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{"description":"x","reference":"a\nb"}`}, "reference"},
		{"body not JSON", map[string]string{"p/a.json": `{"a":`, "p/a.meta.json": good}, "not valid JSON"},
		{"json with form content type", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{"description":"x","content_type":"application/x-www-form-urlencoded"}`}, "JSON content_type"},
		{"form with json content type", map[string]string{"p/a.form": `a=b`, "p/a.meta.json": good}, "x-www-form-urlencoded"},
		{"form payload not JSON", map[string]string{"p/a.form": `payload=%7Bx`, "p/a.meta.json": `{"description":"x","content_type":"application/x-www-form-urlencoded"}`}, "payload"},
		{"form not encoded", map[string]string{"p/a.form": `a=%zz`, "p/a.meta.json": `{"description":"x","content_type":"application/x-www-form-urlencoded"}`}, "URL-encoded"},
		{"signature in sidecar", map[string]string{"p/a.json": `{}`, "p/a.meta.json": `{"description":"x","headers":{"Stripe-Signature":"t=1"}}`}, "set when signing"},
		{"orphan sidecar", map[string]string{"p/a.meta.json": good}, "has no body"},
		{"stray file", map[string]string{"p/a.txt": "x"}, ".json or .form"},
		{"json and form", map[string]string{"p/a.json": `{}`, "p/a.form": `payload=%7B%7D`, "p/a.meta.json": good}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tt.files {
				fsys["root/"+name] = &fstest.MapFile{Data: []byte(data)}
			}
			_, err := loadFixtures(fsys, "root")
			require.ErrorIs(t, err, ErrInvalidFixture, "loadFixtures")
			assert.ErrorContains(t, err, tt.want, "the error must say what is wrong")
		})
	}

	fsys := fstest.MapFS{
		"root/p/a.json":      {Data: []byte(`{"k":1}`)},
		"root/p/a.meta.json": {Data: []byte(`{"description":"d","reference":"https://example.com/ref","type":"t","headers":{"x-extra":"v"}}`)},
		"root/p/b.form":      {Data: []byte(`payload=%7B%7D`)},
		"root/p/b.meta.json": {Data: []byte(`{"description":"f","content_type":"application/x-www-form-urlencoded"}`)},
	}
	got, err := loadFixtures(fsys, "root")
	require.NoError(t, err, "loadFixtures")
	require.Len(t, got, 2, "loadFixtures")
	a := got[0]
	assert.Equal(t, "p/a", a.Name, "fixture a: name")
	assert.Equal(t, "https://example.com/ref", a.Reference, "fixture a: reference")
	assert.Equal(t, "t", a.Type, "fixture a: type")
	assert.Equal(t, "application/json", a.ContentType, "fixture a: content type")
	assert.Equal(t, "v", a.Header.Get("X-Extra"), "fixture a: sidecar header")
	assert.Equal(t, `{"k":1}`, string(a.Body), "fixture a: body")
	assert.Equal(t, "p/b", got[1].Name, "fixture b: name")
	assert.Equal(t, "application/x-www-form-urlencoded", got[1].ContentType, "fixture b: content type")
}
