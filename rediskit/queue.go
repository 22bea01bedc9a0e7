package rediskit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/storeargs"
)

// Defaults of a [Queue].
const (
	// DefaultName names the queue's keys; see [WithName].
	DefaultName = "hookguard"
	// DefaultGroup is the consumer group; see [WithGroup].
	DefaultGroup = "workers"
	// DefaultWorkers is how many handlers run at once; see [WithWorkers].
	DefaultWorkers = 8
	// DefaultVisibilityTimeout is how long an entry of a consumer that
	// stopped waits before another consumer reclaims it; see
	// [WithVisibilityTimeout].
	DefaultVisibilityTimeout = 30 * time.Second
	// DefaultBlock bounds one blocking read; see [WithBlock].
	DefaultBlock = time.Second
	// DefaultTrimInterval is how often the stream is trimmed; see
	// [WithTrim].
	DefaultTrimInterval = time.Minute
)

// QueueOption configures a [Queue].
type QueueOption func(*queueConfig)

type queueConfig struct {
	name           string
	group          string
	consumer       string
	workers        int
	maxAttempts    int
	baseBackoff    time.Duration
	maxBackoff     time.Duration
	attemptTimeout time.Duration
	visibility     time.Duration
	block          time.Duration
	trimEvery      time.Duration
	retention      time.Duration
	hooks          hookguard.Hooks
	logger         *slog.Logger
	waitReplicas   int           // 0: no WAIT; see WithWaitReplicas
	waitTimeout    time.Duration // WAIT's timeout
	deadMax        int           // dead letters kept at most; see WithDeadLetterRetention
	deadAge        time.Duration // how long dead letters are kept at most
	format         int           // entry format written; see WithEntryFormat
	compress       bool          // see WithCompression
	shards         int           // see WithShards
	formerShards   int           // see WithFormerShards; 0 when not set
	err            error         // the first invalid option, for NewQueue to report
}

// invalidOption records the first invalid option's error.
func (c *queueConfig) invalidOption(format string, args ...any) {
	if c.err == nil {
		c.err = invalid(format, args...)
	}
}

// WithName sets the name in the queue's keys (default [DefaultName]):
// the stream "hookguard:{NAME}:events", the dead-letter stream
// "hookguard:{NAME}:dead", the attempt counts "hookguard:{NAME}:attempts"
// and the dedupe records of [Queue.Store], "hookguard:{NAME}:seen:...".
// The braces make NAME a Redis Cluster hash tag: all of them live in one
// slot, as the atomic reserve-and-enqueue script requires. An empty name,
// or one that holds a brace, is a configuration error (see [NewQueue]).
func WithName(name string) QueueOption {
	return func(c *queueConfig) {
		if name == "" || strings.ContainsAny(name, "{}") {
			c.invalidOption("WithName(%q): the name must be non-empty and hold no brace", name)
			return
		}
		c.name = name
	}
}

// WithGroup sets the consumer group (default [DefaultGroup]). Processes
// that share a group share the work; each group gets every event. An
// empty group is a configuration error (see [NewQueue]).
func WithGroup(group string) QueueOption {
	return func(c *queueConfig) {
		if group == "" {
			c.invalidOption("WithGroup(%q): the consumer group must be non-empty", group)
			return
		}
		c.group = group
	}
}

// WithConsumer sets this process's consumer name (default: host name,
// process ID and a random suffix, unique per process). Two live processes
// must never share a name: each would take the other's entries for its own.
// An empty name is a configuration error (see [NewQueue]).
func WithConsumer(name string) QueueOption {
	return func(c *queueConfig) {
		if name == "" {
			c.invalidOption("WithConsumer(%q): the consumer name must be non-empty", name)
			return
		}
		c.consumer = name
	}
}

// WithWorkers sets how many handlers run at once in this process (default
// [DefaultWorkers]). WithWorkers(0) makes an intake-only queue: this
// process reads nothing from the consumer group and runs no handler (the
// handler may then be nil), but Enqueue, EnqueueOnce, the dead-letter
// methods, Trim and the periodic trim ([WithTrim]) work; processes with
// workers handle what it takes in. n < 0 is a configuration error (see
// [NewQueue]).
func WithWorkers(n int) QueueOption {
	return func(c *queueConfig) {
		if n < 0 {
			c.invalidOption("WithWorkers(%d): want at least one worker, or 0 for a queue that only takes events in", n)
			return
		}
		c.workers = n
	}
}

// WithMaxAttempts sets how many times an event is tried before it is
// dead-lettered (default [hookguard.DefaultMaxAttempts]). n < 1 is a
// configuration error (see [NewQueue]).
func WithMaxAttempts(n int) QueueOption {
	return func(c *queueConfig) {
		if n < 1 {
			c.invalidOption("WithMaxAttempts(%d): an event must be tried at least once", n)
			return
		}
		c.maxAttempts = n
	}
}

// WithBackoff sets the retry backoff: before retry n the worker waits a
// random duration in [0, min(maxWait, base*2^(n-1))) (full jitter).
// Defaults: [hookguard.DefaultBaseBackoff], [hookguard.DefaultMaxBackoff].
// base <= 0 or maxWait < base is a configuration error (see [NewQueue]).
func WithBackoff(base, maxWait time.Duration) QueueOption {
	return func(c *queueConfig) {
		if base <= 0 || maxWait < base {
			c.invalidOption("WithBackoff(%v, %v): want 0 < base <= maxWait", base, maxWait)
			return
		}
		c.baseBackoff, c.maxBackoff = base, maxWait
	}
}

// WithAttemptTimeout bounds each handler call (default
// [hookguard.DefaultAttemptTimeout]). d <= 0 is a configuration error
// (see [NewQueue]).
func WithAttemptTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) {
		if d <= 0 {
			c.invalidOption("WithAttemptTimeout(%v): the timeout must be positive", d)
			return
		}
		c.attemptTimeout = d
	}
}

// WithVisibilityTimeout sets how long an entry held by a consumer that
// stopped (crashed, or was cut off from Redis) stays idle before another
// consumer reclaims it (default [DefaultVisibilityTimeout]). A live
// consumer refreshes its entries every third of d, however long its
// handler runs, so d does not bound handler time; it is the delay before a
// dead consumer's events are retried elsewhere. d < 30ms is a
// configuration error (see [NewQueue]).
func WithVisibilityTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) {
		if d < 30*time.Millisecond {
			c.invalidOption("WithVisibilityTimeout(%v): the timeout must be at least 30ms", d)
			return
		}
		c.visibility = d
	}
}

