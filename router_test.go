package hookguard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// named returns a handler that reports its name through *hit.
func named(hit *string, name string) hookguard.Handler {
	return hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		*hit = name
		return nil
	})
}

// TestRouterPrecedence checks that exactly one route runs per event: the
// exact pattern, else the longest matching wildcard, else "*".
func TestRouterPrecedence(t *testing.T) {
	var hit string
	patterns := []string{
		"payment_intent.succeeded",
		"payment_intent.*",
		"customer.*",
		"customer.subscription.*",
		"orders/create",
		"orders/*",
		"push",
		"a.b/*",
		"*",
	}
	opts := make([]hookguard.Option, 0, len(patterns))
	for _, p := range patterns {
		opts = append(opts, hookguard.On(p, named(&hit, p)))
	}
	r, err := hookguard.NewRouter(opts...)
	require.NoError(t, err)
	tests := []struct {
		typ, want string
	}{
		{"payment_intent.succeeded", "payment_intent.succeeded"},
		{"payment_intent.amount_capturable_updated", "payment_intent.*"},
		{"payment_intent.x.y", "payment_intent.*"},
		{"payment_intent", "*"},        // the prefix alone is not matched by its wildcard
		{"payment_intent.", "*"},       // nor is the prefix with its separator and nothing after
		{"payment_intentX.y", "*"},     // a prefix ends at a separator
		{"payment_intent/create", "*"}, // the separator is part of the prefix
		{"customer.created", "customer.*"},
		{"customer.subscription", "customer.*"},
		{"customer.subscription.updated", "customer.subscription.*"}, // longest prefix wins
		{"customer.subscription.trial.will_end", "customer.subscription.*"},
		{"orders/create", "orders/create"},
		{"orders/updated", "orders/*"},
		{"orders", "*"},
		{"a.b/c", "a.b/*"},
		{"a.b/c.d/e", "a.b/*"},
		{"a.b.c", "*"},
		{"push", "push"},
		{"pushed", "*"},
		{"Push", "*"}, // types are case-sensitive
		{"", "*"},     // "*" takes the empty type too
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			hit = ""
			require.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Provider: "stripe", Type: tt.typ}), "HandleEvent")
			assert.Equal(t, tt.want, hit, "route for type %q", tt.typ)
		})
	}
	assert.Zero(t, r.Unmatched(), "Unmatched() with a \"*\" route")
}

// TestRouterWithoutCatchAll checks which types fall through when there is
// no "*" route, and that each one is counted once.
func TestRouterWithoutCatchAll(t *testing.T) {
	var hit string
	r, err := hookguard.NewRouter(
		hookguard.On("charge.refunded", named(&hit, "charge.refunded")),
		hookguard.On("invoice.*", named(&hit, "invoice.*")),
	)
	require.NoError(t, err)
	tests := []struct {
		typ, want string // want "": unmatched
	}{
		{"charge.refunded", "charge.refunded"},
		{"invoice.paid", "invoice.*"},
		{"charge.refunded.x", ""},
		{"charge", ""},
		{"invoice", ""},
		{"invoice.", ""},
		{"invoices.paid", ""},
		{"", ""},
	}
	var misses uint64
	for _, tt := range tests {
		hit = ""
		require.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Type: tt.typ}), "HandleEvent(%q)", tt.typ)
		assert.Equal(t, tt.want, hit, "route for type %q", tt.typ)
		if tt.want == "" {
			misses++
		}
		assert.Equal(t, misses, r.Unmatched(), "after type %q: Unmatched()", tt.typ)
	}
}

// TestRouterProviderScope checks that OnProvider routes are tried first
// for their provider only, and that On routes take the rest.
func TestRouterProviderScope(t *testing.T) {
	var hit string
	r, err := hookguard.NewRouter(
		hookguard.OnProvider("github", "push", named(&hit, "github:push")),
		hookguard.OnProvider("gitlab", "*", named(&hit, "gitlab:*")),
		hookguard.OnProvider("shopify", "orders/*", named(&hit, "shopify:orders/*")),
		hookguard.On("push", named(&hit, "push")),
		hookguard.On("orders/create", named(&hit, "orders/create")),
	)
	require.NoError(t, err)
	tests := []struct {
		provider, typ, want string // want "": unmatched
	}{
		{"github", "push", "github:push"},
		{"github", "issues", ""},
		{"gitlab", "push", "gitlab:*"}, // a provider's "*" comes before an On exact route
		{"gitlab", "Push Hook", "gitlab:*"},
		{"bitbucket", "push", "push"},
		{"", "push", "push"},
		{"shopify", "orders/create", "shopify:orders/*"},
		{"other", "orders/create", "orders/create"},
		{"other", "orders/paid", ""},
		{"GitHub", "issues", ""}, // provider names are matched exactly
	}
	for _, tt := range tests {
		hit = ""
		require.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Provider: tt.provider, Type: tt.typ}), "HandleEvent(%q, %q)", tt.provider, tt.typ)
		assert.Equal(t, tt.want, hit, "route for %s event %q", tt.provider, tt.typ)
	}
}

