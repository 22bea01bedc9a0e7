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
// logger set with [WithRouterLogger]. Senders send types nobody wrote a
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

// RouterOption configures a [Router]: a route ([On], [OnProvider]) or a
// setting ([WithRouterLogger], [WithUnmatchedDeadLetter]).
//
// Like [Option], it is an interface with an unexported method rather than
// a function type: only this package makes them, and each reports a bad
// value as an error from [NewRouter] instead of panicking.
type RouterOption interface {
	applyRouter(*Router) error
}

type routerOptionFunc func(*Router) error

func (f routerOptionFunc) applyRouter(r *Router) error { return f(r) }

// NewRouter returns a Router with the given routes and settings. A route
// with an empty pattern, a '*' anywhere but as the whole last segment,
// white space at either end of the pattern, a pattern given twice for the
// same provider, or a nil handler is an error wrapping [ErrInvalidOption]
// that names the pattern, and so is a router without any route, which
// would drop every event.
func NewRouter(opts ...RouterOption) (*Router, error) {
	r := &Router{}
	routes := 0
	for _, o := range opts {
		if o == nil {
			continue
		}
		if _, ok := o.(routeOption); ok {
			routes++
		}
		if err := o.applyRouter(r); err != nil {
			return nil, err
		}
	}
	if routes == 0 {
		return nil, invalid(`NewRouter has no route and would drop every event; add one with On, for example On("*", handler)`)
	}
	return r, nil
}

// On routes the events whose type matches pattern to h, whichever
// provider sent them. See [Router] for the patterns and their precedence.
// Use [Typed] to have each route decode its own payload type.
func On(pattern string, h Handler) RouterOption {
	return routeOption{pattern: pattern, h: h}
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
func OnProvider(provider, pattern string, h Handler) RouterOption {
	return routeOption{provider: provider, scoped: true, pattern: pattern, h: h}
}

// routeOption is one route given with On or OnProvider.
type routeOption struct {
	provider string
	scoped   bool // given with OnProvider
	pattern  string
	h        Handler
}

func (o routeOption) applyRouter(r *Router) error {
	name := fmt.Sprintf("On(%q)", o.pattern)
	if o.scoped {
		name = fmt.Sprintf("OnProvider(%q, %q)", o.provider, o.pattern)
		if o.provider == "" {
			return invalid("%s: the provider is empty; give a preset's name such as \"github\", or use On for every provider", name)
		}
	}
	kind, key, err := parsePattern(o.pattern)
	if err != nil {
		return invalid("%s: %v", name, err)
	}
	if o.h == nil {
		return invalid("%s got a nil Handler; pass one, for example hookguard.Typed(fn)", name)
	}
	if f, ok := o.h.(HandlerFunc); ok && f == nil {
		return invalid("%s got a nil HandlerFunc; pass a function", name)
	}
	t := &r.all
	if o.scoped {
		if r.byProvider == nil {
			r.byProvider = make(map[string]*routeTable)
		}
		if t = r.byProvider[o.provider]; t == nil {
			t = &routeTable{}
			r.byProvider[o.provider] = t
		}
	}
	if !t.add(kind, key, o.h) {
		return invalid("%s is given twice; give each pattern one route and do both steps in its handler", name)
	}
	return nil
}

// WithRouterLogger sets where a [Router] logs, at debug level, each event
// it drops because no route takes it (default, and with a nil l: nowhere).
// A record carries the provider, event ID and type; never the body.
func WithRouterLogger(l *slog.Logger) RouterOption {
	return routerOptionFunc(func(r *Router) error {
		r.logger = l
		return nil
	})
}

// WithUnmatchedDeadLetter makes a [Router] fail an event that no route
// takes with a [Permanent] error wrapping [ErrNoRoute], instead of
// dropping it, so that the queue gives it to the dead-letter hook at once
// (and logs it there). [Router.Unmatched] counts it either way.
func WithUnmatchedDeadLetter() RouterOption {
	return routerOptionFunc(func(r *Router) error {
		r.deadLetter = true
		return nil
	})
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
