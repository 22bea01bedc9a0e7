// Command chi receives webhooks behind a chi router: a Receiver for
// Stripe events handled on a queue, and hookguard.Middleware in front of an
// ordinary handler for Slack commands that must be answered synchronously.
//
//	STRIPE_WEBHOOK_SECRET=whsec_... SLACK_SIGNING_SECRET=... go run .
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

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

func run(logger *slog.Logger) error {
	stripe, err := providers.NewStripe(os.Getenv("STRIPE_WEBHOOK_SECRET"))
	if err != nil {
		return fmt.Errorf("stripe preset: %w", err)
	}
	slack, err := providers.NewSlack(os.Getenv("SLACK_SIGNING_SECRET"))
	if err != nil {
		return fmt.Errorf("slack preset: %w", err)
	}
	router, recv, err := newRouter(logger, stripe, slack)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              ":8080",
		Handler:           router,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(shutdownCtx), recv.Shutdown(shutdownCtx))
}

func newRouter(logger *slog.Logger, stripe, slack hookguard.Verifier) (chi.Router, *hookguard.Receiver, error) {
	// Built first: a configuration error leaves no queue to stop.
	slackMW, err := hookguard.Middleware(slack, hookguard.WithLogger(logger))
	if err != nil {
		return nil, nil, err
	}
	recv, err := hookguard.New(stripe,
		hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
			logger.Info("stripe event", "type", e.Type, "id", e.ID)
			return nil
		}),
		hookguard.WithLogger(logger),
	)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Method(http.MethodPost, "/webhooks/stripe", recv)
	r.Route("/slack", func(r chi.Router) {
		r.Use(slackMW)
		r.Post("/commands", func(w http.ResponseWriter, r *http.Request) {
			// Only verified requests get here; the body reads as sent.
			body, _ := io.ReadAll(r.Body)
			_ = r.ParseForm()
			e, _ := hookguard.FromContext(r.Context())
			logger.Info("slack command", "provider", e.Provider, "bytes", len(body))
			_, _ = io.WriteString(w, "on it")
		})
	})
	return r, recv, nil
}