type paymentIntent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			Amount int `json:"amount"`
		} `json:"object"`
	} `json:"data"`
}

type customerEvent struct {
	Data struct {
		Object struct {
			Email string `json:"email"`
		} `json:"object"`
	} `json:"data"`
}

// TestRouterTypedRoutes checks that each Typed route decodes its own
// payload type, and that a payload that does not decode is permanent.
func TestRouterTypedRoutes(t *testing.T) {
	var amount int
	var email string
	r, err := hookguard.NewRouter(
		hookguard.On("payment_intent.succeeded", hookguard.Typed(func(_ context.Context, _ hookguard.Event, p paymentIntent) error {
			amount = p.Data.Object.Amount
			return nil
		})),
		hookguard.On("customer.*", hookguard.Typed(func(_ context.Context, _ hookguard.Event, c customerEvent) error {
			email = c.Data.Object.Email
			return nil
		})),
	)
	require.NoError(t, err)
	ctx := context.Background()
	err = r.HandleEvent(ctx, hookguard.Event{Provider: "stripe", Type: "payment_intent.succeeded",
		Body: []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}`)})
	assert.NoError(t, err, "payment_intent.succeeded")
	assert.Equal(t, 2000, amount, "payment_intent.succeeded: amount")
	err = r.HandleEvent(ctx, hookguard.Event{Provider: "stripe", Type: "customer.updated",
		Body: []byte(`{"data":{"object":{"email":"a@example.com"}}}`)})
	assert.NoError(t, err, "customer.updated")
	assert.Equal(t, "a@example.com", email, "customer.updated: email")
	err = r.HandleEvent(ctx, hookguard.Event{Provider: "stripe", Type: "customer.created", Body: []byte(`{"data":`)})
	assert.True(t, hookguard.IsPermanent(err), "customer.created with a truncated body: err = %v, want a permanent decode error", err)
}

// TestRouterUnmatchedDropped checks the default for a type no route
// takes: nil, counted, and one debug record without the body.
func TestRouterUnmatchedDropped(t *testing.T) {
	tests := []struct {
		name    string
		level   slog.Level
		wantLog bool
	}{
		{"debug logger", slog.LevelDebug, true},
		{"info logger", slog.LevelInfo, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			ran := false
			r, err := hookguard.NewRouter(
				hookguard.On("payment_intent.succeeded", hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
					ran = true
					return nil
				})),
				hookguard.WithLogger(logger),
			)
			require.NoError(t, err)
			e := hookguard.Event{Provider: "stripe", ID: "evt_42", Type: "charge.refunded", Body: []byte(`{"secret_body":"card"}`)}
			require.NoError(t, r.HandleEvent(context.Background(), e), "HandleEvent: an unmatched event is acknowledged")
			assert.False(t, ran, "the payment_intent.succeeded route ran for charge.refunded")
			assert.Equal(t, uint64(1), r.Unmatched(), "Unmatched()")
			out := buf.String()
			if !tt.wantLog {
				assert.Empty(t, out, "logged at level %v, want nothing", tt.level)
				return
			}
			for _, want := range []string{"level=DEBUG", "provider=stripe", "event_id=evt_42", "type=charge.refunded"} {
				assert.Contains(t, out, want, "log")
			}
			assert.NotContains(t, out, "secret_body", "log contains the body")
			assert.Equal(t, 1, strings.Count(out, "\n"), "logged records in %q", out)
		})
	}
}

// TestRouterUnmatchedDeadLetter checks that WithUnmatchedDeadLetter turns
// an unmatched event into a permanent ErrNoRoute that says what to do.
func TestRouterUnmatchedDeadLetter(t *testing.T) {
	var buf bytes.Buffer
	r, err := hookguard.NewRouter(
		hookguard.On("push", hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })),
		hookguard.WithUnmatchedDeadLetter(),
		hookguard.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	)
	require.NoError(t, err)
	err = r.HandleEvent(context.Background(), hookguard.Event{Provider: "github", ID: "d1", Type: "issues"})
	assert.True(t, hookguard.IsPermanent(err), "err = %v, want a Permanent error", err)
	assert.ErrorIs(t, err, hookguard.ErrNoRoute)
	msg := fmt.Sprint(err)
	assert.Contains(t, msg, `"issues"`, "want the type in the error")
	assert.Contains(t, msg, `On("issues"`, "want how to add a route in the error")
	assert.Equal(t, uint64(1), r.Unmatched(), "Unmatched()")
	assert.Zero(t, buf.Len(), "a dead-lettered event was logged by the router (the queue logs it): %q", buf.String())
	assert.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Provider: "github", Type: "push"}), "a routed event")
}

// TestRouterPassesErrorsThrough checks that a route's error, permanent or
// not, comes back from HandleEvent as it was.
func TestRouterPassesErrorsThrough(t *testing.T) {
	transient := errors.New("database down")
	permanent := hookguard.Permanent(errors.New("unknown plan"))
	tests := []struct {
		name          string
		err           error
		wantPermanent bool
	}{
		{"nil", nil, false},
		{"retryable", transient, false},
		{"permanent", permanent, true},
		{"wrapped permanent", fmt.Errorf("apply: %w", permanent), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := hookguard.NewRouter(hookguard.On("invoice.*", hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
				return tt.err
			})))
			require.NoError(t, err)
			got := r.HandleEvent(context.Background(), hookguard.Event{Type: "invoice.paid"})
			// The very same error value, not an equal-looking one.
			assert.True(t, got == tt.err, "HandleEvent = %v, want the route's own error %v", got, tt.err)
			assert.Equal(t, tt.wantPermanent, hookguard.IsPermanent(got), "IsPermanent(%v)", got)
		})
	}
}

// TestNewRouterErrors checks that every bad route is an ErrInvalidOption
// from NewRouter that names the pattern, and that good ones are accepted.
func TestNewRouterErrors(t *testing.T) {
	ok := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	tests := []struct {
		name string
		opts []hookguard.Option
		want string // "" : accepted
	}{
		{"exact", []hookguard.Option{hookguard.On("push", ok)}, ""},
		{"wildcard after dot", []hookguard.Option{hookguard.On("payment_intent.*", ok)}, ""},
		{"wildcard after slash", []hookguard.Option{hookguard.On("orders/*", ok)}, ""},
		{"catch-all", []hookguard.Option{hookguard.On("*", ok)}, ""},
		{"same pattern for two providers", []hookguard.Option{
			hookguard.On("push", ok), hookguard.OnProvider("github", "push", ok), hookguard.OnProvider("gitlab", "push", ok)}, ""},
		{"nil option skipped", []hookguard.Option{nil, hookguard.On("*", ok)}, ""},
		{"no route", nil, "no route"},
		{"settings only", []hookguard.Option{hookguard.WithUnmatchedDeadLetter()}, "no route"},
		{"empty pattern", []hookguard.Option{hookguard.On("", ok)}, `On(""): the pattern is empty`},
		{"star inside a segment", []hookguard.Option{hookguard.On("payment_*", ok)}, `On("payment_*"): '*' may only be`},
		{"star in the middle", []hookguard.Option{hookguard.On("customer.*.updated", ok)}, `On("customer.*.updated")`},
		{"star first", []hookguard.Option{hookguard.On("*.succeeded", ok)}, `On("*.succeeded")`},
		{"double star", []hookguard.Option{hookguard.On("a.**", ok)}, `On("a.**")`},
		{"wildcard without prefix", []hookguard.Option{hookguard.On(".*", ok)}, `On(".*")`},
		{"two stars", []hookguard.Option{hookguard.On("**", ok)}, `On("**")`},
		{"trailing space", []hookguard.Option{hookguard.On("invoice.paid ", ok)}, `On("invoice.paid "): the pattern starts or ends with white space`},
		{"leading tab", []hookguard.Option{hookguard.On("\tpush", ok)}, `On("\tpush")`},
		{"inner space", []hookguard.Option{hookguard.On("Push Hook", ok)}, ""},
		{"same pattern twice", []hookguard.Option{hookguard.On("push", ok), hookguard.On("push", ok)}, `On("push") is given twice`},
		{"same wildcard twice", []hookguard.Option{hookguard.On("a.*", ok), hookguard.On("a.*", ok)}, `On("a.*") is given twice`},
		{"catch-all twice", []hookguard.Option{hookguard.On("*", ok), hookguard.On("*", ok)}, `On("*") is given twice`},
		{"same provider pattern twice", []hookguard.Option{
			hookguard.OnProvider("github", "push", ok), hookguard.OnProvider("github", "push", ok)}, `OnProvider("github", "push") is given twice`},
		{"nil handler", []hookguard.Option{hookguard.On("push", nil)}, `On("push") got a nil Handler`},
		{"nil HandlerFunc", []hookguard.Option{hookguard.On("push", hookguard.HandlerFunc(nil))}, `On("push") got a nil HandlerFunc`},
		{"empty provider", []hookguard.Option{hookguard.OnProvider("", "push", ok)}, `OnProvider("", "push"): the provider is empty`},
		{"bad provider pattern", []hookguard.Option{hookguard.OnProvider("github", "is*", ok)}, `OnProvider("github", "is*")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := hookguard.NewRouter(tt.opts...)
			if tt.want == "" {
				require.NoError(t, err, "NewRouter")
				require.NotNil(t, r, "NewRouter: want a router")
				return
			}
			require.Error(t, err, "NewRouter: want an error containing %q", tt.want)
			require.Nil(t, r, "NewRouter returned a router with an error")
			assert.ErrorIs(t, err, hookguard.ErrInvalidOption)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestRouterConcurrent routes from many goroutines at once (run it with
// -race) and checks that every event reached its route exactly once.
func TestRouterConcurrent(t *testing.T) {
	var exact, wild, all atomic.Int64
	count := func(n *atomic.Int64) hookguard.Handler {
		return hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { n.Add(1); return nil })
	}
	r, err := hookguard.NewRouter(
		hookguard.On("invoice.paid", count(&exact)),
		hookguard.On("invoice.*", count(&wild)),
		hookguard.OnProvider("stripe", "charge.*", count(&all)),
	)
	require.NoError(t, err)
	types := []string{"invoice.paid", "invoice.created", "charge.refunded", "unknown"}
	const goroutines, each = 16, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				typ := types[(g+i)%len(types)]
				// assert, not require: this is not the test's goroutine.
				if !assert.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Provider: "stripe", Type: typ}), "HandleEvent(%q)", typ) {
					return
				}
			}
		})
	}
	wg.Wait()
	per := int64(goroutines * each / len(types))
	assert.Equal(t, per, exact.Load(), "exact")
	assert.Equal(t, per, wild.Load(), "wildcard")
	assert.Equal(t, per, all.Load(), "charge.*")
	assert.Equal(t, uint64(per), r.Unmatched(), "unmatched")
}

