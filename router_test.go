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
	if err != nil {
		t.Fatal(err)
	}
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
			if err := r.HandleEvent(context.Background(), hookguard.Event{Provider: "stripe", Type: tt.typ}); err != nil {
				t.Fatalf("HandleEvent = %v", err)
			}
			if hit != tt.want {
				t.Errorf("type %q went to route %q, want %q", tt.typ, hit, tt.want)
			}
		})
	}
	if n := r.Unmatched(); n != 0 {
		t.Errorf("Unmatched() = %d with a \"*\" route, want 0", n)
	}
}

// TestRouterWithoutCatchAll checks which types fall through when there is
// no "*" route, and that each one is counted once.
func TestRouterWithoutCatchAll(t *testing.T) {
	var hit string
	r, err := hookguard.NewRouter(
		hookguard.On("charge.refunded", named(&hit, "charge.refunded")),
		hookguard.On("invoice.*", named(&hit, "invoice.*")),
	)
	if err != nil {
		t.Fatal(err)
	}
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
		if err := r.HandleEvent(context.Background(), hookguard.Event{Type: tt.typ}); err != nil {
			t.Fatalf("HandleEvent(%q) = %v, want nil", tt.typ, err)
		}
		if hit != tt.want {
			t.Errorf("type %q went to route %q, want %q", tt.typ, hit, tt.want)
		}
		if tt.want == "" {
			misses++
		}
		if got := r.Unmatched(); got != misses {
			t.Errorf("after type %q: Unmatched() = %d, want %d", tt.typ, got, misses)
		}
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
	if err != nil {
		t.Fatal(err)
	}
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
		if err := r.HandleEvent(context.Background(), hookguard.Event{Provider: tt.provider, Type: tt.typ}); err != nil {
			t.Fatalf("HandleEvent(%q, %q) = %v", tt.provider, tt.typ, err)
		}
		if hit != tt.want {
			t.Errorf("%s event %q went to route %q, want %q", tt.provider, tt.typ, hit, tt.want)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = r.HandleEvent(ctx, hookguard.Event{Provider: "stripe", Type: "payment_intent.succeeded",
		Body: []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}`)})
	if err != nil || amount != 2000 {
		t.Errorf("payment_intent.succeeded: err = %v, amount = %d; want nil, 2000", err, amount)
	}
	err = r.HandleEvent(ctx, hookguard.Event{Provider: "stripe", Type: "customer.updated",
		Body: []byte(`{"data":{"object":{"email":"a@example.com"}}}`)})
	if err != nil || email != "a@example.com" {
		t.Errorf("customer.updated: err = %v, email = %q; want nil, a@example.com", err, email)
	}
	err = r.HandleEvent(ctx, hookguard.Event{Provider: "stripe", Type: "customer.created", Body: []byte(`{"data":`)})
	if !hookguard.IsPermanent(err) {
		t.Errorf("customer.created with a truncated body: err = %v, want a permanent decode error", err)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			e := hookguard.Event{Provider: "stripe", ID: "evt_42", Type: "charge.refunded", Body: []byte(`{"secret_body":"card"}`)}
			if err := r.HandleEvent(context.Background(), e); err != nil {
				t.Fatalf("HandleEvent = %v, want nil: an unmatched event is acknowledged", err)
			}
			if ran {
				t.Error("the payment_intent.succeeded route ran for charge.refunded")
			}
			if n := r.Unmatched(); n != 1 {
				t.Errorf("Unmatched() = %d, want 1", n)
			}
			out := buf.String()
			if !tt.wantLog {
				if out != "" {
					t.Errorf("logged %q at level %v, want nothing", out, tt.level)
				}
				return
			}
			for _, want := range []string{"level=DEBUG", "provider=stripe", "event_id=evt_42", "type=charge.refunded"} {
				if !strings.Contains(out, want) {
					t.Errorf("log %q lacks %q", out, want)
				}
			}
			if strings.Contains(out, "secret_body") {
				t.Errorf("log %q contains the body", out)
			}
			if n := strings.Count(out, "\n"); n != 1 {
				t.Errorf("logged %d records, want 1", n)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	err = r.HandleEvent(context.Background(), hookguard.Event{Provider: "github", ID: "d1", Type: "issues"})
	if !hookguard.IsPermanent(err) {
		t.Errorf("err = %v, want a Permanent error", err)
	}
	if !errors.Is(err, hookguard.ErrNoRoute) {
		t.Errorf("err = %v, want one wrapping ErrNoRoute", err)
	}
	if msg := fmt.Sprint(err); !strings.Contains(msg, `"issues"`) || !strings.Contains(msg, `On("issues"`) {
		t.Errorf("err = %q, want the type and how to add a route", msg)
	}
	if n := r.Unmatched(); n != 1 {
		t.Errorf("Unmatched() = %d, want 1", n)
	}
	if buf.Len() != 0 {
		t.Errorf("a dead-lettered event was logged by the router (the queue logs it): %q", buf.String())
	}
	if err := r.HandleEvent(context.Background(), hookguard.Event{Provider: "github", Type: "push"}); err != nil {
		t.Errorf("a routed event: err = %v, want nil", err)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			got := r.HandleEvent(context.Background(), hookguard.Event{Type: "invoice.paid"})
			if got != tt.err {
				t.Errorf("HandleEvent = %v, want the route's own error %v", got, tt.err)
			}
			if hookguard.IsPermanent(got) != tt.wantPermanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", got, !tt.wantPermanent, tt.wantPermanent)
			}
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
				if err != nil || r == nil {
					t.Fatalf("NewRouter = %v, %v; want a router", r, err)
				}
				return
			}
			if r != nil || err == nil {
				t.Fatalf("NewRouter = %v, %v; want an error containing %q", r, err, tt.want)
			}
			if !errors.Is(err, hookguard.ErrInvalidOption) {
				t.Errorf("err = %v, want one wrapping ErrInvalidOption", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	types := []string{"invoice.paid", "invoice.created", "charge.refunded", "unknown"}
	const goroutines, each = 16, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				typ := types[(g+i)%len(types)]
				if err := r.HandleEvent(context.Background(), hookguard.Event{Provider: "stripe", Type: typ}); err != nil {
					t.Errorf("HandleEvent(%q) = %v", typ, err)
					return
				}
			}
		})
	}
	wg.Wait()
	per := int64(goroutines * each / len(types))
	if exact.Load() != per || wild.Load() != per || all.Load() != per || r.Unmatched() != uint64(per) {
		t.Errorf("exact %d, wildcard %d, charge.* %d, unmatched %d; want %d each",
			exact.Load(), wild.Load(), all.Load(), r.Unmatched(), per)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	var dead atomic.Int64
	recv, err := hookguard.New(p, r, hookguard.WithClock(clock),
		hookguard.WithHooks(hookguard.Hooks{OnDeadLetter: func(hookguard.Event, error) { dead.Add(1) }}))
	if err != nil {
		t.Fatal(err)
	}
	send := func(id, typ string) int {
		body := fmt.Appendf(nil, `{"id":%q,"type":%q,"data":{"object":{"amount":1500}}}`, id, typ)
		w := httptest.NewRecorder()
		recv.ServeHTTP(w, sign(t, p, id, body).request())
		return w.Code
	}
	if code := send("evt_routed", "payment_intent.succeeded"); code != http.StatusOK {
		t.Fatalf("routed event answered %d, want 200", code)
	}
	if code := send("evt_unrouted", "charge.refunded"); code != http.StatusOK {
		t.Fatalf("unmatched event answered %d, want 200", code)
	}
	shutdown(t, recv) // drains the queue: both events have been handled
	select {
	case pi := <-paid:
		if pi.ID != "evt_routed" || pi.Type != "payment_intent.succeeded" || pi.Data.Object.Amount != 1500 {
			t.Errorf("route got %+v, want evt_routed, payment_intent.succeeded, 1500", pi)
		}
	default:
		t.Fatal("the payment_intent.* route never ran")
	}
	if len(paid) != 0 {
		t.Error("the payment_intent.* route ran for charge.refunded too")
	}
	if n := r.Unmatched(); n != 1 {
		t.Errorf("Unmatched() = %d, want 1 (charge.refunded)", n)
	}
	if n := dead.Load(); n != 0 {
		t.Errorf("%d events dead-lettered, want 0: an unmatched event is dropped by default", n)
	}
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
		if valid := refValid(pattern); valid != (err == nil) {
			t.Fatalf("NewRouter(On(%q)) = %v; valid by the rule: %v", pattern, err, valid)
		}
		if err != nil {
			if !errors.Is(err, hookguard.ErrInvalidOption) || !strings.Contains(err.Error(), fmt.Sprintf("%q", pattern)) {
				t.Fatalf("NewRouter(On(%q)) = %v, want an ErrInvalidOption naming the pattern", pattern, err)
			}
			return
		}
		probes := []string{typ, pattern, pattern + "x", strings.TrimSuffix(pattern, "*"), strings.TrimSuffix(pattern, "*") + typ}
		for _, probe := range probes {
			hit = false
			before := r.Unmatched()
			if err := r.HandleEvent(context.Background(), hookguard.Event{Type: probe}); err != nil {
				t.Fatalf("HandleEvent(%q) = %v", probe, err)
			}
			if want := refMatch(pattern, probe); hit != want {
				t.Fatalf("pattern %q, type %q: routed %v, want %v", pattern, probe, hit, want)
			}
			if counted := r.Unmatched() - before; counted != 0 && hit || counted != 1 && !hit {
				t.Fatalf("pattern %q, type %q: routed %v but Unmatched grew by %d", pattern, probe, hit, counted)
			}
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
