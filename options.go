package hookguard

import (
	"fmt"
	"log/slog"
	"net/url"
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

// Option configures a [Receiver] or a [Middleware].
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	maxBody       int64
	store         dedupe.Store
	dedupe        bool // Middleware: dedupe only when a store was given
	dedupeTTL     time.Duration
	pendingTTL    time.Duration
	failClosed    bool
	contentDedupe bool
	endpoint      string
	queue         Queue
	queueOpts     []QueueOption
	clock         func() time.Time
	customClock   bool // WithClock was given: stores read clock too
	logger        *slog.Logger
	hooks         Hooks
	limit         limiter
	proxies       proxies
	retryAfter    time.Duration
	ackTimeout    time.Duration
	publicURL     string
}

func newConfig(opts []Option) (*config, error) {
	c := &config{
		maxBody:       DefaultMaxBodySize,
		dedupeTTL:     DefaultDedupeTTL,
		pendingTTL:    DefaultPendingTTL,
		contentDedupe: true,
		clock:         time.Now,
		logger:        slog.New(slog.DiscardHandler),
		retryAfter:    DefaultRetryAfter,
		ackTimeout:    DefaultAckTimeout,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// WithMaxBodySize sets the largest body accepted, in bytes (default
// [DefaultMaxBodySize], 1 MiB). Larger requests get 413 and are not read
// past the limit. GitHub sends up to 25 MB.
func WithMaxBodySize(n int64) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return invalid("WithMaxBodySize(%d): the limit must be at least 1 byte", n)
		}
		c.maxBody = n
		return nil
	})
}

// WithStore sets where event IDs are recorded for dedupe. A [Receiver]
// dedupes with an in-memory store by default; use a shared store (Redis)
// when several instances receive the same endpoint. [Middleware] dedupes
// only when given a store.
func WithStore(s dedupe.Store) Option {
	return optionFunc(func(c *config) error {
		if s == nil {
			return invalid("WithStore(nil): pass a dedupe.Store such as dedupe.NewMemory()")
		}
		c.store = s
		c.dedupe = true
		return nil
	})
}

// WithDedupeTTL sets how long an event ID is remembered once accepted
// (default [DefaultDedupeTTL], 72 h: Stripe retries for up to 3 days).
func WithDedupeTTL(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return invalid("WithDedupeTTL(%v): the TTL must be positive", d)
		}
		c.dedupeTTL = d
		return nil
	})
}

// WithPendingTTL sets how long an event ID stays reserved while its
// delivery is being accepted (default [DefaultPendingTTL]). It bounds how
// long a crashed instance can block the sender's retries.
func WithPendingTTL(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return invalid("WithPendingTTL(%v): the TTL must be positive", d)
		}
		c.pendingTTL = d
		return nil
	})
}

// WithFailClosed makes a dedupe store failure answer 503 (so the sender
// retries) and enqueue nothing. By default the receiver falls back to a
// local in-memory store, counts the failure with
// [Hooks.OnStoreFallback], and goes on accepting events: across several
// instances a duplicate may then get through, which at-least-once
// handlers tolerate anyway.
func WithFailClosed() Option {
	return optionFunc(func(c *config) error {
		c.failClosed = true
		return nil
	})
}

// WithContentDedupe sets whether deliveries are also deduped by a digest
// of their signed content where the preset gives one (default true): those
// whose scheme signs neither a timestamp nor the ID (GitHub, Shopify; see
// verify.Delivery.Replayable), and those that carry no event ID (Slack
// slash commands and interactive payloads). Without it, a captured request
// could be replayed under a fresh ID, or, without an ID, replayed as often
// as the replay window allows.
func WithContentDedupe(on bool) Option {
	return optionFunc(func(c *config) error {
		c.contentDedupe = on
		return nil
	})
}

// WithEndpoint scopes dedupe keys by name, so that two endpoints sharing a
// store do not see each other's IDs (GitHub delivery IDs are not unique
// across apps). Keys are "provider:endpoint:id:<id>" and
// "provider:endpoint:digest:<hex>"; without an endpoint the middle field is
// empty ("stripe::id:evt_1").
func WithEndpoint(name string) Option {
	return optionFunc(func(c *config) error {
		if strings.ContainsRune(name, ':') {
			return invalid("WithEndpoint(%q): the name must not contain ':'", name)
		}
		c.endpoint = name
		return nil
	})
}

// WithQueue makes a [Receiver] enqueue into q instead of its own
// [MemoryQueue]. The receiver then does not own q: its Shutdown does not
// shut q down. Pass a nil Handler to [New] with this option.
func WithQueue(q Queue) Option {
	return optionFunc(func(c *config) error {
		if q == nil {
			return invalid("WithQueue(nil)")
		}
		c.queue = q
		return nil
	})
}

