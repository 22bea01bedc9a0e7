package riverkit

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookguard/hookguard"
)

// Defaults.
const (
	// DefaultTable is the table of the dedupe records unless [WithTable]
	// names another.
	DefaultTable = "hookguard_dedupe"
	// DefaultQueue is the River queue the events go to; see [WithQueue].
	DefaultQueue = "hookguard"
	// DefaultWorkers is how many handlers run at once in one process; see
	// [WithWorkers]. River starts at most this many jobs per fetch
	// cooldown (100ms), so it also bounds the rate one process handles:
	// 1,000 events a second.
	DefaultWorkers = 100
	// DefaultRescueAfter is how long a job may stay running before
	// River's rescuer takes it for stranded (its worker died) and
	// retries it elsewhere; see [WithRescueAfter].
	DefaultRescueAfter = 5 * time.Minute
	// DefaultExpireEvery is how often the maintenance job deletes expired
	// dedupe records and releases the records of jobs River discarded
	// itself; see [WithMaintenance].
	DefaultExpireEvery = time.Minute
	// DefaultExpireLimit bounds how many expired records one maintenance
	// run deletes; see [WithMaintenance].
	DefaultExpireLimit = 10000
)

// Option configures [Migrate], [NewStore] and [NewQueue]. Each
// constructor refuses, with an error wrapping [ErrInvalidOption], an
// option that does not apply to it, and says which constructor it
// belongs to: [WithTable] serves all three (give them the same table);
// the others serve NewQueue only.
type Option func(*config)

// scope says which constructors an option applies to.
type scope uint8

const (
	forSchema scope = 1 << iota // Migrate and NewStore
	forQueue                    // NewQueue
)

type config struct {
	table string

	queue          string
	workers        int
	maxAttempts    int
	baseBackoff    time.Duration
	maxBackoff     time.Duration
	attemptTimeout time.Duration
	rescueAfter    time.Duration
	expireEvery    time.Duration
	expireLimit    int
	deadMax        int           // dead letters kept at most; see WithDeadLetterRetention
	deadAge        time.Duration // how long dead letters are kept at most
	hooks          hookguard.Hooks
	logger         *slog.Logger
	river          []func(*river.Config)

	building scope  // the constructor being built
	name     string // the option being applied, for error text
	err      error  // the first invalid option
}

// use records that the option name applies to the scopes in s, and
// refuses it when the constructor being built is not among them.
func (c *config) use(s scope, format string, args ...any) bool {
	c.name = fmt.Sprintf(format, args...)
	if c.building&s != 0 {
		return true
	}
	where := "NewQueue"
	if s == forSchema {
		where = "Migrate and NewStore"
	}
	c.invalidOption("%s configures %s; it does not apply here", c.name, where)
	return false
}

