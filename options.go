package hookguard

import (
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookguard/hookguard/dedupe"
)

// Defaults of a [Receiver] and of [Middleware].
const (
	// DefaultMaxBodySize is the body limit, 1 MiB; see [WithMaxBodySize].
	DefaultMaxBodySize = 1 << 20
	// DefaultDedupeTTL is how long accepted IDs are remembered; see
	// [WithDedupeTTL].
	DefaultDedupeTTL = 72 * time.Hour
	// DefaultPendingTTL bounds a reservation; see [WithPendingTTL].
	DefaultPendingTTL = 5 * time.Minute
	// DefaultRetryAfter is the Retry-After of 409 and 503; see
	// [WithRetryAfter].
	DefaultRetryAfter = 5 * time.Second
	// DefaultAckTimeout bounds store and queue calls; see
	// [WithAckTimeout].
	DefaultAckTimeout = time.Second
)

// Option configures what a constructor of this package builds: [New],
// [Middleware], [NewMemoryQueue] and [NewRouter] all take Options. Each
// option applies to some of them (see "Options" in the package
// documentation for which to which); a constructor returns an error
// wrapping [ErrInvalidOption] that names an option that does not apply to
// it, or whose value it cannot use, and builds nothing. Nil options are
// skipped.
type Option func(*config)

// scope is the set of constructors an option applies to.
type scope uint8

const (
	forNew scope = 1 << iota
	forMiddleware
	forQueue  // NewMemoryQueue
	forRouter // NewRouter

	forRequests = forNew | forMiddleware // the request path: verify, limit, dedupe
	forQueues   = forNew | forQueue      // a MemoryQueue; New passes them to its own
	forAll      = forNew | forMiddleware | forQueue | forRouter
)

