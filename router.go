package hookguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
)

// ErrNoRoute is wrapped by the error a [Router] built with
// [WithUnmatchedDeadLetter] returns for an event that no route takes. That
// error is [Permanent], so the queue hands the event to the dead-letter
// hook at once.
var ErrNoRoute = errors.New("hookguard: no route for the event's type")

// Router is a [Handler] that hands each event to the one route registered
// for its type, so that handlers need no switch on [Event.Type]. Build it
// with [NewRouter] and routes given by [On] and [OnProvider]:
//
//	router, err := hookguard.NewRouter(
//		hookguard.On("payment_intent.succeeded", hookguard.Typed(paid)),
//		hookguard.On("customer.subscription.*", hookguard.Typed(subscription)),
//		hookguard.On("*", hookguard.HandlerFunc(audit)),
//	)
//
// # Patterns
//
// A pattern is one of:
//
//   - an event type, matched exactly: "payment_intent.succeeded", "push",
//     "orders/create";
//   - a prefix wildcard, whose last segment, after a '.' or a '/', is '*':
//     "payment_intent.*" matches "payment_intent.succeeded" and
//     "payment_intent.amount_capturable_updated" (any type that starts
//     with "payment_intent." and goes on), but neither "payment_intent" nor
//     "payment_intentX.y"; "orders/*" matches "orders/create";
//   - "*" alone, which matches every type, the empty type included.
//
// Segments are separated by '.' (Stripe, Plaid, Okta, Mux) or '/'
// (Shopify topics); a type without either, such as GitHub's "push", is
// matched by its exact pattern or by "*".
//
// # Precedence
//
// Exactly one route runs per event: the exact pattern if there is one,
// else the wildcard with the longest prefix that matches, else "*". Routes
// given with [OnProvider] for the event's [Event.Provider] are tried first,
// in that order, and only when none of them matches the routes given with
// [On]: OnProvider("gitlab", "*", h) takes every GitLab event, even one
// whose type has an exact On route. Not every matching route
// runs, because a route's error makes the queue retry the whole event: a
// retry would run again the routes that had succeeded. Run several steps
// for one type in one handler, where their order and their failure are
// yours to decide.
//
// # Unmatched events
//
// An event that no route takes is acknowledged and dropped: HandleEvent
// returns nil, [Router.Unmatched] counts it, and a record is logged at
// debug level with its provider, event ID and type (never its body) to the
// logger set with [WithLogger]. Senders send types nobody wrote a
// handler for (a GitHub webhook set to send everything, a ping on
// creation), and retrying them would fix nothing. With
// [WithUnmatchedDeadLetter] such an event is instead a [Permanent] error
// wrapping [ErrNoRoute], so that it reaches the dead-letter hook.
//
// # Cost
//
// A lookup is a map access for exact patterns, plus one map access per
// '.' or '/' in the type, from the longest prefix down, when wildcards are
// registered; it uses no regular expression and allocates nothing.
//
// A Router is safe for concurrent use; its routes are fixed by NewRouter.
type Router struct {
	all        routeTable             // routes given with On
	byProvider map[string]*routeTable // routes given with OnProvider
	logger     *slog.Logger           // nil: log nothing
	deadLetter bool
	unmatched  atomic.Uint64
}

var _ Handler = (*Router)(nil)

