package webhooktest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// exampleT stands in for the *testing.T a real test gets, so that the
// examples can run and print; it panics where a test would fail.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                      {}
func (exampleT) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (exampleT) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// A Stripe receiver tested in a few lines: a signed fixture goes in, and
// the event the application's handler got comes out. In a test, t is the
// test's *testing.T.
func Example_stripe() {
	var t testing.TB = exampleT{}

	// The application's handler, as in production.
	var paid []string
	app := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		if e.Type == "payment_intent.succeeded" {
			paid = append(paid, e.ID)
		}
		return nil
	})

	p, _ := providers.NewStripe("whsec_test_secret")
	rec := webhooktest.NewRecorder(webhooktest.Then(app))
	recv, _ := hookguard.New(p, nil, hookguard.WithQueue(rec))

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	fmt.Println(res.Status, res.Events[0].Type, paid)

	// The same event with a wrong signature never reaches the handler.
	res = webhooktest.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded", webhooktest.WithWrongSecret()))
	fmt.Println(res.Status, len(paid))
	// Output:
	// 200 payment_intent.succeeded [evt_3PJk2aLkdIwHu7ix0Qm9x2Tb]
	// 401 1
}

// A GitHub receiver running its handler on the default in-memory queue:
// Recorder.Do waits, bounded, for the handled event instead of sleeping.
// GitHub signs no timestamp, so a replay of the same body under a fresh
// delivery ID is caught by content dedupe.
func Example_gitHub() {
	var t testing.TB = exampleT{}

	p, _ := providers.NewGitHub("It's a Secret to Everybody")
	rec := webhooktest.NewRecorder()
	recv, _ := hookguard.New(p, rec)
	defer recv.Shutdown(context.Background())

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "github/pull_request.opened",
		webhooktest.WithID("4c8e7a10-19f2-11ef-8d3a-6f1e2b9c0d44")))
	var pr struct {
		Action string `json:"action"`
		Number int    `json:"number"`
	}
	_ = res.Events[0].Decode(&pr)
	fmt.Println(res.Status, res.Events[0].Type, pr.Action, pr.Number)

	replay := webhooktest.Do(t, recv, webhooktest.FixtureRequest(t, p, "github/pull_request.opened"))
	fmt.Println(replay.Status, replay.Duplicate, rec.Len())
	// Output:
	// 200 pull_request opened 42
	// 200 true 1
}

// A fake clock drives both the signer and the receiver, so replay-window
// tests need no sleeping.
func ExampleClock() {
	var t testing.TB = exampleT{}

	clock := webhooktest.NewClock(time.Date(2024, 5, 24, 12, 0, 0, 0, time.UTC))
	p, _ := providers.NewSlack("8f742231b10e8888abcd99yyyzzz85a5")
	recv, _ := hookguard.New(p, nil, hookguard.WithQueue(webhooktest.NewRecorder()), hookguard.WithClock(clock.Now))

	req := webhooktest.FixtureRequest(t, p, "slack/event_callback.message", webhooktest.WithClock(clock))
	clock.Advance(6 * time.Minute) // past Slack's five-minute window
	fmt.Println(webhooktest.Do(t, recv, req).Status)
	// Output:
	// 401
}

// Fixtures are listed by name, PROVIDER/EVENT.
func ExampleFixtures() {
	for _, f := range webhooktest.Fixtures("shopify") {
		fmt.Printf("%s (%s)\n", f.Name, f.Type)
	}
	// Output:
	// shopify/app.uninstalled (app/uninstalled)
	// shopify/orders.create (orders/create)
	// shopify/products.update (products/update)
}
