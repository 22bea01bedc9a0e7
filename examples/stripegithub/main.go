// Command stripegithub receives Stripe payments and GitHub pushes on one
// http.ServeMux, with typed handlers, and shows in main_test.go how a
// receiver is tested with webhooktest: through the production receiver,
// queue and retry policy, without sleeping.
//
//	STRIPE_WEBHOOK_SECRET=whsec_... GITHUB_WEBHOOK_SECRET=... go run ./examples/stripegithub
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// Ledger is where the handlers write what the webhooks tell them.
type Ledger interface {
	// Paid records a payment intent that succeeded.
	Paid(ctx context.Context, paymentIntent string, amount int64, currency string) error
	// Pushed records a push of ref in repo.
	Pushed(ctx context.Context, repo, ref string) error
}

// ErrInvalid is wrapped by a Ledger error that no retry can fix; the
// handler then gives the event up at once (it goes to the dead-letter
// hook) instead of having it retried.
var ErrInvalid = errors.New("invalid entry")

// stripeEvent is the part of a Stripe event this program reads.
type stripeEvent struct {
	Data struct {
		Object struct {
			ID       string `json:"id"`
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"object"`
	} `json:"data"`
}

// pushEvent is the part of GitHub's push payload this program reads.
type pushEvent struct {
	Ref  string `json:"ref"`
	Repo struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

// giveUp marks an invalid entry as permanent; other errors are retried.
func giveUp(err error) error {
	if errors.Is(err, ErrInvalid) {
		return hookguard.Permanent(err)
	}
	return err
}

// newMux mounts a Stripe and a GitHub receiver that write to l, each built
// with opts (main adds logging and a dead-letter hook; tests add a
// webhooktest.Recorder's options). Shut the receivers down when done.
func newMux(l Ledger, stripe, github hookguard.Verifier, opts ...hookguard.Option) (*http.ServeMux, []*hookguard.Receiver, error) {
	st, err := hookguard.New(stripe, hookguard.Typed(func(ctx context.Context, e hookguard.Event, p stripeEvent) error {
		if e.Type != "payment_intent.succeeded" {
			return nil // not an event this program uses
		}
		o := p.Data.Object
		return giveUp(l.Paid(ctx, o.ID, o.Amount, o.Currency))
	}), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("stripe receiver: %w", err)
	}
	gh, err := hookguard.New(github, hookguard.Typed(func(ctx context.Context, e hookguard.Event, p pushEvent) error {
		if e.Type != "push" {
			return nil // ping and others
		}
		return giveUp(l.Pushed(ctx, p.Repo.FullName, p.Ref))
	}), append([]hookguard.Option{hookguard.WithMaxBodySize(25 << 20)}, opts...)...) // GitHub sends up to 25 MB
	if err != nil {
		_ = st.Shutdown(context.Background())
		return nil, nil, fmt.Errorf("github receiver: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/stripe", st)
	mux.Handle("POST /webhooks/github", gh)
	return mux, []*hookguard.Receiver{st, gh}, nil
}

// logLedger logs each entry; a real program writes to its database.
type logLedger struct{ log *slog.Logger }

func (l logLedger) Paid(_ context.Context, pi string, amount int64, currency string) error {
	l.log.Info("paid", "payment_intent", pi, "amount", amount, "currency", currency)
	return nil
}

func (l logLedger) Pushed(_ context.Context, repo, ref string) error {
	l.log.Info("pushed", "repo", repo, "ref", ref)
	return nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("exiting", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	stripe, err := providers.NewStripe(os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		return fmt.Errorf("stripe preset: %w", err)
	}
	github, err := providers.NewGitHub(os.Getenv("GITHUB_WEBHOOK_SECRET"))
	if err != nil {
		return fmt.Errorf("github preset: %w", err)
	}
	mux, receivers, err := newMux(logLedger{log}, stripe, github, hookguard.WithLogger(log),
		hookguard.WithHooks(hookguard.Hooks{OnDeadLetter: func(e hookguard.Event, err error) {
			// Persist e somewhere durable here to replay it later.
			log.Error("dead letter", "provider", e.Provider, "event_id", e.ID, "type", e.Type, "error", err)
		}}))
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	log.Info("listening", "addr", srv.Addr)
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx) // no request is being enqueued after this
	for _, r := range receivers {
		err = errors.Join(err, r.Shutdown(shutdownCtx)) // drain, or dead-letter what is left
	}
	return err
}