// String lists the constructors in s: "New, Middleware and NewMemoryQueue".
func (s scope) String() string {
	var names []string
	for _, c := range []struct {
		s    scope
		name string
	}{{forNew, "New"}, {forMiddleware, "Middleware"}, {forQueue, "NewMemoryQueue"}, {forRouter, "NewRouter"}} {
		if s&c.s != 0 {
			names = append(names, c.name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// given is one option as the user gave it, recorded when it runs so that
// the constructor can refuse it by name.
type given struct {
	name  string // as written: "WithWorkers(8)"
	scope scope  // the constructors it applies to
	err   error  // what is wrong with its value, if anything
}

type config struct {
	maxBody       int64
	store         dedupe.Store
	dedupe        bool // Middleware: dedupe only when a store was given
	dedupeTTL     time.Duration
	pendingTTL    time.Duration
	failClosed    bool
	contentDedupe bool
	keepDead      bool // WithKeepDedupeOnDeadLetter
	endpoint      string
	queue         Queue
	clock         func() time.Time
	customClock   bool // WithClock was given: stores read clock too
	logger        *slog.Logger
	hooks         Hooks
	limit         limiter
	proxies       proxies
	requireTLS    bool // WithRequireTLS: every verifier refuses plain HTTP
	allowPlain    bool // WithAllowPlainHTTP: no verifier refuses it
	retryAfter    time.Duration
	ackTimeout    time.Duration
	publicURL     string
	q             queueConfig // a MemoryQueue's settings; New passes them to its own
	routes        []route     // On, OnProvider
	deadLetter    bool        // WithUnmatchedDeadLetter
	given         []given     // every option, in the order given
}

// newConfig applies opts to the defaults for the constructor target and
// returns the first option, in the order given, that does not apply to
// target or whose value is invalid.
func newConfig(target scope, opts []Option) (*config, error) {
	c := &config{
		maxBody:       DefaultMaxBodySize,
		dedupeTTL:     DefaultDedupeTTL,
		pendingTTL:    DefaultPendingTTL,
		contentDedupe: true,
		clock:         time.Now,
		logger:        slog.New(slog.DiscardHandler),
		retryAfter:    DefaultRetryAfter,
		ackTimeout:    DefaultAckTimeout,
		q: queueConfig{
			capacity:       DefaultQueueCapacity,
			workers:        runtime.GOMAXPROCS(0),
			maxAttempts:    DefaultMaxAttempts,
			baseBackoff:    DefaultBaseBackoff,
			maxBackoff:     DefaultMaxBackoff,
			attemptTimeout: DefaultAttemptTimeout,
		},
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	for _, g := range c.given {
		if g.scope&target == 0 {
			return nil, misplaced(g, target)
		}
		if g.err != nil {
			return nil, g.err
		}
	}
	if c.requireTLS && c.allowPlain {
		return nil, invalid("WithRequireTLS() and WithAllowPlainHTTP() contradict each other: keep WithRequireTLS, and list the TLS proxy in front of the endpoint with WithTrustedProxies")
	}
	c.q.logger = c.logger
	return c, nil
}

// use records that the option named by format and args, which applies to
// the constructors in s, was given. Every option calls it first.
func (c *config) use(s scope, format string, args ...any) {
	name := format
	if len(args) > 0 {
		name = fmt.Sprintf(format, args...)
	}
	c.given = append(c.given, given{name: name, scope: s})
}

// fail records why the value of the option being applied is invalid; the
// error names the option: "WithWorkers(0): at least one worker ...".
func (c *config) fail(format string, args ...any) {
	g := &c.given[len(c.given)-1]
	g.err = invalid("%s: "+format, append([]any{g.name}, args...)...)
}

// failWith records err, which wraps ErrInvalidOption and names the
// option, as what is wrong with the option being applied.
func (c *config) failWith(err error) {
	c.given[len(c.given)-1].err = err
}

// misplaced is the error for option g given to the constructor target,
// to which it does not apply.
func misplaced(g given, target scope) error {
	switch {
	case g.scope == forRouter:
		return invalid("%s configures a Router: pass it to NewRouter, and the Router to New or NewMemoryQueue as the Handler", g.name)
	case target == forMiddleware:
		return invalid("%s applies to %s, not to Middleware, which has no queue and no dead letters: it calls the next handler itself, and a failed answer releases the event's records; drop it, or use New for a queued receiver", g.name, g.scope)
	case target == forRouter:
		return invalid("%s applies to %s, not to NewRouter; give it to the New that runs the Router", g.name, g.scope)
	default:
		return invalid("%s applies to %s, not to %s", g.name, g.scope, target)
	}
}

// quoteList writes ss as Go string literals separated by ", ".
func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// WithMaxBodySize sets the largest body accepted, in bytes (default
// [DefaultMaxBodySize], 1 MiB). Larger requests get 413 and are not read
// past the limit. GitHub sends up to 25 MB.
func WithMaxBodySize(n int64) Option {
	return func(c *config) {
		c.use(forRequests, "WithMaxBodySize(%d)", n)
		if n < 1 {
			c.fail("the limit must be at least 1 byte")
			return
		}
		c.maxBody = n
	}
}

// WithStore sets where event IDs are recorded for dedupe. A [Receiver]
// dedupes with an in-memory store by default; use a shared store (Redis)
// when several instances receive the same endpoint. [Middleware] dedupes
// only when given a store.
func WithStore(s dedupe.Store) Option {
	return func(c *config) {
		if s == nil {
			c.use(forRequests, "WithStore(nil)")
			c.fail("pass a dedupe.Store such as dedupe.NewMemory()")
			return
		}
		c.use(forRequests, "WithStore(...)")
		c.store = s
		c.dedupe = true
	}
}

// WithDedupeTTL sets how long an event ID is remembered once accepted
// (default [DefaultDedupeTTL], 72 h: Stripe retries for up to 3 days).
func WithDedupeTTL(d time.Duration) Option {
	return func(c *config) {
		c.use(forRequests, "WithDedupeTTL(%v)", d)
		if d <= 0 {
			c.fail("the TTL must be positive")
			return
		}
		c.dedupeTTL = d
	}
}

// WithPendingTTL sets how long an event ID stays reserved while its
// delivery is being accepted (default [DefaultPendingTTL]). It bounds how
// long a crashed instance can block the sender's retries.
func WithPendingTTL(d time.Duration) Option {
	return func(c *config) {
		c.use(forRequests, "WithPendingTTL(%v)", d)
		if d <= 0 {
			c.fail("the TTL must be positive")
			return
		}
		c.pendingTTL = d
	}
}

// WithFailClosed makes a dedupe store failure answer 503 (so the sender
// retries) and enqueue nothing. By default the receiver falls back to a
// local in-memory store, counts the failure with
// [Hooks.OnStoreFallback], and goes on accepting events: across several
// instances a duplicate may then get through, which at-least-once
// handlers tolerate anyway.
func WithFailClosed() Option {
	return func(c *config) {
		c.use(forRequests, "WithFailClosed()")
		c.failClosed = true
	}
}

// WithKeepDedupeOnDeadLetter keeps the dedupe records of events the queue
// gives up on. By default a dead letter releases its records (its ID and
// content digest), so that the sender's redelivery, once the handler is
// fixed (Stripe "Resend", GitHub "Redeliver", Svix "Replay"), is handled
// again rather than answered as a duplicate for the dedupe TTL. Keep them
// when dead letters are replayed from your own store and a redelivery must
// not run the handler a second time. See [Receiver.Forget].
func WithKeepDedupeOnDeadLetter() Option {
	return func(c *config) {
		c.use(forNew, "WithKeepDedupeOnDeadLetter()")
		c.keepDead = true
	}
}

// WithContentDedupe sets whether deliveries are also deduped by a digest
// of their signed content where the preset gives one (default true): those
// whose scheme signs neither a timestamp nor the ID (GitHub, Shopify; see
// verify.Delivery.Replayable), and those that carry no event ID (Slack
// slash commands and interactive payloads). Without it, a captured request
// could be replayed under a fresh ID, or, without an ID, replayed as often
// as the replay window allows.
func WithContentDedupe(on bool) Option {
	return func(c *config) {
		c.use(forRequests, "WithContentDedupe(%v)", on)
		c.contentDedupe = on
	}
}

// WithEndpoint scopes dedupe keys by name, so that two endpoints sharing a
// store do not see each other's IDs (GitHub delivery IDs are not unique
// across apps). Keys are "provider:endpoint:id:<id>" and
// "provider:endpoint:digest:<hex>"; without an endpoint the middle field is
// empty ("stripe::id:evt_1").
func WithEndpoint(name string) Option {
	return func(c *config) {
		c.use(forRequests, "WithEndpoint(%q)", name)
		if strings.ContainsRune(name, ':') {
			c.fail("the name must not contain ':'")
			return
		}
		c.endpoint = name
	}
}

// WithQueue makes a [Receiver] enqueue into q instead of its own
// [MemoryQueue]. The receiver then does not own q: its Shutdown does not
// shut q down. Pass a nil Handler to [New] with this option. The options
// of the receiver's own queue ([WithWorkers], [WithMaxAttempts],
// [WithDeadLetter] and the others that apply to [NewMemoryQueue] but not
// to [Middleware]) are refused with it: configure q itself.
func WithQueue(q Queue) Option {
	return func(c *config) {
		if q == nil {
			c.use(forNew, "WithQueue(nil)")
			c.fail("pass a Queue, or leave WithQueue out to have New build its own MemoryQueue")
			return
		}
		c.use(forNew, "WithQueue(...)")
		c.queue = q
	}
}

// WithClock sets the clock used for timestamp windows, rate limits,
// the default dedupe store's TTLs and Event.ReceivedAt (default
// time.Now), in [New] and [Middleware]. Tests use it to pin time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.use(forRequests, "WithClock(nil)")
			c.fail("pass a clock such as time.Now, or leave WithClock out")
			return
		}
		c.use(forRequests, "WithClock(...)")
		c.clock, c.customClock = now, true
	}
}

// WithLogger sets where records are logged (default: nowhere; a nil l
// changes nothing). It applies to every constructor:
//
//   - [New] and [Middleware] log one record per request, with provider,
//     event ID, type, outcome, status and duration;
//   - a [MemoryQueue] logs failed attempts and dead letters, with
//     provider, event ID, type, attempt and error; [New] gives l to the
//     queue it builds;
//   - a [Router] logs, at debug level, each event it drops because no
//     route takes it, with provider, event ID and type.
//
// No record carries a secret, a signature or a body.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		c.use(forAll, "WithLogger(...)")
		if l != nil {
			c.logger = l
		}
	}
}