// WithBlock bounds one blocking read of new entries (default
// [DefaultBlock]). Shutdown waits up to d for the read in progress.
// d < 1ms is a configuration error (see [NewQueue]).
func WithBlock(d time.Duration) QueueOption {
	return func(c *queueConfig) {
		if d < time.Millisecond {
			c.invalidOption("WithBlock(%v): a blocking read must last at least 1ms", d)
			return
		}
		c.block = d
	}
}

// WithTrim sets how often the stream is trimmed (default
// [DefaultTrimInterval]; 0 turns trimming off) and how long handled
// entries are kept at least (default 0). Trimming removes, with XTRIM
// MINID, only entries older than both the retention and every entry that
// a consumer group still needs (pending or not yet delivered).
func WithTrim(every, retention time.Duration) QueueOption {
	return func(c *queueConfig) { c.trimEvery, c.retention = max(every, 0), max(retention, 0) }
}

// WithEntryFormat sets how the queue writes stream entries: 2 (the
// default), the event in one binary value, or 1, a field per part, as
// versions before format 2 wrote and read them. Every version since reads
// both. Use 1 for the time of a rolling upgrade from such a version, in
// which older processes still read the stream (they dead-letter entries
// of format 2 they cannot read), then drop the option. Events replayed
// from the dead-letter stream are written in format 2 either way. Another
// value is a configuration error (see [NewQueue]).
func WithEntryFormat(v int) QueueOption {
	return func(c *queueConfig) {
		if v != 1 && v != 2 {
			c.invalidOption("WithEntryFormat(%d): the entry format is 1 or 2", v)
			return
		}
		c.format = v
	}
}

// WithCompression sets whether the queue compresses event bodies
// (default true): a body of 512 bytes or more is stored DEFLATE-compressed
// (flate.BestSpeed) when that saves an eighth of it, as it does for JSON.
// Compressing moves work from Redis to the receivers and workers: at 1 KiB
// of JSON, Redis copies a third of the bytes at every step (the script's
// arguments, XADD, the append-only file, replication, XREADGROUP's reply)
// and holds a third of the memory, for about 11 µs of CPU in the receiver
// and 6 µs in the worker per event. Keep it on when Redis is the part that
// limits (one primary, or memory); turn it off when the receivers' CPU
// does and Redis has room, as on a Cluster with primaries to spare. Either
// way, every version that reads format 2 reads both.
func WithCompression(on bool) QueueOption {
	return func(c *queueConfig) { c.compress = on }
}

// WithHooks adds hooks the queue calls: OnHandled after every attempt
// and OnDeadLetter for every event moved to the dead-letter stream. The
// other fields are ignored. Hooks add up: those of every WithHooks and
// [WithDeadLetter] fire, in the order given.
func WithHooks(h hookguard.Hooks) QueueOption {
	return func(c *queueConfig) { c.hooks = c.hooks.Join(h) }
}

// WithDeadLetter adds a dead-letter hook. It runs after the event was
// moved to the dead-letter stream, in the process that moved it, besides
// any other dead-letter hook set.
func WithDeadLetter(fn func(e hookguard.Event, err error)) QueueOption {
	return func(c *queueConfig) { c.hooks = c.hooks.Join(hookguard.Hooks{OnDeadLetter: fn}) }
}

