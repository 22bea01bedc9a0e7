package hookguard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// A Receiver answers the sender at once and runs the handler later.
func Example() {
	stripe, err := providers.NewStripe("whsec_example")
	if err != nil {
		log.Fatal(err)
	}
	handled := make(chan string, 1)
	recv, err := hookguard.New(stripe, hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		handled <- e.Type + " " + e.ID
		return nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/stripe", recv)

	// What Stripe would send.
	body := []byte(`{"id":"evt_1","type":"payment_intent.succeeded"}`)
	header, _ := stripe.Sign(providers.Outgoing{Body: body})
	send := func() {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
		req.Header = header
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Println(w.Code, "duplicate:", w.Header().Get(hookguard.DuplicateHeader) == "true")
	}
	send()
	fmt.Println("handled:", <-handled)
	send() // Stripe retried: a duplicate

	if err := recv.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 200 duplicate: false
	// handled: payment_intent.succeeded evt_1
	// 200 duplicate: true
}

// Middleware verifies requests in front of an ordinary http.Handler, which
// reads the event from the context and the body as usual.
func ExampleMiddleware() {
	github, err := providers.NewGitHub("It's a Secret to Everybody")
	if err != nil {
		log.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, _ := hookguard.FromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("%s %s: %s\n", e.Provider, e.Type, body)
	})
	mw, err := hookguard.Middleware(github, hookguard.WithMaxBodySize(25<<20))
	if err != nil {
		log.Fatal(err)
	}
	h := mw(app)

	body := []byte(`{"zen":"Design for failure."}`)
	header, _ := github.Sign(providers.Outgoing{Body: body, ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Type: "ping"})
	req := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
	req.Header = header
	h.ServeHTTP(httptest.NewRecorder(), req)

	// A forged request never reaches the application.
	req = httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader([]byte(`{"zen":"forged"}`)))
	req.Header = header
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println("forged:", w.Code)
	// Output:
	// github ping: {"zen":"Design for failure."}
	// forged: 401
}

// Typed decodes the payload before calling the handler; a payload that
// does not decode is dead-lettered without retries.
func ExampleTyped() {
	type charge struct {
		Data struct {
			Object struct {
				Amount int `json:"amount"`
			} `json:"object"`
		} `json:"data"`
	}
	q, err := hookguard.NewMemoryQueue(
		hookguard.Typed(func(ctx context.Context, e hookguard.Event, c charge) error {
			fmt.Println("amount", c.Data.Object.Amount)
			return nil
		}),
		hookguard.WithWorkers(1),
		hookguard.WithDeadLetter(func(e hookguard.Event, err error) {
			fmt.Println("dead letter", e.ID, hookguard.IsPermanent(err))
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = q.Enqueue(context.Background(), hookguard.Event{ID: "evt_1", Body: []byte(`{"data":{"object":{"amount":1999}}}`)})
	_ = q.Enqueue(context.Background(), hookguard.Event{ID: "evt_2", Body: []byte(`not json`)})
	_ = q.Shutdown(context.Background())
	// Output:
	// amount 1999
	// dead letter evt_2 true
}

// A worker count read from configuration: a bad value is an error from
// the constructor, which names the option, and never a panic. New, given
// the same option for its own queue, reports it the same way.
func ExampleNewMemoryQueue() {
	workers, _ := strconv.Atoi("0") // say, os.Getenv("WEBHOOK_WORKERS")
	q, err := hookguard.NewMemoryQueue(
		hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error { return nil }),
		hookguard.WithWorkers(workers),
	)
	if err != nil {
		fmt.Println(errors.Is(err, hookguard.ErrInvalidOption))
		fmt.Println(err)
		return
	}
	defer func() { _ = q.Shutdown(context.Background()) }()
	// Output:
	// true
	// hookguard: invalid option: WithWorkers(0): at least one worker must run the handler
}

// Permanent stops retries for failures that a retry cannot fix.
func ExamplePermanent() {
	err := fmt.Errorf("order 42: %w", hookguard.Permanent(errors.New("unknown currency XYZ")))
	fmt.Println(hookguard.IsPermanent(err), err)
	// Output: true order 42: unknown currency XYZ
}

// A production setup: timeouts on the server, limits and hooks on the
// receiver, and a shutdown that first stops HTTP intake and then drains
// the queue. This example only compiles; it does not run.
func ExampleReceiver_Shutdown() {
	gh, err := providers.NewGitHub(os.Getenv("GITHUB_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	recv, err := hookguard.New(gh,
		hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error { return nil }),
		hookguard.WithMaxBodySize(25<<20),
		hookguard.WithPerIPRateLimit(50, 100),
		hookguard.WithTrustedProxies("10.0.0.0/8"),
		hookguard.WithCapacity(4096), hookguard.WithMaxAttempts(8),
		hookguard.WithHooks(hookguard.Hooks{
			OnDeadLetter: func(e hookguard.Event, err error) { log.Printf("dead letter %s %s: %v", e.Provider, e.ID, err) },
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/github", recv)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { _ = srv.ListenAndServe() }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)  // no new requests
	_ = recv.Shutdown(ctx) // drain the queue, dead-letter the rest
}