// WithHooks adds callbacks for metrics and alerting; see [Hooks]. It
// applies to [New], [Middleware] and [NewMemoryQueue]; [New] gives the
// hooks to the queue it builds, which calls OnEnqueued, OnHandled and
// OnDeadLetter (a MemoryQueue ignores the other fields). Hooks add up:
// every WithHooks and [WithDeadLetter] given fires, in the order given,
// so that metrics hooks and an alerting hook never replace each other.
func WithHooks(h Hooks) Option {
	return func(c *config) {
		c.use(forNew|forMiddleware|forQueue, "WithHooks(...)")
		c.hooks = c.hooks.Join(h)
		c.q.hooks = c.q.hooks.Join(h)
	}
}

// WithRateLimit limits all requests together to r per second with bursts
// of burst, before the body is read. Excess requests get 429 with a
// Retry-After.
func WithRateLimit(r rate.Limit, burst int) Option {
	return func(c *config) {
		c.use(forRequests, "WithRateLimit(%v, %d)", r, burst)
		if r <= 0 || burst < 1 {
			c.fail("need a positive rate and burst")
			return
		}
		c.limit.global = rate.NewLimiter(r, burst)
	}
}

// WithPerIPRateLimit limits each client address (IPv6: each /64) to r per
// second with bursts of burst. The client address is the peer address,
// or, behind proxies listed with [WithTrustedProxies], the right-most
// untrusted X-Forwarded-For entry. At most [DefaultMaxClients] addresses
// are tracked; the least recently seen is forgotten first.
func WithPerIPRateLimit(r rate.Limit, burst int) Option {
	return func(c *config) {
		c.use(forRequests, "WithPerIPRateLimit(%v, %d)", r, burst)
		if r <= 0 || burst < 1 {
			c.fail("need a positive rate and burst")
			return
		}
		c.limit.perIP = newIPLimiter(r, burst, DefaultMaxClients)
	}
}

