package hookguard_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHooksAddUp is the regression test for hooks that replaced each
// other: New passed WithHooks to its queue first and the queue's own
// options after, so WithHooks(metrics) plus WithDeadLetter(alert) lost the
// metrics' dead-letter and handler hooks without a word, and a second
// WithHooks replaced the first. Every hook given, with WithHooks or
// WithDeadLetter, must fire.
func TestHooksAddUp(t *testing.T) {
	var mu sync.Mutex
	fired := map[string]int{}
	mark := func(name string) {
		mu.Lock()
		fired[name]++
		mu.Unlock()
	}
	metrics := hookguard.Hooks{
		OnAccepted:   func(hookguard.Event) { mark("metrics accepted") },
		OnHandled:    func(hookguard.Event, int, error, time.Duration) { mark("metrics handled") },
		OnDeadLetter: func(hookguard.Event, error) { mark("metrics dead letter") },
	}
	tracing := hookguard.Hooks{
		OnAccepted:   func(hookguard.Event) { mark("tracing accepted") },
		OnDeadLetter: func(hookguard.Event, error) { mark("tracing dead letter") },
	}
	p := newProvider(t, "stripe")
	fail := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		return hookguard.Permanent(errors.New("handler bug"))
	})
	r := mustNew(t, p, fail,
		hookguard.WithHooks(metrics),
		hookguard.WithHooks(tracing),
		hookguard.WithDeadLetter(func(hookguard.Event, error) { mark("alert dead letter") }),
		hookguard.WithHooks(hookguard.Hooks{OnHandled: func(hookguard.Event, int, error, time.Duration) { mark("queue handled") }}),
	)
	require.Equal(t, http.StatusOK, testkit.Serve(r, sign(t, p, "evt_hooks", eventBody("evt_hooks")).request()).Code)
	shutdown(t, r)
	for _, name := range []string{
		"metrics accepted", "tracing accepted", "metrics handled", "queue handled",
		"metrics dead letter", "tracing dead letter", "alert dead letter",
	} {
		assert.Equal(t, 1, fired[name], "%s fired", name)
	}
}
