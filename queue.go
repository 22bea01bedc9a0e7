package hookguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Queue takes verified events for later handling. [Receiver] answers 200
// only after Enqueue returned nil, so an implementation must not return nil
// before the event is safely held. Enqueue must not block for long: the
// sender is waiting for the answer. Return [ErrQueueFull] or
// [ErrShuttingDown] (or any other error) to have the sender retry later;
// the receiver answers 503 and does not mark the event seen.
//
// Implementations must be safe for concurrent use.
type Queue interface {
	Enqueue(ctx context.Context, e Event) error
}

// ErrHandlerPanic is wrapped by the error a [MemoryQueue] records when a
// handler panics. The panic counts as a failed attempt and is retried.
var ErrHandlerPanic = errors.New("hookguard: handler panicked")

// Defaults of a [MemoryQueue].
const (
	// DefaultQueueCapacity is how many events a queue holds; see
	// [WithCapacity].
	DefaultQueueCapacity = 1024
	// DefaultMaxAttempts is how often an event is tried; see
	// [WithMaxAttempts].
	DefaultMaxAttempts = 5
	// DefaultAttemptTimeout bounds one handler call; see
	// [WithAttemptTimeout].
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultBaseBackoff is the first retry's backoff ceiling; see
	// [WithBackoff].
	DefaultBaseBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the backoff; see [WithBackoff].
	DefaultMaxBackoff = time.Minute
)

// queueConfig is the part of config that a MemoryQueue reads.
type queueConfig struct {
	capacity       int
	workers        int
	enqueueTimeout time.Duration
	maxAttempts    int
	baseBackoff    time.Duration
	maxBackoff     time.Duration
	attemptTimeout time.Duration
	hooks          Hooks
	logger         *slog.Logger
}

// WithCapacity sets how many events the queue holds at most, counting
// those waiting, running and waiting for a retry (default
// [DefaultQueueCapacity]). n < 1 is a configuration error (see
// [NewMemoryQueue]).
func WithCapacity(n int) Option {
	return func(c *config) {
		c.use(forQueues, "WithCapacity(%d)", n)
		if n < 1 {
			c.fail("the queue must hold at least one event")
			return
		}
		c.q.capacity = n
	}
}

// WithWorkers sets how many goroutines run the handler (default
// runtime.GOMAXPROCS(0)). n < 1 is a configuration error (see
// [NewMemoryQueue]).
func WithWorkers(n int) Option {
	return func(c *config) {
		c.use(forQueues, "WithWorkers(%d)", n)
		if n < 1 {
			c.fail("at least one worker must run the handler")
			return
		}
		c.q.workers = n
	}
}

// WithEnqueueTimeout lets Enqueue wait up to d for room when the queue is
// full (default 0: a full queue fails at once with [ErrQueueFull]). Keep d
// well under the sender's timeout (Slack allows 3 s in all).
func WithEnqueueTimeout(d time.Duration) Option {
	return func(c *config) {
		c.use(forQueues, "WithEnqueueTimeout(%v)", d)
		c.q.enqueueTimeout = max(d, 0)
	}
}

// WithMaxAttempts sets how many times a failing event is tried before it
// goes to the dead-letter hook (default [DefaultMaxAttempts]). n < 1 is a
// configuration error (see [NewMemoryQueue]).
func WithMaxAttempts(n int) Option {
	return func(c *config) {
		c.use(forQueues, "WithMaxAttempts(%d)", n)
		if n < 1 {
			c.fail("an event must be tried at least once")
			return
		}
		c.q.maxAttempts = n
	}
}

// WithBackoff sets the retry backoff: before retry n the queue waits a
// random duration in [0, min(maxWait, base*2^(n-1))) ("full jitter").
// Defaults: [DefaultBaseBackoff], [DefaultMaxBackoff].
//
// WithBackoff(0, 0), like any zero base, retries at once, without
// waiting: it is meant for tests, which then see retries and dead letters
// without sleeping, while every other rule of the queue (attempt count,
// attempt timeout, [Permanent] errors, panic recovery, dead-letter hook)
// still applies. In production, a zero backoff hammers a failing
// dependency.
//
// A negative base or maxWait, or maxWait < base, is a configuration error
// (see [NewMemoryQueue]).
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *config) {
		c.use(forQueues, "WithBackoff(%v, %v)", base, maxWait)
		if base < 0 || maxWait < base {
			c.fail("want 0 <= base <= maxWait (WithBackoff(0, 0) retries at once)")
			return
		}
		c.q.baseBackoff, c.q.maxBackoff = base, maxWait
	}
}

