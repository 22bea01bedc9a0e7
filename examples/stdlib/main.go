// Command stdlib receives GitHub and Stripe webhooks with nothing but the
// standard library's http.ServeMux (Go 1.22 method patterns).
//
//	GITHUB_WEBHOOK_SECRET=... STRIPE_WEBHOOK_SECRET=whsec_... go run ./examples/stdlib
//
// Each endpoint answers the sender at once and handles events on a
// background queue; SIGINT or SIGTERM stops HTTP intake first and then
// drains the queues.
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

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(logger); err != nil {
		logger.Error("exiting", "error", err)
		os.Exit(1)
	}
}

// pushEvent is the part of GitHub's push payload this example uses.
type pushEvent struct {
	Ref  string `json:"ref"`
	Repo struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

func run(logger *slog.Logger) error {
	github, err := providers.NewGitHub(os.Getenv("GITHUB_WEBHOOK_SECRET"))
	if err != nil {
		return fmt.Errorf("github preset: %w", err)
	}
	stripe, err := providers.NewStripe(os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		return fmt.Errorf("stripe preset: %w", err)
	}
	mux, receivers, err := newMux(logger, github, stripe)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              ":8080",
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", srv.Addr)
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

// newMux mounts one Receiver per provider. It is separate from run so
// that it can be tested with httptest.
func newMux(logger *slog.Logger, github, stripe hookguard.Verifier) (*http.ServeMux, []*hookguard.Receiver, error) {
	hooks := hookguard.Hooks{
		OnDeadLetter: func(e hookguard.Event, err error) {
			// Persist e somewhere durable here to replay it later.
			logger.Error("dead letter", "provider", e.Provider, "event_id", e.ID, "type", e.Type, "error", err)
		},
	}
	gh, err := hookguard.New(github,
		hookguard.Typed(func(ctx context.Context, e hookguard.Event, p pushEvent) error {
			logger.Info("github event", "type", e.Type, "repo", p.Repo.FullName, "ref", p.Ref)
			return nil
		}),
		hookguard.WithMaxBodySize(25<<20), // GitHub sends up to 25 MB
		hookguard.WithEndpoint("github-main"),
		hookguard.WithLogger(logger),
		hookguard.WithHooks(hooks),
	)
	if err != nil {
		return nil, nil, err
	}
	st, err := hookguard.New(stripe,
		hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			logger.Info("stripe event", "type", e.Type, "id", e.ID)
			return nil
		}),
		hookguard.WithPerIPRateLimit(50, 100),
		hookguard.WithLogger(logger),
		hookguard.WithHooks(hooks),
	)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/github", gh)
	mux.Handle("POST /webhooks/stripe", st)
	return mux, []*hookguard.Receiver{gh, st}, nil
}