// TestRouterThroughReceiver routes Stripe deliveries through a real
// Receiver: a routed event reaches its Typed route, an unmatched one is
// answered 200, counted, and never dead-lettered.
func TestRouterThroughReceiver(t *testing.T) {
	p := newProvider(t, "stripe")
	paid := make(chan paymentIntent, 1)
	r, err := hookguard.NewRouter(hookguard.On("payment_intent.*", hookguard.Typed(
		func(_ context.Context, _ hookguard.Event, pi paymentIntent) error {
			paid <- pi
			return nil
		})))
	require.NoError(t, err)
	var dead atomic.Int64
	recv, err := hookguard.New(p, r, hookguard.WithClock(clock),
		hookguard.WithHooks(hookguard.Hooks{OnDeadLetter: func(hookguard.Event, error) { dead.Add(1) }}))
	require.NoError(t, err)
	send := func(id, typ string) int {
		body := fmt.Appendf(nil, `{"id":%q,"type":%q,"data":{"object":{"amount":1500}}}`, id, typ)
		w := httptest.NewRecorder()
		recv.ServeHTTP(w, sign(t, p, id, body).request())
		return w.Code
	}
	require.Equal(t, http.StatusOK, send("evt_routed", "payment_intent.succeeded"), "routed event")
	require.Equal(t, http.StatusOK, send("evt_unrouted", "charge.refunded"), "unmatched event")
	shutdown(t, recv) // drains the queue: both events have been handled
	select {
	case pi := <-paid:
		assert.Equal(t, "evt_routed", pi.ID, "route got %+v", pi)
		assert.Equal(t, "payment_intent.succeeded", pi.Type, "route got %+v", pi)
		assert.Equal(t, 1500, pi.Data.Object.Amount, "route got %+v", pi)
	default:
		require.Fail(t, "the payment_intent.* route never ran")
	}
	assert.Empty(t, paid, "the payment_intent.* route ran for charge.refunded too")
	assert.Equal(t, uint64(1), r.Unmatched(), "Unmatched() (charge.refunded)")
	assert.Zero(t, dead.Load(), "events dead-lettered: an unmatched event is dropped by default")
}