// WithAttemptTimeout bounds each call of the handler: its context is
// cancelled after d (default [DefaultAttemptTimeout]). d <= 0 is a
// configuration error (see [NewMemoryQueue]).
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) {
		c.use(forQueues, "WithAttemptTimeout(%v)", d)
		if d <= 0 {
			c.fail("the timeout must be positive")
			return
		}
		c.q.attemptTimeout = d
	}
}

// WithDeadLetter adds a dead-letter hook; see [Hooks.OnDeadLetter]. It
// fires besides any other dead-letter hook set with WithDeadLetter or
// [WithHooks], never instead of one.
func WithDeadLetter(fn func(e Event, err error)) Option {
	return func(c *config) {
		c.use(forQueues, "WithDeadLetter(...)")
		c.q.hooks = c.q.hooks.Join(Hooks{OnDeadLetter: fn})
	}
}

// job is one accepted event. done makes its end (success or dead letter)
// happen exactly once, whoever gets there first: its worker or Shutdown.
type job struct {
	ev       Event
	done     atomic.Bool
	attempts atomic.Int32 // attempts started, for the dead-letter Event
	lastErr  error        // guarded by MemoryQueue.jobsMu
	// prev and next link the jobs not finished yet, guarded by
	// MemoryQueue.jobsMu: an intrusive list costs no allocation and no
	// hashing, where a map of jobs did both.
	prev, next *job
	// first is the first attempt's context, kept here so that the common
	// case (one attempt) allocates none.
	first attemptCtx
	// keys holds the event's DedupeKeys when the receiver's in-memory
	// path enqueued it (see enqueue).
	keys [2]string
}

// MemoryQueue is the default [Queue]: a bounded in-process buffer served by
// a fixed pool of workers that call a [Handler], retry failures with
// exponential backoff and full jitter, recover panics, and hand every event
// they give up on to the dead-letter hook.
//
// WARNING: the buffer lives in memory. If the process crashes, events that
// were acknowledged to the sender but not yet handled are lost; call
// [MemoryQueue.Shutdown] on a clean stop so that none is lost silently.
//
// MemoryQueue is safe for concurrent use. Its workers run until Shutdown.
type MemoryQueue struct {
	h   Handler
	cfg queueConfig

	ch    chan *job
	slots chan struct{} // one token per event held: the capacity bound

	mu      sync.RWMutex // Enqueue holds R while adding; Shutdown takes W to seal
	closed  bool
	closing chan struct{} // closed when Shutdown starts: wakes waiting Enqueues
	drained chan struct{} // closed when every worker has returned

	life    context.Context // cancelled when Shutdown gives up; see stopAttempts
	stop    context.CancelFunc
	workers []*worker

	jobsMu sync.Mutex
	jobs   job            // sentinel of the list of every event accepted and not finished
	open   sync.WaitGroup // one count per accepted event, done after its hooks ran

	wg       sync.WaitGroup
	shutOnce sync.Once
}

var _ Queue = (*MemoryQueue)(nil)

// NewMemoryQueue starts a queue whose workers call h. Stop it with
// [MemoryQueue.Shutdown].
//
// It takes [WithCapacity], [WithWorkers], [WithEnqueueTimeout],
// [WithMaxAttempts], [WithBackoff], [WithAttemptTimeout],
// [WithDeadLetter], [WithHooks] and [WithLogger]. It returns
// [ErrNilHandler] if h is nil, and an error wrapping [ErrInvalidOption]
// that names the first option, in the order given, that has an invalid
// value (a worker count below one, say) or does not apply to a queue
// ([WithMaxBodySize], say); then no worker starts.
func NewMemoryQueue(h Handler, opts ...Option) (*MemoryQueue, error) {
	cfg, err := newConfig(forQueue, opts)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, ErrNilHandler
	}
	return startMemoryQueue(h, cfg.q), nil
}

// startMemoryQueue starts a queue with a checked configuration.
func startMemoryQueue(h Handler, cfg queueConfig) *MemoryQueue {
	q := &MemoryQueue{
		h:       h,
		cfg:     cfg,
		ch:      make(chan *job, cfg.capacity),
		slots:   make(chan struct{}, cfg.capacity),
		closing: make(chan struct{}),
		drained: make(chan struct{}),
	}
	q.jobs.prev, q.jobs.next = &q.jobs, &q.jobs
	q.life, q.stop = context.WithCancel(context.Background())
	q.workers = make([]*worker, cfg.workers)
	q.wg.Add(cfg.workers)
	for i := range q.workers {
		w := &worker{q: q}
		q.workers[i] = w
		go w.work()
	}
	return q
}

