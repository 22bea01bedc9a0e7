package hookguard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// A Router is the Handler of a Receiver: each Stripe event goes to the
// Typed route of its type, and a type no route takes is answered 200 and
// dropped.
func ExampleNewRouter() {
	type paymentIntent struct {
		Data struct {
			Object struct {
				ID     string `json:"id"`
				Amount int    `json:"amount"`
			} `json:"object"`
		} `json:"data"`
	}
	type subscription struct {
		Data struct {
			Object struct {
				Status string `json:"status"`
			} `json:"object"`
		} `json:"data"`
	}
	handled := make(chan string, 1)
	router, err := hookguard.NewRouter(
		hookguard.On("payment_intent.succeeded", hookguard.Typed(
			func(ctx context.Context, e hookguard.Event, pi paymentIntent) error {
				handled <- fmt.Sprintf("paid %s: %d", pi.Data.Object.ID, pi.Data.Object.Amount)
				return nil
			})),
		hookguard.On("customer.subscription.*", hookguard.Typed(
			func(ctx context.Context, e hookguard.Event, s subscription) error {
				handled <- fmt.Sprintf("%s: %s", e.Type, s.Data.Object.Status)
				return nil
			})),
	)
	if err != nil {
		log.Fatal(err)
	}

	stripe, err := providers.NewStripe("whsec_example")
	if err != nil {
		log.Fatal(err)
	}
	recv, err := hookguard.New(stripe, router)
	if err != nil {
		log.Fatal(err)
	}
	send := func(body string) {
		header, _ := stripe.Sign(providers.Outgoing{Body: []byte(body)})
		req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader([]byte(body)))
		req.Header = header
		w := httptest.NewRecorder()
		recv.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	send(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":2000}}}`)
	fmt.Println(<-handled)
	send(`{"id":"evt_2","type":"customer.subscription.updated","data":{"object":{"status":"past_due"}}}`)
	fmt.Println(<-handled)
	send(`{"id":"evt_3","type":"charge.refunded","data":{"object":{}}}`) // no route

	if err := recv.Shutdown(context.Background()); err != nil { // drains the queue
		log.Fatal(err)
	}
	fmt.Println("unmatched:", router.Unmatched())
	// Output:
	// 200
	// paid pi_1: 2000
	// 200
	// customer.subscription.updated: past_due
	// 200
	// unmatched: 1
}

// Exactly one route takes each event: the exact type first, then the
// longest matching wildcard, then "*".
func ExampleOn() {
	route := func(name string) hookguard.Handler {
		return hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			fmt.Printf("%-38s -> %s\n", e.Type, name)
			return nil
		})
	}
	router, err := hookguard.NewRouter(
		hookguard.On("invoice.paid", route(`"invoice.paid"`)),
		hookguard.On("invoice.*", route(`"invoice.*"`)),
		hookguard.On("customer.*", route(`"customer.*"`)),
		hookguard.On("customer.subscription.*", route(`"customer.subscription.*"`)),
		hookguard.On("*", route(`"*"`)),
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, typ := range []string{
		"invoice.paid",
		"invoice.payment_failed",
		"customer.created",
		"customer.subscription.trial_will_end",
		"invoice",
		"payout.paid",
	} {
		_ = router.HandleEvent(context.Background(), hookguard.Event{Provider: "stripe", Type: typ})
	}
	// Output:
	// invoice.paid                           -> "invoice.paid"
	// invoice.payment_failed                 -> "invoice.*"
	// customer.created                       -> "customer.*"
	// customer.subscription.trial_will_end   -> "customer.subscription.*"
	// invoice                                -> "*"
	// payout.paid                            -> "*"
}

// When one Router serves receivers of several providers whose types
// collide, OnProvider scopes a route to one provider. A provider's routes
// are tried before the routes given with On.
func ExampleOnProvider() {
	route := func(name string) hookguard.Handler {
		return hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			fmt.Printf("%s %s -> %s\n", e.Provider, e.Type, name)
			return nil
		})
	}
	router, err := hookguard.NewRouter(
		hookguard.OnProvider("github", "push", route("deploy")),
		hookguard.OnProvider("gitlab", "*", route("gitlab sync")),
		hookguard.On("*", route("audit")),
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range []hookguard.Event{
		{Provider: "github", Type: "push"},
		{Provider: "github", Type: "issues"},
		{Provider: "gitlab", Type: "Push Hook"},
	} {
		_ = router.HandleEvent(context.Background(), e)
	}
	// Output:
	// github push -> deploy
	// github issues -> audit
	// gitlab Push Hook -> gitlab sync
}

// With WithUnmatchedDeadLetter an event no route takes is a permanent
// error, which the queue hands to the dead-letter hook at once.
func ExampleWithUnmatchedDeadLetter() {
	router, err := hookguard.NewRouter(
		hookguard.On("push", hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error { return nil })),
		hookguard.WithUnmatchedDeadLetter(),
	)
	if err != nil {
		log.Fatal(err)
	}
	err = router.HandleEvent(context.Background(), hookguard.Event{Provider: "github", Type: "issues"})
	fmt.Println(errors.Is(err, hookguard.ErrNoRoute), hookguard.IsPermanent(err))
	fmt.Println(err)
	// Output:
	// true true
	// hookguard: no route for the event's type: type "issues" from provider "github"; add a route with On("issues", handler), a wildcard such as On("prefix.*", handler), or On("*", handler)
}