func (c *config) invalidOption(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// fail refuses the option being applied, saying what is allowed.
func (c *config) fail(why string) { c.invalidOption("%s: %s", c.name, why) }

var (
	tableRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$`)
	queueRE = regexp.MustCompile(`^[a-z0-9]+(?:[_-]?[a-z0-9]+)*$`) // River's rule; at most 64 bytes
)

// WithTable sets the table of the dedupe records (default
// [DefaultTable]), optionally qualified by a schema ("app.dedupe"). Names
// are plain lower-case identifiers: letters, digits and underscores, not
// starting with a digit. Give Migrate, NewStore and NewQueue the same
// table.
func WithTable(name string) Option {
	return func(c *config) {
		if !c.use(forSchema|forQueue, "WithTable(%q)", name) {
			return
		}
		if !tableRE.MatchString(name) {
			c.fail("use a lower-case identifier (letters, digits, underscores, at most 63), optionally schema.table")
			return
		}
		c.table = name
	}
}

// WithQueue sets the River queue the events are inserted into and worked
// from (default [DefaultQueue]). Every process that shares the name
// shares the work.
func WithQueue(name string) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithQueue(%q)", name) {
			return
		}
		if len(name) > 64 || !queueRE.MatchString(name) {
			c.fail("use lower-case letters and digits, single '_' or '-' between them, at most 64 bytes, as River requires")
			return
		}
		c.queue = name
	}
}

// WithWorkers sets how many handlers run at once in this process
// (River's MaxWorkers for the queue; default [DefaultWorkers]). River
// fetches new jobs at most once per fetch cooldown (100ms by default), up
// to the free workers, so n/0.1s bounds the events a second one process
// starts: give at least the intake rate times the cooldown.
//
// WithWorkers(0) makes an intake-only queue (see [NewQueue]): its River
// client is insert-only and never started, and the handler may be nil.
func WithWorkers(n int) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithWorkers(%d)", n) {
			return
		}
		if n < 0 || n > 10000 {
			c.fail("want 1 to 10000 workers, or 0 for a queue that only takes events in")
			return
		}
		c.workers = n
	}
}

// WithMaxAttempts sets how many times an event is tried before it is
// dead-lettered (default [hookguard.DefaultMaxAttempts]); it is the
// River job's max_attempts.
func WithMaxAttempts(n int) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithMaxAttempts(%d)", n) {
			return
		}
		if n < 1 {
			c.fail("an event must be tried at least once")
			return
		}
		c.maxAttempts = n
	}
}

// WithBackoff sets the wait before a retry, as the in-memory and Redis
// queues do: before retry n, a random duration in [0, min(maxWait,
// base*2^(n-1))) (full jitter). It is the River client's retry policy.
// Defaults: [hookguard.DefaultBaseBackoff], [hookguard.DefaultMaxBackoff].
// WithBackoff(0, 0) retries at once (for tests).
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithBackoff(%v, %v)", base, maxWait) {
			return
		}
		if base < 0 || maxWait < base {
			c.fail("want 0 <= base <= maxWait (WithBackoff(0, 0) retries at once)")
			return
		}
		c.baseBackoff, c.maxBackoff = base, maxWait
	}
}

// WithAttemptTimeout bounds each handler call: its context is cancelled
// after d (River's JobTimeout; default [hookguard.DefaultAttemptTimeout]).
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithAttemptTimeout(%v)", d) {
			return
		}
		if d <= 0 {
			c.fail("the timeout must be positive")
			return
		}
		c.attemptTimeout = d
	}
}

// WithRescueAfter sets how long a job may stay running before River's
// rescuer takes it for stranded and retries it (RescueStuckJobsAfter;
// default [DefaultRescueAfter]). It is the delay before the event of a
// worker process that died is handled elsewhere, plus up to 30 seconds
// (the rescuer's period). It must exceed the attempt timeout, or a live
// handler's event would be handed to a second worker.
func WithRescueAfter(d time.Duration) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithRescueAfter(%v)", d) {
			return
		}
		if d <= 0 {
			c.fail("the delay must be positive")
			return
		}
		c.rescueAfter = d
	}
}

// WithMaintenance sets how often the maintenance job runs (default
// [DefaultExpireEvery]) and how many expired dedupe records one run
// deletes at most (default [DefaultExpireLimit]). The job is a River
// periodic job, run by the leader of the processes that share the
// database; each run also releases the dedupe records of events whose
// job River discarded without the worker (the rescuer gives up a job
// whose last attempt's process died). every = 0 turns the job off.
func WithMaintenance(every time.Duration, limit int) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithMaintenance(%v, %d)", every, limit) {
			return
		}
		if every < 0 || (every > 0 && every < 100*time.Millisecond) || limit < 1 {
			c.fail("want every = 0 (off) or at least 100ms, and a limit of at least 1")
			return
		}
		c.expireEvery, c.expireLimit = every, limit
	}
}

// WithHooks adds hooks the queue calls: OnHandled after every attempt
// and OnDeadLetter for every event given up on. The other fields are
// ignored. Hooks add up, in the order given.
func WithHooks(h hookguard.Hooks) Option {
	return func(c *config) {
		if c.use(forQueue, "WithHooks(...)") {
			c.hooks = c.hooks.Join(h)
		}
	}
}

// WithDeadLetter adds a dead-letter hook. It runs after the job was
// discarded and the event's dedupe records released, in the process that
// discarded it, besides any other dead-letter hook set.
func WithDeadLetter(fn func(e hookguard.Event, err error)) Option {
	return func(c *config) {
		if c.use(forQueue, "WithDeadLetter(...)") {
			c.hooks = c.hooks.Join(hookguard.Hooks{OnDeadLetter: fn})
		}
	}
}

// WithLogger sets where the queue and its River client log (default
// slog.Default()). Records never carry an event body.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if c.use(forQueue, "WithLogger(...)") && l != nil {
			c.logger = l
		}
	}
}

// WithRiverConfig lets fn adjust the River client's configuration after
// NewQueue filled it in: add middleware (rivercontrib/otelriver), hooks,
// an error handler, retention periods. fn must leave Queues, Workers,
// MaxAttempts, RetryPolicy, JobTimeout and RescueStuckJobsAfter as they
// are (set them with this package's options); NewQueue refuses a
// configuration in which they changed.
func WithRiverConfig(fn func(*river.Config)) Option {
	return func(c *config) {
		if c.use(forQueue, "WithRiverConfig(...)") && fn != nil {
			c.river = append(c.river, fn)
		}
	}
}

func newConfig(building scope, opts []Option) (config, error) {
	c := config{
		table:          DefaultTable,
		queue:          DefaultQueue,
		workers:        DefaultWorkers,
		maxAttempts:    hookguard.DefaultMaxAttempts,
		baseBackoff:    hookguard.DefaultBaseBackoff,
		maxBackoff:     hookguard.DefaultMaxBackoff,
		attemptTimeout: hookguard.DefaultAttemptTimeout,
		rescueAfter:    DefaultRescueAfter,
		expireEvery:    DefaultExpireEvery,
		expireLimit:    DefaultExpireLimit,
		deadMax:        DefaultDeadLetterMax,
		deadAge:        DefaultDeadLetterAge,
		logger:         slog.Default(),
		building:       building,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.err == nil && building == forQueue && c.rescueAfter <= c.attemptTimeout {
		c.invalidOption("WithRescueAfter(%v) must exceed the attempt timeout (%v): River would rescue jobs whose handler is still running", c.rescueAfter, c.attemptTimeout)
	}
	return c, c.err
}