// Enqueue adds e to the queue. It fails with [ErrShuttingDown] once
// Shutdown has begun, and with [ErrQueueFull] when the queue holds its
// capacity of events (after waiting up to the [WithEnqueueTimeout] bound,
// or until ctx ends).
func (q *MemoryQueue) Enqueue(ctx context.Context, e Event) error {
	if err := q.enqueue(ctx, e, nil); err != nil {
		return err
	}
	q.cfg.hooks.enqueued(e) // outside q.mu, as Hooks promise
	return nil
}

// enqueue adds e. keys, when e comes from a receiver that releases the
// records of dead letters, are e's dedupe keys, copied into the job: the
// receiver's in-memory path leaves e.DedupeKeys to be set here, so that
// they cost no allocation of their own.
func (q *MemoryQueue) enqueue(ctx context.Context, e Event, keys []string) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrShuttingDown
	}
	select {
	case q.slots <- struct{}{}:
	default:
		if q.cfg.enqueueTimeout <= 0 {
			return ErrQueueFull
		}
		t := time.NewTimer(q.cfg.enqueueTimeout)
		defer t.Stop()
		select {
		case q.slots <- struct{}{}:
		case <-t.C:
			return ErrQueueFull
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
		case <-q.closing:
			return ErrShuttingDown
		}
	}
	j := &job{ev: e}
	if len(keys) > 0 && e.rel != nil {
		n := copy(j.keys[:], keys)
		j.ev.DedupeKeys = j.keys[:n:n]
	}
	q.open.Add(1)
	q.jobsMu.Lock()
	j.prev, j.next = q.jobs.prev, &q.jobs
	q.jobs.prev.next = j
	q.jobs.prev = j
	q.jobsMu.Unlock()
	// Never blocks: ch has room for every slot.
	q.ch <- j
	return nil
}

// Len returns how many events the queue holds: waiting, running, or
// waiting for a retry.
func (q *MemoryQueue) Len() int { return len(q.slots) }

// Cap returns the queue's capacity.
func (q *MemoryQueue) Cap() int { return cap(q.slots) }

// Shutdown stops the queue. New events are refused with
// [ErrShuttingDown] at once. The workers go on handling the buffered
// events, running attempts and pending retries until all are done, and
// Shutdown returns nil. If ctx ends first, handler contexts are cancelled,
// retries waiting for their backoff are abandoned, and every event not yet
// done (buffered, running or waiting to retry) is handed to the
// dead-letter hook before Shutdown returns ctx's error: nothing accepted
// disappears without a trace. A handler that ignores its context may still
// be running when Shutdown returns; its outcome is then not reported again.
//
// Shutdown may be called more than once and concurrently.
func (q *MemoryQueue) Shutdown(ctx context.Context) error {
	q.shutOnce.Do(func() {
		close(q.closing)
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		// No Enqueue can send any more: every one that saw closed false
		// has released q.mu. Workers drain ch and return.
		close(q.ch)
		go func() {
			q.wg.Wait()
			close(q.drained)
		}()
	})
	select {
	case <-q.drained:
		q.stopAttempts()
		return nil
	case <-ctx.Done():
	}
	q.stopAttempts()
	// Every job not finished yet, wherever it is (buffered, taken by a
	// worker, running, waiting for a backoff), is in q.jobs.
	q.jobsMu.Lock()
	type left struct {
		j   *job
		err error
	}
	var ls []left
	for j := q.jobs.next; j != &q.jobs; j = j.next {
		ls = append(ls, left{j, j.lastErr})
	}
	q.jobsMu.Unlock()
	for _, l := range ls {
		q.finish(l.j, abandoned(l.err))
	}
	// A worker that finished a job just before may still be calling its
	// dead-letter hook; wait for it, so the hook has seen every event by
	// the time Shutdown returns. Workers skip the finished jobs still in
	// the buffer.
	q.open.Wait()
	return fmt.Errorf("hookguard: queue shutdown: %w", ctx.Err())
}

// abandoned is the dead-letter error of an event cut short by Shutdown.
func abandoned(last error) error {
	if last == nil {
		return fmt.Errorf("%w: event not finished by the shutdown deadline", ErrShuttingDown)
	}
	return fmt.Errorf("%w: retry abandoned: %w", ErrShuttingDown, last)
}