// WithLogger sets where the queue logs durability warnings at start,
// failed attempts, dead letters, lost events and Redis errors (default
// slog.Default()).
// Records never carry an event body.
func WithLogger(l *slog.Logger) QueueOption {
	return func(c *queueConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// Queue is a durable [hookguard.Queue] on a Redis stream, shared by every
// process that uses the same name and group. Enqueue is one XADD; workers
// read with XREADGROUP, acknowledge with XACK only after the handler
// succeeded, retry failures with backoff, reclaim with XAUTOCLAIM the
// entries of consumers that stopped, and move an event that failed its
// last attempt to a dead-letter stream. See the package documentation for
// sizing and for what durability needs from Redis.
//
// Queue is also a [hookguard.AtomicQueue]: a Receiver given both the queue
// and [Queue.Store] reserves the event's IDs and stores it in one script.
//
// Each stream entry holds the event's ID ("id") and the whole event in
// one binary value ("e"), its body compressed when that saves enough
// (see [WithCompression]):
// Redis then handles two values per event instead of nine. Entries written
// by earlier versions, a field per part, are still read; for a rolling
// upgrade from such a version, whose processes cannot read the new
// entries, see [WithEntryFormat]. Dead letters keep a field per part.
//
// Queue is safe for concurrent use. Stop it with [Queue.Shutdown].
type Queue struct {
	rdb   redis.UniversalClient
	h     hookguard.Handler
	cfg   queueConfig
	store *Store

	in     *intake  // sends the intake scripts of concurrent deliveries together
	cur    *layout  // the shards events go to
	former *layout  // WithFormerShards: old homes looked up at intake; nil when not set
	all    []*shard // cur's shards, then those of every other count registered (see layouts)

	life    context.Context // parent of handler contexts; cancelled when a Shutdown deadline passes
	kill    context.CancelFunc
	reading context.Context // cancelled when Shutdown starts
	stopRd  context.CancelFunc
	bgCtx   context.Context // heartbeat and trimming; cancelled when the workers are done
	stopBg  context.CancelFunc

	mu     sync.RWMutex // Enqueue holds R; Shutdown takes W to close
	closed bool

	free chan struct{} // one token per idle worker
	jobs chan entry
	acks chan ackReq // workers' acknowledgements, sent in batches by acker

	// heldMu guards each shard's held map, which maps the IDs of the
	// entries this process holds there to whether it has let go of them:
	// true from the moment it starts to acknowledge, dead-letter or hand
	// back the entry, so that the heartbeat does not take the entry's
	// leaving for a reclaim by another consumer.
	heldMu sync.Mutex

	regMu      sync.Mutex  // serialises register
	registered atomic.Bool // the shard count is in the registry; see register

	lost      atomic.Int64 // pending entries found deleted from the stream; see Lost
	takenOver atomic.Int64 // held entries found reclaimed by another consumer; see TakenOver

	workers  sync.WaitGroup
	bg       sync.WaitGroup
	done     chan struct{} // closed when workers and background goroutines are done
	shutOnce sync.Once
}

// ackReq asks the acker to acknowledge an entry; done is closed once it
// tried.
type ackReq struct {
	sh      *shard
	id      string
	retried bool // the entry has an attempt count to forget
	done    chan struct{}
}

// entry is one stream entry taken by this consumer.
type entry struct {
	sh       *shard
	id       string
	vals     map[string]any
	attempts int  // attempts made before this process took it
	counted  bool // the entry has an attempt count in Redis, to forget when it is acknowledged
}

var (
	_ hookguard.Queue       = (*Queue)(nil)
	_ hookguard.AtomicQueue = (*Queue)(nil)
)

// NewQueue creates the consumer group if it is missing, checks and logs
// whether the server may lose events (see [CheckDurability]), and starts
// the workers, which call h. It fails when Redis cannot be reached within
// ctx. With WithWorkers(0) (intake only) it creates no consumer group and
// starts no worker: h may be nil; it checks that Redis answers instead.
//
// Before it touches Redis, NewQueue returns an error wrapping
// [ErrInvalidOption] that names the first invalid option and its value,
// [ErrNilClient] if rdb is nil, and an error wrapping
// [hookguard.ErrNilHandler] if h is nil and the queue has workers. It
// never panics on a value that may come from configuration.
func NewQueue(ctx context.Context, rdb redis.UniversalClient, h hookguard.Handler, opts ...QueueOption) (*Queue, error) {
	cfg := queueConfig{
		name:           DefaultName,
		group:          DefaultGroup,
		workers:        DefaultWorkers,
		maxAttempts:    hookguard.DefaultMaxAttempts,
		baseBackoff:    hookguard.DefaultBaseBackoff,
		maxBackoff:     hookguard.DefaultMaxBackoff,
		attemptTimeout: hookguard.DefaultAttemptTimeout,
		visibility:     DefaultVisibilityTimeout,
		block:          DefaultBlock,
		trimEvery:      DefaultTrimInterval,
		deadMax:        DefaultDeadLetterMax,
		deadAge:        DefaultDeadLetterAge,
		format:         2,
		compress:       true,
		shards:         1,
		logger:         slog.Default(),
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch {
	case cfg.err != nil:
		return nil, cfg.err
	case cfg.formerShards == cfg.shards:
		return nil, invalid("WithFormerShards(%d): the queue has %d shards already; set it only while moving from another count", cfg.formerShards, cfg.shards)
	case rdb == nil:
		return nil, ErrNilClient
	case h == nil && cfg.workers > 0:
		return nil, fmt.Errorf("rediskit: NewQueue needs a Handler for its workers (or WithWorkers(0) for a queue that only takes events in): %w", hookguard.ErrNilHandler)
	}
	if cfg.consumer == "" {
		cfg.consumer = consumerName()
	}
	cur := newLayout(cfg.name, cfg.shards)
	store, err := NewStore(rdb, WithPrefix(cur.shards[0].seen))
	if err != nil {
		return nil, err
	}
	store.layout = cur
	q := &Queue{
		rdb:   rdb,
		h:     h,
		cfg:   cfg,
		store: store,
		cur:   cur,
		all:   cur.shards,
		free:  make(chan struct{}, cfg.workers),
		jobs:  make(chan entry),
		acks:  make(chan ackReq, cfg.workers),
		done:  make(chan struct{}),
	}
	if cfg.formerShards > 0 {
		q.former = newLayout(cfg.name, cfg.formerShards)
	}
	if err := q.layouts(ctx); err != nil {
		return nil, err
	}
	if cfg.workers > 0 {
		for _, s := range q.all {
			err = rdb.XGroupCreateMkStream(ctx, s.Stream, cfg.group, "0").Err()
			if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
				return nil, fmt.Errorf("rediskit: create consumer group %q on %q: %w", cfg.group, s.Stream, err)
			}
		}
	}
	// Intake only: the workers' processes create the group (at "0", so
	// they read what was taken in before), and a stream without groups is
	// never trimmed.
	LogDurability(ctx, rdb, cfg.logger)
	q.in = newIntake(rdb)

	q.life, q.kill = context.WithCancel(context.Background())
	q.reading, q.stopRd = context.WithCancel(context.Background())
	q.bgCtx, q.stopBg = context.WithCancel(context.Background())
	for range cfg.workers {
		q.free <- struct{}{}
	}
	q.workers.Add(cfg.workers)
	for range cfg.workers {
		go q.work()
	}
	if cfg.workers > 0 { // intake only: nothing to read, hold, acknowledge or refresh
		var fetchers sync.WaitGroup
		fetchers.Add(len(q.all))
		for _, s := range q.all {
			go q.fetch(s, &fetchers)
		}
		go func() {
			fetchers.Wait() // they end when Shutdown begins
			close(q.jobs)   // the fetchers were its only senders; the workers end
		}()
		q.bg.Add(2)
		go q.heartbeat()
		go q.acker()
	} else {
		close(q.jobs)
	}
	if cfg.trimEvery > 0 {
		q.bg.Add(1)
		go q.trimLoop()
	}
	go func() {
		q.workers.Wait()
		close(q.acks)      // the workers were its only senders; the acker ends
		<-q.reading.Done() // Shutdown began; with workers, it has when they are done
		q.stopBg()
		q.bg.Wait()
		q.in.wait() // a pipeline still in flight for a caller that gave up
		q.kill()    // release the handler contexts' parent
		close(q.done)
	}()
	return q, nil
}

// consumerName is unique per process: host, PID and random bytes.
func consumerName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + newNonce()[:8]
}

// Consumer returns this process's consumer name.
func (q *Queue) Consumer() string { return q.cfg.consumer }

// Stream returns the key of the event stream of the first shard, the
// only one unless [WithShards] says otherwise (see [Queue.Shards]).
func (q *Queue) Stream() string { return q.cur.shards[0].Stream }

// DeadLetterStream returns the key of the dead-letter stream of the
// first shard, the only one unless [WithShards] says otherwise (see
// [Queue.Shards]). Each entry holds the event's fields, plus "error" (the
// last error's text), "attempts" and "source" (the entry ID in the event
// stream).
func (q *Queue) DeadLetterStream() string { return q.cur.shards[0].DeadLetters }

// Lost reports how many events this process found lost: events that
// were taken in but deleted from the stream (trimmed or XDEL'd by hand or
// by another tool) before they were handled. Each such entry is logged at
// ERROR and acknowledged by the first consumer whose reclaim finds it, so
// every loss is counted once across the consumer group. Redis reports a
// deleted entry even while a live consumer is handling it; that consumer
// may still finish it.
func (q *Queue) Lost() int64 { return q.lost.Load() }

// TakenOver reports how many entries this process was still handling, or
// waiting to retry, when its heartbeat found that another consumer had
// reclaimed them (or acknowledged them: the other consumer reclaimed and
// finished them). That happens only when this process could not refresh
// its entries within the visibility timeout (a pause, a network
// partition) or when something outside the queue claimed them; each is
// logged at WARN, because the event may be handled twice. An entry this
// process acknowledges, dead-letters or hands back is never counted.
func (q *Queue) TakenOver() int64 { return q.takenOver.Load() }

// Store returns the dedupe store whose records share the queue's hash
// tags: each record lives on its key's home shard. Give it to the receiver with hookguard.WithStore together with
// hookguard.WithQueue(q): the receiver then reserves and enqueues in one
// atomic script.
func (q *Queue) Store() *Store { return q.store }

// SharesStore reports whether s keeps its records where EnqueueOnce
// writes them: s is [Queue.Store], or a Store on the same client with the
// same prefix.
func (q *Queue) SharesStore(s dedupe.Store) bool {
	rs, ok := s.(*Store)
	return ok && rs.prefix == q.store.prefix && rs.rdb == q.rdb && rs.shardCount() == len(q.cur.shards)
}

// Enqueue adds e to the stream with XADD. It fails with
// hookguard.ErrShuttingDown once Shutdown has begun, and with the Redis
// error when the server cannot take it: the receiver then answers 503.
//
// go-redis retries a command whose connection broke; if the first XADD
// did reach the server, the event is in the stream twice, and is handled
// twice (at least once, as the handler contract allows).
//
// With [WithWaitReplicas], Enqueue returns nil only after WAIT confirmed
// that enough replicas hold the event; otherwise it deletes the entry
// (best effort) and returns an error wrapping [ErrNotReplicated].
func (q *Queue) Enqueue(ctx context.Context, e hookguard.Event) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return hookguard.ErrShuttingDown
	}
	vals, err := q.encode(e, false)
	if err != nil {
		return err
	}
	if err := q.register(ctx); err != nil {
		return err
	}
	sh := q.cur.pick(nil)
	if q.cfg.waitReplicas > 0 {
		return q.enqueueWait(ctx, sh, vals)
	}
	if err := q.rdb.XAdd(ctx, &redis.XAddArgs{Stream: sh.Stream, Values: vals}).Err(); err != nil {
		q.reroute(err)
		return fmt.Errorf("rediskit: enqueue: %w", err)
	}
	return nil
}