// NewRouter returns a Router with the routes given by [On] and
// [OnProvider], and the settings given by [WithUnmatchedDeadLetter] and
// [WithLogger]. A route with an empty pattern, a '*' anywhere but as the
// whole last segment, white space at either end of the pattern, a pattern
// given twice for the same provider, or a nil handler is an error wrapping
// [ErrInvalidOption] that names the pattern, and so is a router without
// any route, which would drop every event, and an option that does not
// apply to a Router ([WithWorkers], say: give it to the [New] that runs
// the Router).
func NewRouter(opts ...Option) (*Router, error) {
	cfg, err := newConfig(forRouter, opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.routes) == 0 {
		return nil, invalid(`NewRouter has no route and would drop every event; add one with On, for example On("*", handler)`)
	}
	r := &Router{logger: cfg.logger, deadLetter: cfg.deadLetter}
	for _, rt := range cfg.routes {
		if err := r.add(rt); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// On routes the events whose type matches pattern to h, whichever
// provider sent them. See [Router] for the patterns and their precedence.
// Use [Typed] to have each route decode its own payload type.
func On(pattern string, h Handler) Option {
	return func(c *config) {
		c.use(forRouter, "On(%q)", pattern)
		c.addRoute(route{pattern: pattern, h: h})
	}
}

// OnProvider routes the events of one provider whose type matches
// pattern to h. provider is the preset's name, as in [Event.Provider]
// ("github", "stripe", "standardwebhooks"). Use it when one Router serves
// receivers of several providers whose types collide: Stripe and a
// Standard Webhooks sender may both send "invoice.paid", and
// OnProvider("stripe", "invoice.paid", h) takes only Stripe's. A Router
// that serves one provider needs only [On].
//
// An event's provider routes are tried before the routes given with On,
// so OnProvider("github", "*", h) takes every GitHub event.
func OnProvider(provider, pattern string, h Handler) Option {
	return func(c *config) {
		c.use(forRouter, "OnProvider(%q, %q)", provider, pattern)
		if provider == "" {
			c.fail("the provider is empty; give a preset's name such as \"github\", or use On for every provider")
			return
		}
		c.addRoute(route{provider: provider, scoped: true, pattern: pattern, h: h})
	}
}

// route is one route given with On or OnProvider, its pattern checked.
type route struct {
	name     string // "On(\"push\")", for errors
	provider string
	scoped   bool // given with OnProvider
	pattern  string
	kind     patternKind
	key      string
	h        Handler
}

// addRoute checks rt, the route of the option being applied, and records
// it for NewRouter, or records what is wrong with it.
func (c *config) addRoute(rt route) {
	rt.name = c.given[len(c.given)-1].name
	kind, key, err := parsePattern(rt.pattern)
	switch {
	case err != nil:
		c.fail("%v", err)
		return
	case rt.h == nil:
		c.failWith(invalid("%s got a nil Handler; pass one, for example hookguard.Typed(fn)", rt.name))
		return
	}
	if f, ok := rt.h.(HandlerFunc); ok && f == nil {
		c.failWith(invalid("%s got a nil HandlerFunc; pass a function", rt.name))
		return
	}
	rt.kind, rt.key = kind, key
	c.routes = append(c.routes, rt)
}

// add adds a checked route to r's tables, and fails if its pattern has a
// route already.
func (r *Router) add(rt route) error {
	t := &r.all
	if rt.scoped {
		if r.byProvider == nil {
			r.byProvider = make(map[string]*routeTable)
		}
		if t = r.byProvider[rt.provider]; t == nil {
			t = &routeTable{}
			r.byProvider[rt.provider] = t
		}
	}
	if !t.add(rt.kind, rt.key, rt.h) {
		return invalid("%s is given twice; give each pattern one route and do both steps in its handler", rt.name)
	}
	return nil
}

// WithUnmatchedDeadLetter makes a [Router] fail an event that no route
// takes with a [Permanent] error wrapping [ErrNoRoute], instead of
// dropping it, so that the queue gives it to the dead-letter hook at once
// (and logs it there). [Router.Unmatched] counts it either way.
func WithUnmatchedDeadLetter() Option {
	return func(c *config) {
		c.use(forRouter, "WithUnmatchedDeadLetter()")
		c.deadLetter = true
	}
}

// HandleEvent runs the route that takes e and returns its error
// unchanged. See [Router] for what happens to an event no route takes.
func (r *Router) HandleEvent(ctx context.Context, e Event) error {
	if h := r.match(e.Provider, e.Type); h != nil {
		return h.HandleEvent(ctx, e)
	}
	r.unmatched.Add(1)
	if r.deadLetter {
		return Permanent(fmt.Errorf("%w: type %q from provider %q; add a route with On(%q, handler), a wildcard such as On(\"prefix.*\", handler), or On(\"*\", handler)",
			ErrNoRoute, e.Type, e.Provider, e.Type))
	}
	if r.logger != nil && r.logger.Enabled(ctx, slog.LevelDebug) {
		r.logger.LogAttrs(ctx, slog.LevelDebug, "hookguard: no route for event; acknowledged and dropped",
			slog.String("provider", e.Provider),
			slog.String("event_id", e.ID),
			slog.String("type", e.Type))
	}
	return nil
}

// Unmatched returns how many events no route took since the Router was
// built, whether they were dropped or dead-lettered.
func (r *Router) Unmatched() uint64 { return r.unmatched.Load() }

// match returns the handler of the route that takes an event of provider
// and typ, or nil.
func (r *Router) match(provider, typ string) Handler {
	if r.byProvider != nil {
		if t := r.byProvider[provider]; t != nil {
			if h := t.match(typ); h != nil {
				return h
			}
		}
	}
	return r.all.match(typ)
}

// patternKind is what a pattern matches.
type patternKind int

const (
	exactPattern  patternKind = iota // one type
	prefixPattern                    // types that start with a prefix and go on
	allPattern                       // every type
)

// parsePattern checks a pattern and returns its kind and key: the type of
// an exact pattern, the prefix with its trailing separator of a wildcard
// ("payment_intent." for "payment_intent.*"), "" for "*".
func parsePattern(p string) (patternKind, string, error) {
	switch {
	case p == "":
		return 0, "", errors.New(`the pattern is empty; give an event type such as "payment_intent.succeeded", a wildcard such as "payment_intent.*", or "*" for every type`)
	case p == "*":
		return allPattern, "", nil
	case strings.TrimSpace(p) != p:
		return 0, "", errors.New("the pattern starts or ends with white space, which no event type does; remove it")
	}
	i := strings.IndexByte(p, '*')
	if i < 0 {
		return exactPattern, p, nil
	}
	if i != len(p)-1 || i < 2 || !isSeparator(p[i-1]) {
		return 0, "", errors.New(`'*' may only be the whole last segment, after a '.' or '/' that follows a prefix ("payment_intent.*", "orders/*"), or the whole pattern ("*"); list other types one by one`)
	}
	return prefixPattern, p[:i], nil
}

func isSeparator(c byte) bool { return c == '.' || c == '/' }

// routeTable holds the routes of one scope: every provider, or one.
type routeTable struct {
	exact     map[string]Handler
	prefix    map[string]Handler // keyed by the prefix with its trailing separator
	maxPrefix int                // the longest key of prefix
	any       Handler            // the "*" route; nil when there is none
}

// add records a route and reports false when its pattern has one already.
func (t *routeTable) add(kind patternKind, key string, h Handler) bool {
	switch kind {
	case allPattern:
		if t.any != nil {
			return false
		}
		t.any = h
	case prefixPattern:
		if _, dup := t.prefix[key]; dup {
			return false
		}
		if t.prefix == nil {
			t.prefix = make(map[string]Handler)
		}
		t.prefix[key] = h
		t.maxPrefix = max(t.maxPrefix, len(key))
	default:
		if _, dup := t.exact[key]; dup {
			return false
		}
		if t.exact == nil {
			t.exact = make(map[string]Handler)
		}
		t.exact[key] = h
	}
	return true
}

// match returns the handler for typ: the exact route, else the longest
// matching prefix, else "*"; nil when none matches.
func (t *routeTable) match(typ string) Handler {
	if h, ok := t.exact[typ]; ok {
		return h
	}
	if t.prefix != nil {
		// A prefix ends with a separator and must leave at least one byte
		// of typ after it, so the last byte of typ is never a prefix's end.
		for i := min(len(typ)-2, t.maxPrefix-1); i >= 0; i-- {
			if isSeparator(typ[i]) {
				if h, ok := t.prefix[typ[:i+1]]; ok {
					return h
				}
			}
		}
	}
	return t.any
}
