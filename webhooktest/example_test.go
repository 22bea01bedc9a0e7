package webhooktest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
)

// exampleT stands in for the *testing.T a real test gets, so that the
// examples can run and print; it panics where a test would fail.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                      {}
func (exampleT) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (exampleT) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// A Stripe receiver tested in a few lines: a signed fixture goes through
// the production receiver, its queue and the application's handler, and
// the handled event comes out. In a test, t is the test's *testing.T.
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
	rec := webhooktest.NewRecorder()
	recv, _ := hookguard.New(p, app, rec.Options()...)
	defer recv.Shutdown(context.Background())

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	fmt.Println(res.Status, res.Handled.Type, paid)

	// The same event with a wrong signature never reaches the handler.
	res = rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded", webhooktest.WithWrongSecret()))
	fmt.Println(res.Status, errors.Is(res.Err, verify.ErrSignatureMismatch), len(paid))
	// Output:
	// 200 payment_intent.succeeded [evt_3PJk2aLkdIwHu7ix0Qm9x2Tb]
	// 401 true 1
}

// A GitHub receiver with a typed handler. GitHub signs no timestamp, so a
// replay of the same body under a fresh delivery ID is caught by content
// dedupe, and Recorder.Do returns at once: nothing was handed on.
func Example_gitHub() {
	var t testing.TB = exampleT{}

	type pullRequest struct {
		Action string `json:"action"`
		Number int    `json:"number"`
	}
	var opened []int
	app := hookguard.Typed(func(_ context.Context, _ hookguard.Event, pr pullRequest) error {
		if pr.Action == "opened" {
			opened = append(opened, pr.Number)
		}
		return nil
	})

	p, _ := providers.NewGitHub("It's a Secret to Everybody")
	rec := webhooktest.NewRecorder()
	recv, _ := hookguard.New(p, app, rec.Options()...)
	defer recv.Shutdown(context.Background())

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "github/pull_request.opened",
		webhooktest.WithID("4c8e7a10-19f2-11ef-8d3a-6f1e2b9c0d44")))
	fmt.Println(res.Status, res.Handled.Type, opened)

	replay := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "github/pull_request.opened"))
	fmt.Println(replay.Status, replay.Duplicate, len(rec.Handled()))
	// Output:
	// 200 pull_request [42]
	// 200 true 1
}

// errUnknownCharge is what the example's handler fails with for a refund.
var errUnknownCharge = errors.New("unknown charge")

// Recorder.Do drives the production queue: a handler error is retried
// after a 200 answer, as in production, but without a backoff, so the
// test never sleeps; a Permanent error goes to the dead-letter hook after
// one attempt, and Do reports it with its error.
func ExampleRecorder_Do() {
	var t testing.TB = exampleT{}

	app := hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		switch {
		case e.Type == "charge.refunded":
			return hookguard.Permanent(fmt.Errorf("refund %s: %w", e.ID, errUnknownCharge))
		case e.Attempt < 3:
			return errors.New("ledger unavailable") // retried
		}
		return nil
	})

	p, _ := providers.NewStripe("whsec_test_secret")
	rec := webhooktest.NewRecorder()
	recv, _ := hookguard.New(p, app, rec.Options()...)
	defer recv.Shutdown(context.Background())

	res := rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/payment_intent.succeeded"))
	fmt.Println(res.Status, "handled on attempt", res.Handled.Attempt)

	res = rec.Do(t, recv, webhooktest.FixtureRequest(t, p, "stripe/charge.refunded"))
	fmt.Println(res.Status, res.DeadLetter)
	fmt.Println(errors.Is(res.DeadLetter.Err, errUnknownCharge))
	// Output:
	// 200 handled on attempt 3
	// 200 stripe charge.refunded evt_3PKb7cLkdIwHu7ix1Vn4Hs8Q dead-lettered after 1 attempt: refund evt_3PKb7cLkdIwHu7ix1Vn4Hs8Q: unknown charge
	// true
}