// EnqueueOnce implements [hookguard.AtomicQueue] with one Lua script: it
// checks the records of keys in [Queue.Store], and only when none is held
// or seen adds e to the stream and records every key as seen for ttl, with
// a per-call nonce and the consumer's name as the value. A go-redis retry of the script
// after a lost reply finds the records this call wrote and reports
// success, without adding the event twice.
//
// With [WithWaitReplicas], the answer stands only after WAIT confirmed
// that enough replicas hold what it reports (the event and its records,
// or the records that make it a duplicate). Otherwise EnqueueOnce deletes
// the records and the entry it wrote, if they are still its own, and
// returns an error wrapping [ErrNotReplicated]: the receiver answers 503
// and the sender's retry is not mistaken for a duplicate.
func (q *Queue) EnqueueOnce(ctx context.Context, e hookguard.Event, keys []string, ttl time.Duration) (dedupe.Status, error) {
	token := q.cfg.consumer // names the writer in the record; the nonce makes it unique
	if len(keys) == 0 {
		return 0, fmt.Errorf("rediskit: EnqueueOnce needs at least one key: %w", dedupe.ErrEmptyKey)
	}
	for _, k := range keys {
		if err := storeargs.Check(k, token, ttl, true); err != nil {
			return 0, err
		}
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return 0, hookguard.ErrShuttingDown
	}
	// here: the keys are released by the dead letter.
	vals, err := q.encode(e, len(e.DedupeKeys) > 0 && slices.Equal(e.DedupeKeys, keys))
	if err != nil {
		return 0, err
	}
	n, err := q.once(ctx, q.cur.pick(keys), keys, ttl, vals, true)
	return reserveStatus("enqueue", n, err)
}

// encode returns e as the field-value list of XADD, in the format set by
// [WithEntryFormat]; here records that e's dedupe keys are in q's store.
func (q *Queue) encode(e hookguard.Event, here bool) ([]any, error) {
	if q.cfg.format == 2 {
		return encodeEvent(e, here, q.cfg.compress), nil
	}
	vals, err := encodeFields(e)
	if err == nil && here {
		vals = append(vals, fKeysHere, "1")
	}
	return vals, err
}

// Shutdown stops the queue: Enqueue fails with hookguard.ErrShuttingDown
// at once, no new entry is read, retries waiting for their backoff are
// handed back, and the handlers in flight run to their end; then Shutdown
// returns nil. If ctx ends first, the handlers' contexts are cancelled,
// Shutdown waits up to a second more for the workers to hand their entries
// back, and returns ctx's error. Entries this process did not acknowledge
// stay pending in Redis, marked idle, and another consumer (or this queue's
// successor) reclaims them: nothing is dropped or dead-lettered because of
// a shutdown. Entries never read stay in the stream for the others.
//
// Shutdown may be called more than once and concurrently.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.shutOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.in.stop() // the intake's callers hold q.mu.RLock: none is left to send
		q.mu.Unlock()
		q.stopRd()
	})
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
	}
	q.kill()
	// Handlers that heed their context return at once; give their workers
	// a moment to hand their entries back, so that other consumers need
	// not wait for the visibility timeout.
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
	}
	return fmt.Errorf("rediskit: queue shutdown: %w", ctx.Err())
}

