package benchmarks

import (
	"context"
	"io"
	"net/http"
	"time"

	ghwebhooks "github.com/go-playground/webhooks/v6/github"
	"github.com/google/go-github/v75/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v82/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// Bare is the baseline handler: it reads the body with io.ReadAll and
// answers 200, verifying nothing.
func Bare() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// SizedRead is what reading alone can gain over Bare: it reads the body
// into one buffer sized from Content-Length (as hookguard does) and
// answers 200, verifying nothing.
func SizedRead() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := readSized(r); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// SizedVerify is the floor of any verifying receiver: SizedRead plus the
// preset's Verify, with no dedupe, no header copy and no queue.
func SizedVerify(p providers.Provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readSized(r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, err := p.Verify(verify.Request{Method: r.Method, Header: r.Header, Body: body}, time.Now()); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// readSized reads r's body into a buffer of Content-Length bytes, or with
// io.ReadAll when the length is unknown.
func readSized(r *http.Request) ([]byte, error) {
	if r.ContentLength < 0 {
		return io.ReadAll(r.Body)
	}
	buf := make([]byte, r.ContentLength)
	_, err := io.ReadFull(r.Body, buf)
	return buf, err
}

// verifyHandler wraps a peer's verify-only call in the same handler shape
// as Bare: read the body with io.ReadAll, verify, answer 200 or 401.
func verifyHandler(check func(body []byte, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := check(body, r); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// Peer is a peer library's verifier wrapped in a handler.
type Peer struct {
	Name    string
	Scheme  Scheme
	Handler http.Handler
}

// Peers returns every peer's verify-only handler.
func Peers() ([]Peer, error) {
	sv, err := svix.NewWebhook(StandardSecret)
	if err != nil {
		return nil, err
	}
	sw, err := standardwebhooks.NewWebhook(StandardSecret)
	if err != nil {
		return nil, err
	}
	pg, err := ghwebhooks.New(ghwebhooks.Options.Secret(GitHubSecret))
	if err != nil {
		return nil, err
	}
	return []Peer{
		{"stripe-go", Stripe, verifyHandler(func(body []byte, r *http.Request) error {
			return stripewebhook.ValidatePayload(body, r.Header.Get("Stripe-Signature"), StripeSecret)
		})},
		{"standard-webhooks", Standard, verifyHandler(func(body []byte, r *http.Request) error {
			return sw.Verify(body, r.Header)
		})},
		{"svix", Svix, verifyHandler(func(body []byte, r *http.Request) error {
			return sv.Verify(body, r.Header)
		})},
		// The svix library also verifies Standard Webhooks deliveries
		// (webhook-id, webhook-timestamp, webhook-signature).
		{"svix", Standard, verifyHandler(func(body []byte, r *http.Request) error {
			return sv.Verify(body, r.Header)
		})},
		{"go-github", GitHub, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// ValidatePayload reads the body itself.
			if _, err := github.ValidatePayload(r, []byte(GitHubSecret)); err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		})},
		{"go-playground", GitHub, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Parse reads the body itself and decodes the payload.
			if _, err := pg.Parse(r, ghwebhooks.PingEvent); err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		})},
	}, nil
}

// Preset returns hookguard's preset for a scheme.
func Preset(s Scheme) (providers.Provider, error) {
	switch s {
	case Stripe:
		return providers.NewStripe(StripeSecret)
	case Svix:
		return providers.NewSvix(StandardSecret)
	case Standard:
		return providers.NewStandardWebhooks(StandardSecret)
	case GitHub:
		return providers.NewGitHub(GitHubSecret)
	}
	return nil, providers.ErrUnknownProvider
}

// NewReceiver returns a hookguard Receiver for a scheme as a service would
// run it: memory dedupe, its own MemoryQueue (holding up to capacity
// events) and a handler that does nothing. Call Shutdown when done.
func NewReceiver(s Scheme, capacity int, opts ...hookguard.Option) (*hookguard.Receiver, error) {
	p, err := Preset(s)
	if err != nil {
		return nil, err
	}
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	opts = append([]hookguard.Option{
		hookguard.WithMaxBodySize(1 << 20),
		hookguard.WithCapacity(capacity),
	}, opts...)
	return hookguard.New(p, noop, opts...)
}

// NewMiddleware returns hookguard's Middleware for a scheme with its own
// in-memory dedupe store, around a handler that answers 200: it reads,
// verifies, copies the headers and dedupes as a Receiver does, but calls
// the next handler in the request instead of handing the event to a
// queue. Beside a Receiver it shows what the hand-off to the queue's
// workers costs.
func NewMiddleware(s Scheme, opts ...hookguard.Option) (http.Handler, error) {
	p, err := Preset(s)
	if err != nil {
		return nil, err
	}
	store, err := dedupe.NewMemory()
	if err != nil {
		return nil, err
	}
	opts = append([]hookguard.Option{
		hookguard.WithMaxBodySize(1 << 20),
		hookguard.WithStore(store),
	}, opts...)
	mw, err := hookguard.Middleware(p, opts...)
	if err != nil {
		return nil, err
	}
	return mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})), nil
}
