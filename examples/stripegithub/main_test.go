package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
	"github.com/hookguard/hookguard/webhooktest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeLedger fails with fails, one error per call, then records entries.
type fakeLedger struct {
	mu      sync.Mutex
	fails   []error
	entries []string
}

func (l *fakeLedger) add(entry string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 0 {
		err := l.fails[0]
		l.fails = l.fails[1:]
		return err
	}
	l.entries = append(l.entries, entry)
	return nil
}

func (l *fakeLedger) Paid(_ context.Context, pi string, amount int64, currency string) error {
	return l.add(fmt.Sprintf("paid %s %d %s", pi, amount, currency))
}

func (l *fakeLedger) Pushed(_ context.Context, repo, ref string) error {
	return l.add("pushed " + repo + " " + ref)
}

func (l *fakeLedger) Entries() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// testEnv is the program's mux, as main builds it, watched by a Recorder.
type testEnv struct {
	rec            *webhooktest.Recorder
	mux            http.Handler
	ledger         *fakeLedger
	stripe, github providers.Provider
}

func newEnv(t *testing.T, fails ...error) *testEnv {
	t.Helper()
	stripe, err1 := providers.NewStripe("whsec_test_secret")
	github, err2 := providers.NewGitHub("github-test-secret")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	env := &testEnv{rec: webhooktest.NewRecorder(), ledger: &fakeLedger{fails: fails}, stripe: stripe, github: github}
	mux, receivers, err := newMux(env.ledger, stripe, github, env.rec.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range receivers {
		t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	}
	env.mux = mux
	return env
}

// send signs fixture for its provider and posts it to the mux's route for it.
func (env *testEnv) send(t *testing.T, fixture string, opts ...webhooktest.Option) webhooktest.Result {
	t.Helper()
	p := env.stripe
	if strings.HasPrefix(fixture, "github/") {
		p = env.github
	}
	return env.rec.Do(t, env.mux, webhooktest.FixtureRequest(t, p, fixture, opts...))
}

// What the ledger records for the stripe/payment_intent.succeeded and github/push fixtures.
const paid, pushed = "paid pi_3PJk2aLkdIwHu7ix0hWqZ5vS 2000 usd", "pushed octo-org/hello-world refs/heads/main"

func TestWebhooks(t *testing.T) {
	errDown := errors.New("ledger down")
	for _, tt := range []struct {
		name, fixture string
		fails         []error // what the ledger answers first
		handledOn     int     // the attempt that succeeds; 0 for a dead letter
		deadAfter     int     // the attempts before a dead letter
		entry         string
	}{
		{"stripe payment", "stripe/payment_intent.succeeded", nil, 1, 0, paid},
		{"github push", "github/push", nil, 1, 0, pushed},
		{"github ping is ignored", "github/ping", nil, 1, 0, ""},
		{"stripe retried to success", "stripe/payment_intent.succeeded", []error{errDown, errDown}, 3, 0, paid},
		{"github retried to success", "github/push", []error{errDown}, 2, 0, pushed},
		{"stripe invalid entry", "stripe/payment_intent.succeeded", []error{fmt.Errorf("amount: %w", ErrInvalid)}, 0, 1, ""},
		{"github ledger down for good", "github/push", []error{errDown, errDown, errDown, errDown, errDown}, 0, hookguard.DefaultMaxAttempts, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, tt.fails...)
			res := env.send(t, tt.fixture)
			if res.Status != http.StatusOK {
				t.Fatalf("answered %d (%v); want 200", res.Status, res.Err)
			}
			switch {
			case tt.handledOn > 0 && (res.Handled == nil || res.Handled.Attempt != tt.handledOn):
				t.Errorf("handled %v, dead letter %v; want handled on attempt %d", res.Handled, res.DeadLetter, tt.handledOn)
			case tt.deadAfter > 0 && (res.DeadLetter == nil || res.DeadLetter.Attempts != tt.deadAfter || !errors.Is(res.DeadLetter.Err, tt.fails[len(tt.fails)-1])):
				t.Errorf("dead letter %v; want one after %d attempts with the ledger's error", res.DeadLetter, tt.deadAfter)
			}
			if got := env.ledger.Entries(); tt.entry == "" && len(got) != 0 || tt.entry != "" && (len(got) != 1 || got[0] != tt.entry) {
				t.Errorf("ledger %q; want %q", got, tt.entry)
			}
		})
	}
}

func TestDuplicatesAndForgeries(t *testing.T) {
	env := newEnv(t)
	for _, fixture := range []string{"stripe/payment_intent.succeeded", "github/push"} {
		if res := env.send(t, fixture); res.Handled == nil {
			t.Fatalf("%s: answered %d, not handled", fixture, res.Status)
		}
		// Stripe resends the same event ID; a GitHub replay gets a fresh
		// delivery ID, and is caught by its content.
		if res := env.send(t, fixture); res.Status != http.StatusOK || !res.Duplicate || res.Handled != nil {
			t.Errorf("%s again: answered %d, duplicate %v", fixture, res.Status, res.Duplicate)
		}
		if res := env.send(t, fixture, webhooktest.WithWrongSecret()); res.Status != http.StatusUnauthorized || !errors.Is(res.Err, verify.ErrSignatureMismatch) {
			t.Errorf("%s with a wrong secret: answered %d (%v); want 401", fixture, res.Status, res.Err)
		}
	}
	if got := env.ledger.Entries(); len(got) != 2 || got[0] != paid || got[1] != pushed {
		t.Errorf("ledger %q; want one payment and one push", got)
	}
}