// fetch hands the entries of shard sh to idle workers: reclaimed ones
// first, then new ones. It takes a worker's token before reading, so that
// every entry it reads starts at once and never waits, idle, in a buffer.
// With several shards, each has its fetcher, all sharing the workers'
// tokens: when workers are scarce they take turns (a channel serves its
// waiting receivers in order), so a shard with a backlog cannot starve
// the others. A fetcher whose shard is empty waits for its next entry
// without holding a token, so idle shards keep no worker from the busy
// ones; the one entry that wait brings may wait for a worker, held and
// refreshed like any other.
func (q *Queue) fetch(sh *shard, fetchers *sync.WaitGroup) {
	defer fetchers.Done()
	sharded := len(q.all) > 1
	var lastClaim time.Time
	cursor := "0-0"
	// claimMore is set while the last claim filled every idle worker, or
	// stopped before the end of the pending list: more stranded entries
	// may be waiting, so the next idle workers claim again at once
	// instead of after half a visibility timeout. Each claim takes only
	// as many entries as there are idle workers, so none waits in a
	// buffer, where a crash would strand it again.
	claimMore := false
	for {
		select {
		case <-q.free:
		case <-q.reading.Done():
			return
		}
		k := 1
	more:
		for k < q.cfg.workers {
			select {
			case <-q.free:
				k++
			default:
				break more
			}
		}
		var (
			es  []entry
			err error
		)
		if claimMore || time.Since(lastClaim) >= q.cfg.visibility/2 {
			lastClaim = time.Now()
			es, cursor, err = q.reclaim(sh, k, cursor)
			claimMore = err == nil && (len(es) == k || cursor != "0-0")
		}
		if err == nil && len(es) == 0 {
			es, err = q.read(sh, k, !sharded)
		}
		for _, e := range es {
			q.hold(sh, e.id)
			q.jobs <- e // a worker is idle: we hold its token
			k--
		}
		for ; k > 0; k-- {
			q.free <- struct{}{}
		}
		if err == nil && sharded && len(es) == 0 && !claimMore {
			err = q.await(sh)
		}
		if err != nil {
			if q.reading.Err() != nil {
				return
			}
			q.readFailed(sh, err)
			t := time.NewTimer(q.cfg.block)
			select {
			case <-t.C:
			case <-q.reading.Done():
				t.Stop()
				return
			}
		}
	}
}

// await waits, holding no worker's token, up to the block time for the
// next new entry of sh, then hands it to the next idle worker. If the
// queue shuts down first, it hands the entry back.
func (q *Queue) await(sh *shard) error {
	es, err := q.read(sh, 1, true)
	if err != nil || len(es) == 0 {
		return err
	}
	e := es[0]
	q.hold(sh, e.id)
	select {
	case <-q.free:
		q.jobs <- e
	case <-q.reading.Done():
		q.handOff(e.sh, e.id, 0)
		q.unhold(sh, e.id)
	}
	return nil
}

// readFailed logs a failed read of sh and, when its consumer group is
// missing, creates it again.
func (q *Queue) readFailed(sh *shard, err error) {
	q.reroute(err)
	q.cfg.logger.LogAttrs(q.reading, slog.LevelWarn, "rediskit: read from stream failed; retrying", slog.String("stream", sh.Stream), slog.Any("error", err))
	if !strings.HasPrefix(err.Error(), "NOGROUP") {
		return
	}
	// Redis restarted without persistence, or the stream was deleted: the
	// receiver's enqueue script recreates the stream but not the group, so
	// without this nothing accepted from now on would ever be read.
	gerr := q.rdb.XGroupCreateMkStream(q.reading, sh.Stream, q.cfg.group, "0").Err()
	if gerr != nil && !strings.HasPrefix(gerr.Error(), "BUSYGROUP") {
		q.cfg.logger.LogAttrs(q.reading, slog.LevelWarn, "rediskit: could not recreate the consumer group", slog.String("stream", sh.Stream), slog.Any("error", gerr))
	} else {
		q.cfg.logger.LogAttrs(q.reading, slog.LevelError, "rediskit: consumer group was missing (Redis lost its data?); recreated it", slog.String("stream", sh.Stream), slog.String("group", q.cfg.group))
	}
}

// read takes up to k new entries of sh; block says whether to wait for
// them, up to the block time.
func (q *Queue) read(sh *shard, k int, block bool) ([]entry, error) {
	args := &redis.XReadGroupArgs{
		Group: q.cfg.group, Consumer: q.cfg.consumer,
		Streams: []string{sh.Stream, ">"}, Count: int64(k), Block: -1,
	}
	if block {
		args.Block = q.cfg.block
	}
	res, err := q.rdb.XReadGroup(q.reading, args).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var es []entry
	for _, s := range res {
		for _, m := range s.Messages {
			es = append(es, entry{sh: sh, id: m.ID, vals: m.Values})
		}
	}
	return es, nil
}