// refMatch is the matching rule of a valid pattern written plainly.
func refMatch(pattern, typ string) bool {
	if pattern == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(typ, prefix) && len(typ) > len(prefix)
	}
	return typ == pattern
}

// refValid is the pattern rule written plainly.
func refValid(p string) bool {
	if strings.TrimSpace(p) != p {
		return false
	}
	switch strings.Count(p, "*") {
	case 0:
		return p != ""
	case 1:
		n := len(p)
		return p == "*" || (n >= 3 && p[n-1] == '*' && (p[n-2] == '.' || p[n-2] == '/'))
	}
	return false
}

// FuzzRouterPattern checks that NewRouter never panics on a pattern, that
// it accepts exactly the valid ones, and that an accepted pattern takes
// exactly the types its rule says, in a router that has it alone.
func FuzzRouterPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"payment_intent.*", "payment_intent.succeeded"},
		{"payment_intent.*", "payment_intent"},
		{"orders/*", "orders/create"},
		{"*", ""},
		{"push", "push"},
		{"", "x"},
		{"a*", "ab"},
		{"*.b", "a.b"},
		{"a.*.b", "a.x.b"},
		{"a.**", "a.*x"},
		{".*", ".x"},
		{" push", "push"},
		{"*\n", "x"},
		{"a./*", "a./b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, typ string) {
		var hit bool
		r, err := hookguard.NewRouter(hookguard.On(pattern, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
			hit = true
			return nil
		})))
		require.Equal(t, refValid(pattern), err == nil, "NewRouter(On(%q)) = %v; accepted, want valid by the rule", pattern, err)
		if err != nil {
			require.ErrorIs(t, err, hookguard.ErrInvalidOption, "NewRouter(On(%q))", pattern)
			require.ErrorContains(t, err, fmt.Sprintf("%q", pattern), "want the error to name the pattern")
			return
		}
		probes := []string{typ, pattern, pattern + "x", strings.TrimSuffix(pattern, "*"), strings.TrimSuffix(pattern, "*") + typ}
		for _, probe := range probes {
			hit = false
			before := r.Unmatched()
			require.NoError(t, r.HandleEvent(context.Background(), hookguard.Event{Type: probe}), "HandleEvent(%q)", probe)
			require.Equal(t, refMatch(pattern, probe), hit, "pattern %q, type %q: routed", pattern, probe)
			wantCounted := uint64(1) // an unrouted event is counted once, a routed one not at all
			if hit {
				wantCounted = 0
			}
			require.Equal(t, wantCounted, r.Unmatched()-before, "pattern %q, type %q: routed %v; Unmatched grew by", pattern, probe, hit)
		}
	})
}

