// Package webhooktest makes testing a webhook receiver a few lines of
// code: it signs requests exactly as each provider would, ships realistic
// event bodies for every built-in provider, fakes the clock, and records
// what the production pipeline made of each event (handled, after how
// many attempts, or dead-lettered, and why) so that a test can wait for
// it without sleeping.
//
//	func TestStripeWebhook(t *testing.T) {
//		p, _ := providers.NewStripe("whsec_test")
//		rec := webhooktest.NewRecorder()
//		recv, err := hookguard.New(p, myHandler, rec.Options()...)
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Cleanup(func() { recv.Shutdown(context.Background()) })
//
//		res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
//		// res.Status == 200; res.Handled.Type == "payment_intent.succeeded", or
//		// res.DeadLetter.Err says why myHandler gave up
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
// The receiver under test is the production one: hookguard.New with the
// application's own handler, its own queue and its retry policy. A
// [Recorder] only watches it, through the hooks that [Recorder.Options]
// adds, and makes its queue retry at once (hookguard.WithBackoff(0, 0))
// so that no test waits for a backoff. A handler error is therefore
// retried after a 200, exactly as in production, up to
// hookguard.DefaultMaxAttempts attempts; a [hookguard.Permanent] error or
// the last failed attempt ends in a dead letter.
//
// [Recorder.Do] serves one request and returns the answer together with
// the outcome of the event it carried: Result.Handled, or
// Result.DeadLetter with the error. [Recorder.WaitHandled] and
// [Recorder.WaitDeadLetters] wait, bounded by [WaitTimeout], for events
// sent some other way (by the package-level [Do], an httptest server or
// "hookguard send"), and fail the test saying what arrived instead.
// Every helper takes a testing.TB, so the package works beside testify.
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
//	  "reference":    "one line naming the published source the body was written from: a documentation URL or an SDK type",
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
//
// # Typed access
//
// The GitHub, Stripe, Shopify and Slack fixtures are complete payloads of
// the events receivers act on, checked in the repository's CI against the
// senders' SDKs and schemas (GitHub's against @octokit/webhooks-schemas and
// go-github, Stripe's against stripe-go with unknown fields refused and
// every declared field present, Slack's against slack-go). So a test that
// decodes one into an SDK's types gets no nil where production has a
// value. With go-github, in your own test:
//
//	f, _ := webhooktest.LookupFixture("github/push")
//	ev, err := github.ParseWebHook("push", f.Body) // *github.PushEvent
//	push := ev.(*github.PushEvent)
//	push.GetRepo().GetFullName() // "octo-org/hello-world"
//	push.GetHeadCommit().GetAuthor().GetEmail()
//
// and with stripe-go:
//
//	f, _ := webhooktest.LookupFixture("stripe/invoice.paid")
//	var evt stripe.Event
//	_ = json.Unmarshal(f.Body, &evt)
//	var in stripe.Invoice
//	_ = json.Unmarshal(evt.Data.Raw, &in)
//	in.Parent.SubscriptionDetails.Subscription.ID // set, as Stripe sends it
//
// The module internal/fixturecheck of the repository runs both as
// examples, with the SDKs' own signature checks accepting the requests this
// package signs; this package itself never imports an SDK.
package webhooktest