// reclaim takes up to k entries idle for longer than the visibility
// timeout from other consumers. An entry reclaimed counts the attempts
// recorded for it, plus one for the attempt its consumer may have been
// running when it stopped, so that an event that crashes its consumer
// every time still ends in the dead-letter stream. Pending entries that
// no longer exist in the stream are handled by dropDeleted.
func (q *Queue) reclaim(sh *shard, k int, cursor string) ([]entry, string, error) {
	ms, next, deleted, err := q.rdb.XAutoClaimWithDeleted(q.reading, &redis.XAutoClaimArgs{
		Stream: sh.Stream, Group: q.cfg.group, Consumer: q.cfg.consumer,
		MinIdle: q.cfg.visibility, Start: cursor, Count: int64(k),
	}).Result()
	if err != nil {
		return nil, "0-0", err
	}
	q.dropDeleted(sh, deleted)
	// An entry this process still holds went idle because its refresh
	// came late (an overloaded process, a long pause): the claim refreshed
	// it, and it is being handled here already, so it is not handed to a
	// second worker.
	q.heldMu.Lock()
	mine := 0
	ms = slices.DeleteFunc(ms, func(m redis.XMessage) bool {
		_, held := sh.held[m.ID]
		if held {
			mine++
		}
		return held
	})
	q.heldMu.Unlock()
	if mine > 0 {
		q.cfg.logger.LogAttrs(q.reading, slog.LevelWarn, "rediskit: entries held here went idle for a visibility timeout before their refresh; is the process overloaded or paused?",
			slog.String("stream", sh.Stream), slog.Int("count", mine))
	}
	if len(ms) == 0 {
		return nil, next, nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	counts, err := q.rdb.HMGet(q.reading, sh.attempts, ids...).Result()
	if err != nil {
		counts = make([]any, len(ms)) // not fatal: count from zero
	}
	es := make([]entry, 0, len(ms))
	for i, m := range ms {
		n := 0
		s, counted := counts[i].(string)
		if counted {
			n, _ = strconv.Atoi(s)
		}
		es = append(es, entry{sh: sh, id: m.ID, vals: m.Values, attempts: n + 1, counted: counted})
	}
	q.cfg.logger.LogAttrs(q.reading, slog.LevelInfo, "rediskit: reclaimed idle entries", slog.String("stream", sh.Stream), slog.Int("count", len(es)))
	return es, next, nil
}

// dropDeleted handles the IDs XAUTOCLAIM (Redis 7+) returns for pending
// entries that no longer exist in the stream: trimmed or XDEL'd before
// they were handled. Their events are gone and cannot be retried or
// dead-lettered, so each is logged at ERROR, counted in [Queue.Lost] and
// acknowledged, so that it does not stay in the pending list. Redis
// already removed them from it; the XACK makes sure.
func (q *Queue) dropDeleted(sh *shard, ids []string) {
	if len(ids) == 0 {
		return
	}
	q.lost.Add(int64(len(ids)))
	ctx, cancel := q.redisCtx()
	defer cancel()
	for _, id := range ids {
		q.cfg.logger.LogAttrs(ctx, slog.LevelError, "rediskit: pending event was deleted from the stream before it was handled (trimmed or XDEL'd); it is lost",
			slog.String("entry", id), slog.String("stream", sh.Stream), slog.String("group", q.cfg.group))
	}
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, sh.Stream, q.cfg.group, ids...)
		p.HDel(ctx, sh.attempts, ids...)
		return nil
	})
	if err != nil {
		q.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "rediskit: could not acknowledge entries deleted from the stream", slog.Any("ids", ids), slog.Any("error", err))
	}
}

func (q *Queue) hold(sh *shard, id string) {
	q.heldMu.Lock()
	sh.held[id] = false
	q.heldMu.Unlock()
}

// letGo marks a held entry as being acknowledged, dead-lettered or handed
// back by this process. It must run before the Redis call that does it:
// a heartbeat that then finds the entry gone from the pending list, or
// owned by another consumer, knows it was this process that let it go.
func (q *Queue) letGo(sh *shard, id string) {
	q.heldMu.Lock()
	if _, ok := sh.held[id]; ok {
		sh.held[id] = true
	}
	q.heldMu.Unlock()
}

func (q *Queue) unhold(sh *shard, id string) {
	q.heldMu.Lock()
	delete(sh.held, id)
	q.heldMu.Unlock()
}

// heartbeat refreshes the entries this process holds every third of the
// visibility timeout, so that no other consumer reclaims them while they
// are handled or wait for a retry.
func (q *Queue) heartbeat() {
	defer q.bg.Done()
	t := time.NewTicker(q.cfg.visibility / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-q.bgCtx.Done():
			return
		}
		for _, sh := range q.all {
			q.refresh(sh, nil)
		}
	}
}

// refresh resets the idle time of every entry this process holds and has
// not let go of, and reports those another consumer took over. between,
// if not nil, runs after the snapshot of held entries and before the
// script (tests use it to drive the races in between).
//
// An entry may leave this consumer between the snapshot and the script
// because this process acknowledged, dead-lettered or handed it back:
// that is no takeover. The script tells an entry still pending to another
// consumer from an entry no longer pending at all; the first is a
// takeover unless this process handed it back, the second unless this
// process acknowledged or dead-lettered it (otherwise another consumer
// reclaimed and finished it).
func (q *Queue) refresh(sh *shard, between func()) {
	q.heldMu.Lock()
	args := make([]any, 0, 2+len(sh.held))
	args = append(args, q.cfg.group, q.cfg.consumer)
	for id, letGo := range sh.held {
		if !letGo {
			args = append(args, id)
		}
	}
	q.heldMu.Unlock()
	if len(args) == 2 {
		return
	}
	if between != nil {
		between()
	}
	ctx, cancel := context.WithTimeout(q.bgCtx, q.cfg.visibility/3)
	res, err := touchScript.Run(ctx, q.rdb, []string{sh.Stream}, args...).Slice()
	cancel()
	var other, gone []string
	if err == nil {
		other, gone, err = touchReply(res)
	}
	if err != nil {
		if q.bgCtx.Err() == nil {
			q.cfg.logger.LogAttrs(q.bgCtx, slog.LevelWarn, "rediskit: could not refresh held entries; other consumers may reclaim them", slog.Any("error", err))
		}
		return
	}
	var taken []string
	q.heldMu.Lock()
	for _, ids := range [][]string{other, gone} {
		for _, id := range ids {
			if letGo, held := sh.held[id]; held && !letGo {
				taken = append(taken, id)
			}
		}
	}
	q.heldMu.Unlock()
	if len(taken) > 0 {
		q.takenOver.Add(int64(len(taken)))
		q.cfg.logger.LogAttrs(q.bgCtx, slog.LevelWarn, "rediskit: entries were reclaimed by another consumer while held here; they may be handled twice",
			slog.Any("ids", taken), slog.String("stream", sh.Stream), slog.String("group", q.cfg.group))
	}
}

// touchReply parses touchScript's reply: the IDs pending to another
// consumer, and the IDs no longer pending.
func touchReply(res []any) (other, gone []string, err error) {
	if len(res) != 2 {
		return nil, nil, fmt.Errorf("rediskit: refresh script replied %d lists, want 2", len(res))
	}
	var lists [2][]string
	for i, r := range res {
		ids, ok := r.([]any)
		if !ok {
			return nil, nil, fmt.Errorf("rediskit: refresh script replied %T, want a list", r)
		}
		for _, id := range ids {
			s, ok := id.(string)
			if !ok {
				return nil, nil, fmt.Errorf("rediskit: refresh script replied an ID of type %T, want a string", id)
			}
			lists[i] = append(lists[i], s)
		}
	}
	return lists[0], lists[1], nil
}