// benchTypes are the Stripe types the router benchmarks route.
var benchTypes = []string{
	"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "customer.created",
	"customer.subscription.created", "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed",
}

var benchSink atomic.Int64

// BenchmarkRouter compares a Router with the switch on e.Type it
// replaces. Run with -benchmem: no case allocates.
func BenchmarkRouter(b *testing.B) {
	count := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { benchSink.Add(1); return nil })
	events := make([]hookguard.Event, len(benchTypes))
	for i, typ := range benchTypes {
		events[i] = hookguard.Event{Provider: "stripe", ID: "evt_1", Type: typ}
	}
	exactOpts := make([]hookguard.Option, 0, len(benchTypes))
	for _, typ := range benchTypes {
		exactOpts = append(exactOpts, hookguard.On(typ, count))
	}
	exact, err := hookguard.NewRouter(exactOpts...)
	if err != nil {
		b.Fatal(err)
	}
	wild, err := hookguard.NewRouter(
		hookguard.On("payment_intent.*", count), hookguard.On("charge.*", count), hookguard.On("customer.*", count),
		hookguard.On("customer.subscription.*", count), hookguard.On("invoice.*", count))
	if err != nil {
		b.Fatal(err)
	}
	unmatched, err := hookguard.NewRouter(hookguard.On("checkout.session.completed", count), hookguard.On("payout.*", count))
	if err != nil {
		b.Fatal(err)
	}
	// The hand-written handler a Router replaces.
	sw := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		switch e.Type {
		case "payment_intent.succeeded":
			return count(ctx, e)
		case "payment_intent.payment_failed":
			return count(ctx, e)
		case "charge.refunded":
			return count(ctx, e)
		case "customer.created":
			return count(ctx, e)
		case "customer.subscription.created":
			return count(ctx, e)
		case "customer.subscription.deleted":
			return count(ctx, e)
		case "invoice.paid":
			return count(ctx, e)
		case "invoice.payment_failed":
			return count(ctx, e)
		}
		return nil
	})
	for _, bc := range []struct {
		name string
		h    hookguard.Handler
	}{
		{"switch", sw},
		{"exact", exact},
		{"wildcard", wild},
		{"unmatched", unmatched},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := bc.h.HandleEvent(ctx, events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