// A fake clock drives both the signer and the receiver, so replay-window
// tests need no sleeping.
func ExampleClock() {
	var t testing.TB = exampleT{}

	clock := webhooktest.NewClock(time.Date(2024, 5, 24, 12, 0, 0, 0, time.UTC))
	p, _ := providers.NewSlack("8f742231b10e8888abcd99yyyzzz85a5")
	rec := webhooktest.NewRecorder()
	app := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	recv, _ := hookguard.New(p, app, rec.Options(hookguard.WithClock(clock.Now))...)
	defer recv.Shutdown(context.Background())

	req := webhooktest.FixtureRequest(t, p, "slack/event_callback.message", webhooktest.WithClock(clock.Now))
	clock.Advance(6 * time.Minute) // past Slack's five-minute window
	res := rec.Do(t, recv, req)
	fmt.Println(res.Status, errors.Is(res.Err, verify.ErrTimestampTooOld))
	// Output:
	// 401 true
}

// Fixtures are listed by name, PROVIDER/EVENT.
func ExampleFixtures() {
	for _, f := range webhooktest.Fixtures("shopify") {
		fmt.Printf("%s (%s)\n", f.Name, f.Type)
	}
	// Output:
	// shopify/app.uninstalled (app/uninstalled)
	// shopify/customers.create (customers/create)
	// shopify/customers.data_request (customers/data_request)
	// shopify/customers.redact (customers/redact)
	// shopify/orders.cancelled (orders/cancelled)
	// shopify/orders.create (orders/create)
	// shopify/orders.paid (orders/paid)
	// shopify/products.update (products/update)
	// shopify/shop.redact (shop/redact)
}

// A Router over Stripe's billing events, tested with their fixtures: the
// payloads are complete, so the fields a handler reads are there, as in
// production.
func Example_billingRouter() {
	var t testing.TB = exampleT{}

	type invoiceEvent struct {
		Data struct {
			Object struct {
				ID           string `json:"id"`
				Customer     string `json:"customer"`
				AmountDue    int64  `json:"amount_due"`
				AmountPaid   int64  `json:"amount_paid"`
				Currency     string `json:"currency"`
				AttemptCount int    `json:"attempt_count"`
			} `json:"object"`
		} `json:"data"`
	}
	invoice := func(ctx context.Context, e hookguard.Event, in invoiceEvent) error {
		o := in.Data.Object
		fmt.Println(e.Type, o.ID, o.Customer, "due", o.AmountDue, "paid", o.AmountPaid, o.Currency, "attempt", o.AttemptCount)
		return nil
	}
	router, err := hookguard.NewRouter(
		hookguard.On("invoice.paid", hookguard.Typed(invoice)),
		hookguard.On("invoice.payment_failed", hookguard.Typed(invoice)),
		hookguard.On("customer.subscription.*", hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
			fmt.Println(e.Type, e.ID)
			return nil
		})),
	)
	if err != nil {
		panic(err)
	}

	p, _ := providers.NewStripe("whsec_test_secret")
	rec := webhooktest.NewRecorder()
	recv, _ := hookguard.New(p, router, rec.Options()...)
	defer recv.Shutdown(context.Background())

	for _, name := range []string{
		"stripe/customer.subscription.created",
		"stripe/invoice.paid",
		"stripe/invoice.payment_failed",
		"stripe/customer.subscription.deleted",
		"stripe/charge.refunded", // no route: acknowledged and counted
	} {
		rec.Do(t, recv, webhooktest.FixtureRequest(t, p, name))
	}
	fmt.Println("unmatched:", router.Unmatched())
	// Output:
	// customer.subscription.created evt_1PJk5gLkdIwHu7ixW3nD8sQa
	// invoice.paid in_1PJk5fLkdIwHu7ix2mWq0Rb7 cus_Q9yxJ4v7ZbW2Tn due 4900 paid 4900 usd attempt 1
	// invoice.payment_failed in_1QCp7rLkdIwHu7ixK1d8Zs4E cus_Q9yxJ4v7ZbW2Tn due 14700 paid 0 usd attempt 1
	// customer.subscription.deleted evt_1QGm2sLkdIwHu7ixAq9Wd4Ne
	// unmatched: 1
}