// WithQueueOptions configures the [MemoryQueue] a [Receiver] builds for
// itself. It cannot be combined with [WithQueue].
func WithQueueOptions(opts ...QueueOption) Option {
	return optionFunc(func(c *config) error {
		c.queueOpts = append(c.queueOpts, opts...)
		return nil
	})
}

// WithClock sets the clock used for timestamp windows, rate limits and
// Event.ReceivedAt (default time.Now). Tests use it to pin time.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) error {
		if now == nil {
			return invalid("WithClock(nil)")
		}
		c.clock, c.customClock = now, true
		return nil
	})
}

// WithLogger sets where one record per request is logged (default:
// nowhere). Records carry provider, event ID, type, outcome, status and
// duration; never a secret, a signature or a body. A [Receiver] also gives
// it to the [MemoryQueue] it builds, which logs failed attempts and dead
// letters there (see [WithQueueLogger]).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	})
}

// WithHooks adds callbacks for metrics and alerting; see [Hooks]. Hooks
// add up: every WithHooks given fires, in the order given, and so do the
// queue's own hooks set with [WithQueueOptions] ([WithDeadLetter],
// [WithQueueHooks]), so that metrics hooks and an alerting hook never
// replace each other.
func WithHooks(h Hooks) Option {
	return optionFunc(func(c *config) error {
		c.hooks = c.hooks.Join(h)
		return nil
	})
}

// WithRateLimit limits all requests together to r per second with bursts
// of burst, before the body is read. Excess requests get 429 with a
// Retry-After.
func WithRateLimit(r rate.Limit, burst int) Option {
	return optionFunc(func(c *config) error {
		if r <= 0 || burst < 1 {
			return invalid("WithRateLimit(%v, %d): need a positive rate and burst", r, burst)
		}
		c.limit.global = rate.NewLimiter(r, burst)
		return nil
	})
}

// WithPerIPRateLimit limits each client address (IPv6: each /64) to r per
// second with bursts of burst. The client address is the peer address,
// or, behind proxies listed with [WithTrustedProxies], the right-most
// untrusted X-Forwarded-For entry. At most [DefaultMaxClients] addresses
// are tracked; the least recently seen is forgotten first.
func WithPerIPRateLimit(r rate.Limit, burst int) Option {
	return optionFunc(func(c *config) error {
		if r <= 0 || burst < 1 {
			return invalid("WithPerIPRateLimit(%v, %d): need a positive rate and burst", r, burst)
		}
		c.limit.perIP = newIPLimiter(r, burst, DefaultMaxClients)
		return nil
	})
}

// WithTrustedProxies lists the proxies (CIDR prefixes or single addresses)
// whose X-Forwarded-For the per-IP rate limit believes. List only proxies
// you run: a client that can reach the receiver directly from a listed
// address can pick its own rate-limit bucket.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) error {
		ps, err := parseProxies(cidrs)
		if err != nil {
			return err
		}
		c.proxies = append(c.proxies, ps...)
		return nil
	})
}

// WithRetryAfter sets the Retry-After sent with 409 and 503 answers
// (default [DefaultRetryAfter]); 429 answers carry the rate limiter's own
// wait. It is rounded up to whole seconds.
func WithRetryAfter(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return invalid("WithRetryAfter(%v): must be positive", d)
		}
		c.retryAfter = d
		return nil
	})
}

// WithAckTimeout bounds each call that a request makes, before it is
// answered, to a dedupe store given with [WithStore] or a queue given with
// [WithQueue]: reserve, enqueue, commit or release (default
// [DefaultAckTimeout]). A reserve or enqueue that runs out of time is
// answered 503. Senders give up after a few seconds (Slack: 3 s), so keep
// it short. The in-memory store and queue never block and need no bound.
func WithAckTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return invalid("WithAckTimeout(%v): must be positive", d)
		}
		c.ackTimeout = d
		return nil
	})
}

// WithPublicURL sets the scheme and host the sender called, such as
// "https://hooks.example.com", for schemes that sign the URL (Twilio,
// Square, HubSpot v2 and v3, and custom schemes whose template holds
// {url}).
// The request's path and query are appended. By default the URL is built
// from "https://", the request's Host and its path and query, which is
// wrong behind a proxy that rewrites the host or path.
func WithPublicURL(base string) Option {
	return optionFunc(func(c *config) error {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("WithPublicURL(%q): want an absolute http or https URL", base)
		}
		c.publicURL = strings.TrimRight(base, "/")
		return nil
	})
}