// WithTrustedProxies lists the proxies (CIDR prefixes or single addresses)
// whose X-Forwarded-For the per-IP rate limit believes, and whose
// X-Forwarded-Proto: https says that a delivery arrived over TLS (see
// [SharedTokenVerifier] and [WithRequireTLS]). List only proxies you run:
// a client that can reach the receiver directly from a listed address can
// pick its own rate-limit bucket, and claim HTTPS for a request it sent
// in clear.
func WithTrustedProxies(cidrs ...string) Option {
	return func(c *config) {
		c.use(forRequests, "WithTrustedProxies(%s)", quoteList(cidrs))
		ps, err := parseProxies(cidrs)
		if err != nil {
			c.failWith(err)
			return
		}
		c.proxies = append(c.proxies, ps...)
	}
}

// WithRequireTLS makes every verifier, HMAC and asymmetric presets too,
// refuse a delivery that did not arrive over TLS, as shared-token presets
// (GitLab, Postmark, Okta; see [SharedTokenVerifier]) always do: the
// answer is 403 with [ErrInsecureTransport], before the body is read.
// "Over TLS" means the connection was TLS, or the peer is a proxy listed
// in [WithTrustedProxies] whose X-Forwarded-Proto says https. As for
// token presets, a loopback peer (127.0.0.0/8, ::1) whose request carries
// no forwarding header (X-Forwarded-For, X-Forwarded-Proto,
// X-Forwarded-Host, X-Real-Ip, Forwarded) is accepted over plain HTTP, so
// that local development needs no certificate; traffic that never leaves
// the host cannot be read on the network.
func WithRequireTLS() Option {
	return func(c *config) {
		c.use(forRequests, "WithRequireTLS()")
		c.requireTLS = true
	}
}

// WithAllowPlainHTTP lets a shared-token verifier (GitLab, Postmark, Okta)
// accept deliveries over plain HTTP from any peer. Use it only when TLS
// ends in front of the endpoint at something whose addresses cannot be
// listed with [WithTrustedProxies] (a platform router or load balancer
// with changing addresses) and nothing else can reach the endpoint. It
// costs the one check the receiver can make: if any hop carries the
// delivery in clear, anyone on that path can read the token and send any
// body with it until the token is rotated. The receiver logs a warning
// when it is built with it. It cannot be combined with [WithRequireTLS].
func WithAllowPlainHTTP() Option {
	return func(c *config) {
		c.use(forRequests, "WithAllowPlainHTTP()")
		c.allowPlain = true
	}
}

// WithRetryAfter sets the Retry-After sent with 409 and 503 answers
// (default [DefaultRetryAfter]); 429 answers carry the rate limiter's own
// wait. It is rounded up to whole seconds.
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) {
		c.use(forRequests, "WithRetryAfter(%v)", d)
		if d <= 0 {
			c.fail("must be positive")
			return
		}
		c.retryAfter = d
	}
}

// WithAckTimeout bounds each call that a request makes, before it is
// answered, to a dedupe store given with [WithStore] or a queue given with
// [WithQueue]: reserve, enqueue, commit or release (default
// [DefaultAckTimeout]). A reserve or enqueue that runs out of time is
// answered 503. Senders give up after a few seconds (Slack: 3 s), so keep
// it short. The in-memory store and queue never block and need no bound.
func WithAckTimeout(d time.Duration) Option {
	return func(c *config) {
		c.use(forRequests, "WithAckTimeout(%v)", d)
		if d <= 0 {
			c.fail("must be positive")
			return
		}
		c.ackTimeout = d
	}
}

// WithPublicURL sets the scheme and host the sender called, such as
// "https://hooks.example.com", for schemes that sign the URL (Twilio,
// Square, HubSpot v2 and v3, and custom schemes whose template holds
// {url}).
// The request's path and query are appended. By default the URL is built
// from "https://", the request's Host and its path and query, which is
// wrong behind a proxy that rewrites the host or path.
func WithPublicURL(base string) Option {
	return func(c *config) {
		c.use(forRequests, "WithPublicURL(%q)", base)
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.fail("want an absolute http or https URL")
			return
		}
		c.publicURL = strings.TrimRight(base, "/")
	}
}
