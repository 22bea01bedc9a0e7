// Command gorilla receives webhooks behind a gorilla/mux router, one
// Receiver per provider, chosen by a path variable.
//
//	GITHUB_WEBHOOK_SECRET=... SHOPIFY_CLIENT_SECRET=... go run .
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

	"github.com/gorilla/mux"

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
	secrets := map[string]string{
		"github":  os.Getenv("GITHUB_WEBHOOK_SECRET"),
		"shopify": os.Getenv("SHOPIFY_CLIENT_SECRET"),
	}
	router, receivers, err := newRouter(logger, secrets)
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
	err = srv.Shutdown(shutdownCtx)
	for _, r := range receivers {
		err = errors.Join(err, r.Shutdown(shutdownCtx))
	}
	return err
}

// newRouter builds a Receiver for each provider named in secrets and
// routes POST /webhooks/{provider} to it.
func newRouter(logger *slog.Logger, secrets map[string]string) (*mux.Router, map[string]*hookguard.Receiver, error) {
	handle := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		logger.Info("event", "provider", e.Provider, "type", e.Type, "id", e.ID)
		return nil
	})
	receivers := make(map[string]*hookguard.Receiver, len(secrets))
	for name, secret := range secrets {
		p, err := providers.New(name, secret)
		if err != nil {
			return nil, nil, fmt.Errorf("%s preset: %w", name, err)
		}
		r, err := hookguard.New(p, handle, hookguard.WithLogger(logger))
		if err != nil {
			return nil, nil, err
		}
		receivers[name] = r
	}
	router := mux.NewRouter()
	router.HandleFunc("/webhooks/{provider}", func(w http.ResponseWriter, r *http.Request) {
		recv, ok := receivers[mux.Vars(r)["provider"]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		recv.ServeHTTP(w, r)
	}).Methods(http.MethodPost)
	return router, receivers, nil
}