// trimLoop trims the stream every trim interval.
func (q *Queue) trimLoop() {
	defer q.bg.Done()
	t := time.NewTicker(q.cfg.trimEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-q.bgCtx.Done():
			return
		}
		if _, err := q.Trim(q.bgCtx); err != nil && q.bgCtx.Err() == nil {
			q.cfg.logger.LogAttrs(q.bgCtx, slog.LevelWarn, "rediskit: trim failed", slog.Any("error", err))
		}
		if _, err := q.TrimDeadLetters(q.bgCtx); err != nil && q.bgCtx.Err() == nil {
			q.cfg.logger.LogAttrs(q.bgCtx, slog.LevelWarn, "rediskit: dead-letter trim failed", slog.Any("error", err))
		}
	}
}

// Trim removes handled entries from the streams now, as the periodic
// trim does (see [WithTrim]): only entries older than the retention and
// older than every entry that a consumer group still needs, pending or
// not yet delivered. Each shard is trimmed on its own, one script each.
// It returns how many entries it removed.
func (q *Queue) Trim(ctx context.Context) (int64, error) {
	floor := strconv.FormatInt(time.Now().Add(-q.cfg.retention).UnixMilli(), 10) + "-0"
	var total int64
	for _, sh := range q.all {
		n, err := trimScript.Run(ctx, q.rdb, []string{sh.Stream}, floor).Int64()
		if err != nil {
			return total, fmt.Errorf("rediskit: trim %s: %w", sh.Stream, err)
		}
		total += n
	}
	return total, nil
}

func (q *Queue) work() {
	defer q.workers.Done()
	for e := range q.jobs {
		q.handle(e)
		q.unhold(e.sh, e.id)
		q.free <- struct{}{}
	}
}

// handle takes one entry through its attempts.
func (q *Queue) handle(e entry) {
	ev, err := decode(e.vals)
	if err != nil {
		q.deadLetter(e, ev, e.attempts, err)
		return
	}
	for attempt := e.attempts + 1; ; attempt++ {
		if attempt > q.cfg.maxAttempts {
			// Reclaimed after its consumer stopped during the last attempt.
			q.deadLetter(e, ev, attempt-1, errors.New("rediskit: attempts used up by consumers that stopped while handling the event"))
			return
		}
		if q.life.Err() != nil {
			q.handOff(e.sh, e.id, attempt-1)
			return
		}
		ev.Attempt = attempt
		d, err := q.attempt(ev)
		if q.cfg.hooks.OnHandled != nil {
			q.cfg.hooks.OnHandled(ev, attempt, err, d)
		}
		if err == nil {
			q.ack(e.sh, e.id, attempt > 1 || e.counted)
			return
		}
		if hookguard.IsPermanent(err) || attempt >= q.cfg.maxAttempts {
			q.deadLetter(e, ev, attempt, err)
			return
		}
		if err := q.rdb.HSet(context.WithoutCancel(q.life), e.sh.attempts, e.id, attempt).Err(); err != nil {
			q.cfg.logger.LogAttrs(q.life, slog.LevelWarn, "rediskit: could not record the attempt count", slog.String("entry", e.id), slog.Any("error", err))
		}
		t := time.NewTimer(q.backoff(attempt))
		select {
		case <-t.C:
		case <-q.reading.Done(): // shutting down: let another consumer retry it
			t.Stop()
			q.handOff(e.sh, e.id, attempt)
			return
		}
	}
}

// attempt calls the handler once, with a per-attempt timeout, turning a
// panic into an error wrapping hookguard.ErrHandlerPanic.
func (q *Queue) attempt(ev hookguard.Event) (d time.Duration, err error) {
	ctx, cancel := context.WithTimeout(q.life, q.cfg.attemptTimeout)
	defer cancel()
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: %v", hookguard.ErrHandlerPanic, p)
			}
		}()
		err = q.h.HandleEvent(ctx, ev)
	}()
	d = time.Since(start)
	if err != nil {
		q.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "rediskit: handler failed",
			slog.String("provider", ev.Provider), slog.String("event_id", ev.ID),
			slog.String("type", ev.Type), slog.Int("attempt", ev.Attempt), slog.Any("error", err))
	}
	return d, err
}

// redisCtx bounds a Redis call made after the handler: it must run even
// when a Shutdown deadline cancelled the handler's context.
func (q *Queue) redisCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), max(q.cfg.visibility/3, time.Second))
}

// ack acknowledges a handled entry, and forgets its attempt count if it
// had failed before. It returns once the acknowledgement was sent and
// answered (or failed): the acker sends those of every worker that
// finished meanwhile in one XACK.
func (q *Queue) ack(sh *shard, id string, retried bool) {
	q.letGo(sh, id)
	done := make(chan struct{})
	q.acks <- ackReq{sh: sh, id: id, retried: retried, done: done}
	<-done
}

// acker sends the workers' acknowledgements: each batch, all those that
// are waiting when the previous one is answered, is one XACK (with an
// HDEL of the attempt counts, in MULTI/EXEC, when an entry had been
// retried), one round trip. A lone acknowledgement goes at once; under
// load, those of the workers that finish together share a round trip, and
// an XACK of several IDs costs Redis little more than one of one. It ends
// when the channel is closed, after the workers ended.
func (q *Queue) acker() {
	defer q.bg.Done()
	batch := make([]ackReq, 0, cap(q.acks))
	ids := make([]string, 0, cap(q.acks))
	var retried []string
	for r := range q.acks {
		batch = append(batch[:0], r)
	more:
		for len(batch) < cap(q.acks) {
			select {
			case r, ok := <-q.acks:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		ctx, cancel := q.redisCtx()
		if len(q.all) == 1 {
			ids, retried = ids[:0], retried[:0]
			for _, r := range batch {
				ids = append(ids, r.id)
				if r.retried {
					retried = append(retried, r.id)
				}
			}
			q.ackShard(ctx, q.all[0], ids, retried)
		} else {
			q.ackShards(ctx, batch)
		}
		cancel()
		for _, r := range batch {
			close(r.done)
		}
	}
}

// ackShard acknowledges ids in sh with one XACK, and forgets the attempt
// counts of retried in the same MULTI/EXEC.
func (q *Queue) ackShard(ctx context.Context, sh *shard, ids, retried []string) {
	var err error
	if len(retried) == 0 {
		err = q.rdb.XAck(ctx, sh.Stream, q.cfg.group, ids...).Err()
	} else {
		_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.XAck(ctx, sh.Stream, q.cfg.group, ids...)
			p.HDel(ctx, sh.attempts, retried...)
			return nil
		})
	}
	if err != nil {
		q.reroute(err)
		q.cfg.logger.LogAttrs(ctx, slog.LevelError, "rediskit: XACK failed; the events will be handled again after the visibility timeout",
			slog.Any("entries", slices.Clone(ids)), slog.String("stream", sh.Stream), slog.Any("error", err))
	}
}

