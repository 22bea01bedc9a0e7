// Package webhooktest makes testing a webhook receiver a few lines of
// code: it signs requests exactly as each provider would, ships realistic
// event bodies for every built-in provider, fakes the clock, and records
// the events a receiver hands on so that a test can wait for them without
// sleeping.
//
//	func TestStripeWebhook(t *testing.T) {
//		p, _ := providers.NewStripe("whsec_test")
//		rec := webhooktest.NewRecorder(webhooktest.Then(myHandler))
//		recv, _ := hookguard.New(p, nil, hookguard.WithQueue(rec))
//
//		res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
//		// res.Status == 200, res.Events[0].Type == "payment_intent.succeeded"
//	}
//
// # Requests
//
// [NewRequest] signs any body and [FixtureRequest] an embedded fixture,
// with the provider preset's own Sign method, at the time of a [Clock]
// ([WithClock]) or time.Now. Options spoil the request after signing, so
// error paths can be tested too: [WithWrongSecret], [WithTimestampOffset]
// (a negative offset beyond the tolerance gives a stale request),
// [WithFlippedByte], [WithFlippedSignature], [WithoutSignature] and
// [WithoutHeader].
//
// # Receiving
//
// A [Recorder] is both a hookguard.Handler and a hookguard.Queue. As the
// queue it records each event before the receiver answers; as the handler
// it records it when the receiver's queue runs it. [Then] puts the
// application's own handler in front, so the code under test runs.
// [Recorder.Do] serves one request and returns the status, response and
// the events it caused; [Recorder.Wait] waits, bounded, for N events.
//
// # Fixtures
//
// Fixtures are embedded, so they come with the module: list them with
// [AllFixtures] or "hookguard send --list", load one with [LookupFixture].
// Each is named PROVIDER/EVENT and lives in the module as
//
//	webhooktest/testdata/PROVIDER/EVENT.json        the body, byte for byte as the provider sends it
//	webhooktest/testdata/PROVIDER/EVENT.form        or a URL-encoded body (GitHub's form content type)
//	webhooktest/testdata/PROVIDER/EVENT.meta.json   the sidecar, required
//
// PROVIDER is the preset's name as providers.New takes it. The body file
// must not end with a newline the provider would not send. The sidecar is a
// JSON object with these fields, and no others:
//
//	{
//	  "description":  "one line saying what the event is (required)",
//	  "type":         "the event type, for providers that send it in a header (GitHub X-GitHub-Event, Shopify X-Shopify-Topic)",
//	  "content_type": "the body's media type; default application/json, application/x-www-form-urlencoded for .form",
//	  "headers":      {"X-Extra-Header": "unsigned headers the provider also sends"}
//	}
//
// A .json body must be valid JSON; a .form body must be URL-encoded, and
// its payload field, if any, JSON. The package's tests check every
// fixture, and fail for a provider in providers.Names() with fewer than
// three. Fixtures are written from the providers' documented schemas
// (field names, nesting, ID formats, timestamps); every ID, name and
// address in them is made up.
package webhooktest