// stopAttempts cancels q.life and the attempt each worker runs.
func (q *MemoryQueue) stopAttempts() {
	q.stop()
	for _, w := range q.workers {
		if c := w.cur.Load(); c != nil {
			c.cancel(context.Canceled)
		}
	}
}

func (w *worker) work() {
	q := w.q
	defer q.wg.Done()
	// A plain receive until Shutdown closes ch: a select on ch and a
	// "sealed" channel locked both channels on every event.
	for j := range q.ch {
		q.run(w, j)
	}
}

// run takes one event through its attempts.
func (q *MemoryQueue) run(w *worker, j *job) {
	var err error
	for attempt := 1; ; attempt++ {
		if q.life.Err() != nil || j.done.Load() {
			q.finish(j, abandoned(err))
			return
		}
		j.attempts.Store(int32(attempt))
		var d time.Duration
		d, err = q.attempt(w, j, attempt)
		ev := j.ev
		ev.Attempt = attempt
		if err == nil {
			// Free the slot first: once OnHandled runs, there is room.
			if q.finish(j, nil) {
				q.cfg.hooks.handled(ev, attempt, nil, d)
			}
			return
		}
		if j.done.Load() {
			return // Shutdown gave up on it while it ran, and reported it
		}
		q.cfg.hooks.handled(ev, attempt, err, d)
		if IsPermanent(err) || attempt >= q.cfg.maxAttempts {
			q.finish(j, err)
			return
		}
		q.jobsMu.Lock()
		j.lastErr = err
		q.jobsMu.Unlock()
		t := time.NewTimer(q.backoff(attempt))
		select {
		case <-t.C:
		case <-q.life.Done():
			t.Stop()
			q.finish(j, abandoned(err))
			return
		}
	}
}

// attempt calls the handler once, with a per-attempt timeout, turning a
// panic into an error.
func (q *MemoryQueue) attempt(w *worker, j *job, attempt int) (d time.Duration, err error) {
	ev := j.ev
	ev.Attempt = attempt
	ev.rel = nil // the handler gets a plain value
	ctx := &j.first
	if attempt > 1 {
		ctx = new(attemptCtx) // the earlier attempt's context stays cancelled
	}
	w.begin(ctx, q.cfg.attemptTimeout)
	defer w.end(ctx)
	var start time.Time
	if q.cfg.hooks.OnHandled != nil {
		start = time.Now()
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: %v", ErrHandlerPanic, p)
			}
		}()
		err = q.h.HandleEvent(ctx, ev)
	}()
	if !start.IsZero() {
		d = time.Since(start)
	}
	if err != nil {
		q.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "hookguard: handler failed",
			slog.String("provider", ev.Provider), slog.String("event_id", ev.ID),
			slog.String("type", ev.Type), slog.Int("attempt", attempt), slog.Any("error", err))
	}
	return d, err
}

// backoff is the full-jitter wait before retry number attempt; 0 when
// the base backoff is 0 ([WithBackoff](0, 0)).
func (q *MemoryQueue) backoff(attempt int) time.Duration {
	if q.cfg.baseBackoff == 0 {
		return 0
	}
	ceil := q.cfg.maxBackoff
	if shift := attempt - 1; shift < 62 {
		if d := q.cfg.baseBackoff << shift; d > 0 && d < ceil {
			ceil = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceil))) + 1
}

// finish ends j exactly once: frees its slot and, when err is not nil,
// reports it as a dead letter. It reports whether this call ended j.
func (q *MemoryQueue) finish(j *job, err error) bool {
	if !j.done.CompareAndSwap(false, true) {
		return false
	}
	defer q.open.Done()
	q.jobsMu.Lock()
	j.prev.next, j.next.prev = j.next, j.prev
	j.prev, j.next = nil, nil
	q.jobsMu.Unlock()
	<-q.slots
	if err == nil {
		return true
	}
	q.cfg.logger.LogAttrs(context.Background(), slog.LevelError, "hookguard: event dead-lettered",
		slog.String("provider", j.ev.Provider), slog.String("event_id", j.ev.ID),
		slog.String("type", j.ev.Type), slog.Any("error", err))
	ev := j.ev
	ev.Attempt = int(j.attempts.Load())
	if c := ev.rel; c != nil {
		// Before the hooks: once they run, a redelivery is taken in.
		ev.rel = nil
		c.deadLettered(&ev)
	}
	q.cfg.hooks.deadLetter(ev, err)
	return true
}