// ackShards acknowledges a batch that spans shards: one XACK per shard,
// all in one pipeline (on a Cluster, go-redis sends each node its part at
// once), with the attempt counts forgotten beside them.
func (q *Queue) ackShards(ctx context.Context, batch []ackReq) {
	type acks struct{ ids, retried []string }
	by := make(map[*shard]*acks)
	for _, r := range batch {
		a := by[r.sh]
		if a == nil {
			a = &acks{}
			by[r.sh] = a
		}
		a.ids = append(a.ids, r.id)
		if r.retried {
			a.retried = append(a.retried, r.id)
		}
	}
	if len(by) == 1 {
		for sh, a := range by {
			q.ackShard(ctx, sh, a.ids, a.retried)
		}
		return
	}
	cmds := make(map[*shard]*redis.IntCmd, len(by))
	_, _ = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh, a := range by {
			cmds[sh] = p.XAck(ctx, sh.Stream, q.cfg.group, a.ids...)
			if len(a.retried) > 0 {
				p.HDel(ctx, sh.attempts, a.retried...) // a count left behind by a failure only takes memory
			}
		}
		return nil
	})
	for sh, c := range cmds {
		if err := c.Err(); err != nil {
			q.cfg.logger.LogAttrs(ctx, slog.LevelError, "rediskit: XACK failed; the events will be handled again after the visibility timeout",
				slog.Any("entries", by[sh].ids), slog.String("stream", sh.Stream), slog.Any("error", err))
		}
	}
}

// handOff records the attempts made and marks the entry idle for the
// whole visibility timeout, so that another consumer reclaims it at once.
func (q *Queue) handOff(sh *shard, id string, attempts int) {
	q.letGo(sh, id)
	ctx, cancel := q.redisCtx()
	defer cancel()
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, sh.attempts, id, attempts-1) // a reclaim adds one
		p.Do(ctx, "XCLAIM", sh.Stream, q.cfg.group, q.cfg.consumer, 0, id, "IDLE", q.cfg.visibility.Milliseconds(), "JUSTID")
		return nil
	})
	if err != nil {
		q.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "rediskit: hand-off failed; the entry is reclaimed after the visibility timeout",
			slog.String("entry", id), slog.Any("error", err))
	}
}

// deadLetter moves the entry to the dead-letter stream and, if this call
// moved it, runs the hook.
func (q *Queue) deadLetter(e entry, ev hookguard.Event, attempts int, cause error) {
	sh := e.sh
	q.letGo(sh, e.id)
	ctx, cancel := q.redisCtx()
	defer cancel()
	args := make([]any, 0, 8+2*len(e.vals))
	args = append(args, q.cfg.group, e.id, fSource, e.id, fError, cause.Error(), fAttempts, strconv.Itoa(attempts))
	// A dead letter keeps format 1, a field per part, whatever the
	// entry's format: people and tools read it field by field. An entry
	// that does not decode is copied as it is.
	dev, here, derr := decodeEntry(e.vals)
	var fields []any
	if derr == nil {
		fields, derr = encodeFields(dev)
		if here {
			fields = append(fields, fKeysHere, "1")
		}
	}
	if derr == nil {
		args = append(args, fields...)
	} else {
		for k, v := range e.vals {
			args = append(args, k, v)
		}
	}
	keys := []string{sh.Stream, sh.DeadLetters, sh.attempts}
	var remote []string
	lay := sh.lay // the layout whose homes hold the event's records
	if here {
		// EnqueueOnce recorded them in this queue's store: release them
		// with the move, so that the sender's redelivery is handled.
		// Records homed on another shard are deleted right after.
		for _, k := range ev.DedupeKeys {
			switch {
			case k == "":
			case lay.home(k) != sh:
				remote = append(remote, lay.record(k))
			default:
				keys = append(keys, sh.seen+k)
			}
		}
	}
	moved, err := deadLetterScript.Run(ctx, q.rdb, keys, args...).Int()
	if err != nil {
		q.cfg.logger.LogAttrs(ctx, slog.LevelError, "rediskit: could not move an event to the dead-letter stream; it stays pending and is retried after the visibility timeout",
			slog.String("entry", e.id), slog.String("event_id", ev.ID), slog.Any("error", err))
		return
	}
	if moved != 1 {
		return // another consumer acknowledged or dead-lettered it
	}
	for _, k := range remote {
		if err := q.rdb.Del(ctx, k).Err(); err != nil {
			q.cfg.logger.LogAttrs(ctx, slog.LevelError, "rediskit: could not release a dead letter's dedupe record on another shard; the sender's redelivery is answered as a duplicate until it expires",
				slog.String("event_id", ev.ID), slog.Any("error", err))
		}
	}
	q.cfg.logger.LogAttrs(ctx, slog.LevelError, "rediskit: event dead-lettered",
		slog.String("provider", ev.Provider), slog.String("event_id", ev.ID), slog.String("type", ev.Type),
		slog.Int("attempts", attempts), slog.Any("error", cause))
	ev.Attempt = attempts
	if q.cfg.hooks.OnDeadLetter != nil {
		q.cfg.hooks.OnDeadLetter(ev, cause)
	}
}

// backoff is the full-jitter wait before retry number attempt.
func (q *Queue) backoff(attempt int) time.Duration {
	ceil := q.cfg.maxBackoff
	if shift := attempt - 1; shift < 62 {
		if d := q.cfg.baseBackoff << shift; d > 0 && d < ceil {
			ceil = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceil))) + 1
}
