package riverkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/storeargs"
)

// TxHandler handles an event inside the transaction that completes its
// River job: the handler's writes and the job's completion commit
// together, or neither does. A crash at any moment leaves either both
// (the event is never handled again) or neither (it is retried), so the
// handler's effects in the database happen exactly once. Use tx for every
// write that must happen once; do not commit or roll it back.
type TxHandler interface {
	HandleEventTx(ctx context.Context, tx pgx.Tx, e hookguard.Event) error
}

// TxHandlerFunc lets an ordinary function be a [TxHandler].
type TxHandlerFunc func(ctx context.Context, tx pgx.Tx, e hookguard.Event) error

// HandleEventTx calls f(ctx, tx, e).
func (f TxHandlerFunc) HandleEventTx(ctx context.Context, tx pgx.Tx, e hookguard.Event) error {
	return f(ctx, tx, e)
}

// Queue is a durable [hookguard.Queue] on River: each accepted event is a
// River job of kind [EventKind] in the queue [WithQueue] names, worked by
// River workers in every process that runs a Queue on the same database.
// River retries failed attempts with the queue's backoff, up to the
// attempt limit, and its rescuer hands the job of a process that died to
// another ([WithRescueAfter]); when an event is given up, its job is
// discarded and its dedupe records released in one transaction, then the
// dead-letter hooks run.
//
// Queue is also a [hookguard.AtomicQueue]: a Receiver given both the queue
// and [Queue.Store] records the event's dedupe keys and inserts its job in
// one transaction, and answers 200 only after it committed.
//
// Queue is safe for concurrent use. Stop it with [Queue.Shutdown].
type Queue struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
	store  *Store
	cfg    config
	h      hookguard.Handler // one of h and txh is set
	txh    TxHandler

	onceSQL, releaseSQL, sweepSQL string
	insertOpts                    *river.InsertOpts
	intake                        *intake // EnqueueOnce's group commit

	mu       sync.RWMutex // Enqueue holds R; Shutdown takes W to close
	closed   bool
	stopping atomic.Bool // set before River's stop cancels work contexts

	deadLetters atomic.Int64
	shutOnce    sync.Once
	shutErr     error
}

var (
	_ hookguard.Queue       = (*Queue)(nil)
	_ hookguard.AtomicQueue = (*Queue)(nil)
)

// NewQueue starts a River client on pool whose workers call h, and
// returns the queue. The schema must be in place: run [Migrate] first (a
// deploy step, or `hookguard migrate --postgres URL`); NewQueue checks and
// says so, and never changes the schema itself.
//
// With WithWorkers(0) the queue is intake only: its River client is
// insert-only and never started, so this process works no job and runs
// no periodic maintenance (call [Queue.Maintain] for that), and h may be
// nil; Enqueue, EnqueueOnce and the dead-letter methods work, and
// processes with workers handle what it takes in.
//
// Before it touches the database, NewQueue returns an error wrapping
// [ErrInvalidOption] for an option it cannot use, [ErrNilPool] for a nil
// pool, and an error wrapping [hookguard.ErrNilHandler] for a nil handler
// when the queue has workers. It never panics on a value that may come
// from configuration.
func NewQueue(ctx context.Context, pool *pgxpool.Pool, h hookguard.Handler, opts ...Option) (*Queue, error) {
	return newQueue(ctx, pool, h, nil, opts)
}

// NewTxQueue is [NewQueue] for a [TxHandler]: each event is handled in
// the transaction that completes its job (River's JobCompleteTx), so
// that the handler's writes in pool's database happen exactly once.
func NewTxQueue(ctx context.Context, pool *pgxpool.Pool, h TxHandler, opts ...Option) (*Queue, error) {
	return newQueue(ctx, pool, nil, h, opts)
}

func newQueue(ctx context.Context, pool *pgxpool.Pool, h hookguard.Handler, txh TxHandler, opts []Option) (*Queue, error) {
	cfg, err := newConfig(forQueue, opts)
	if err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, ErrNilPool
	}
	if h == nil && txh == nil && cfg.workers > 0 {
		return nil, fmt.Errorf("riverkit: NewQueue needs a Handler (NewTxQueue a TxHandler) for its workers, or WithWorkers(0) for a queue that only takes events in: %w", hookguard.ErrNilHandler)
	}
	store, err := NewStore(pool, WithTable(cfg.table))
	if err != nil {
		return nil, err
	}
	t := cfg.table
	q := &Queue{
		pool:  pool,
		store: store,
		cfg:   cfg,
		h:     h,
		txh:   txh,
		// $1 the keys, sorted (so that two deliveries lock them in one
		// order), $2 token, $3 ttl in microseconds, $4 this call's nonce.
		// Keys are written as seen at once: the transaction that inserts
		// the job makes them visible together with it.
		onceSQL: `WITH ins AS (
	INSERT INTO ` + t + ` AS r (key, token, nonce, seen, expires_at)
	SELECT k, $2, $4, true, now() + $3::bigint * interval '1 microsecond' FROM unnest($1::bytea[]) AS k
	ON CONFLICT (key) DO UPDATE SET
		token = CASE WHEN r.expires_at <= now() THEN excluded.token ELSE r.token END,
		nonce = CASE WHEN r.expires_at <= now() THEN excluded.nonce ELSE r.nonce END,
		seen = CASE WHEN r.expires_at <= now() THEN true ELSE r.seen END,
		expires_at = CASE WHEN r.expires_at <= now() THEN excluded.expires_at ELSE r.expires_at END
	RETURNING r.nonce = $4 AS mine, r.seen
)
SELECT count(*) FILTER (WHERE NOT mine AND seen), count(*) FILTER (WHERE NOT mine AND NOT seen) FROM ins`,
		releaseSQL: `DELETE FROM ` + t + ` WHERE key = ANY($1::bytea[])`,
		// Discarded event jobs whose records were not released: River's
		// rescuer discarded them, or the worker's own transaction failed.
		sweepSQL: `SELECT id, args, attempt, coalesce(errors[array_length(errors, 1)]->>'error', '')
FROM river_job
WHERE state = 'discarded' AND finalized_at IS NOT NULL AND kind = '` + EventKind + `' AND queue = $1
	AND NOT (metadata ? '` + releasedKey + `')
ORDER BY finalized_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
		insertOpts: &river.InsertOpts{Queue: cfg.queue, MaxAttempts: cfg.maxAttempts},
	}
	q.intake = newIntake(q)
	if err := q.checkSchema(ctx); err != nil {
		return nil, err
	}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &eventWorker{q: q}); err != nil {
		return nil, fmt.Errorf("riverkit: register the event worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &maintenanceWorker{q: q}); err != nil {
		return nil, fmt.Errorf("riverkit: register the maintenance worker: %w", err)
	}
	rc := &river.Config{
		Logger:               cfg.logger,
		Workers:              workers, // also when intake only: River then checks the kinds inserted
		MaxAttempts:          cfg.maxAttempts,
		RetryPolicy:          retryPolicy{base: cfg.baseBackoff, max: cfg.maxBackoff},
		JobTimeout:           cfg.attemptTimeout,
		RescueStuckJobsAfter: cfg.rescueAfter,
		// Applies to every discarded job River's cleaner sees; see
		// WithDeadLetterRetention.
		DiscardedJobRetentionPeriod: cfg.deadAge,
	}
	if cfg.workers > 0 { // else insert-only: no Queues, never started
		rc.Queues = map[string]river.QueueConfig{cfg.queue: {MaxWorkers: cfg.workers}}
	}
	if cfg.expireEvery > 0 && cfg.workers > 0 {
		every := cfg.expireEvery
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				return maintenanceArgs{}, &river.InsertOpts{Queue: cfg.queue, MaxAttempts: 1}
			},
			&river.PeriodicJobOpts{ID: "hookguard.maintenance." + cfg.queue, RunOnStart: true},
		)}
	}
	for _, fn := range cfg.river {
		fn(rc)
	}
	if err := checkRiverConfig(rc, &cfg, workers); err != nil {
		return nil, err
	}
	q.client, err = river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("riverkit: River client: %w", err)
	}
	if cfg.workers == 0 {
		return q, nil // River refuses to Start a client without Queues; Stop on it is a no-op
	}
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("riverkit: start River client: %w", err)
	}
	return q, nil
}

// checkRiverConfig refuses a WithRiverConfig function that changed what
// this package's options set.
func checkRiverConfig(rc *river.Config, cfg *config, workers *river.Workers) error {
	_, rp := rc.RetryPolicy.(retryPolicy)
	qc, ok := rc.Queues[cfg.queue]
	queuesOK := ok && qc.MaxWorkers == cfg.workers
	if cfg.workers == 0 {
		queuesOK = len(rc.Queues) == 0 // intake only: the client works no queue
	}
	switch {
	case !queuesOK, rc.Workers != workers, rc.MaxAttempts != cfg.maxAttempts,
		!rp, rc.JobTimeout != cfg.attemptTimeout, rc.RescueStuckJobsAfter != cfg.rescueAfter:
		return fmt.Errorf("%w: WithRiverConfig changed Queues, Workers, MaxAttempts, RetryPolicy, JobTimeout or RescueStuckJobsAfter; set them with WithQueue, WithWorkers, WithMaxAttempts, WithBackoff, WithAttemptTimeout and WithRescueAfter", ErrInvalidOption)
	}
	return nil
}

// checkSchema fails, saying to run Migrate, when the tables are missing.
func (q *Queue) checkSchema(ctx context.Context) error {
	var job, dd *string
	err := q.pool.QueryRow(ctx, "SELECT to_regclass('river_job')::text, to_regclass($1)::text", q.cfg.table).Scan(&job, &dd)
	if err != nil {
		return fmt.Errorf("riverkit: check the schema: %w", err)
	}
	if job == nil || dd == nil {
		return fmt.Errorf("%w: run riverkit.Migrate (or `hookguard migrate --postgres URL`) with the same WithTable before NewQueue", ErrNotMigrated)
	}
	return nil
}

// Client returns the River client that works the queue, for River's own
// tools (riverui, subscriptions, JobList). Stop it with [Queue.Shutdown],
// not directly.
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

// Store returns the dedupe store in the queue's table. Give it to the
// receiver with hookguard.WithStore together with hookguard.WithQueue(q):
// the receiver then records the keys and inserts the job in one
// transaction.
func (q *Queue) Store() *Store { return q.store }

// SharesStore reports whether s is a [Store] on the same pool and table.
func (q *Queue) SharesStore(s dedupe.Store) bool {
	ps, ok := s.(*Store)
	return ok && ps.pool == q.pool && ps.table == q.store.table
}

// DeadLettered reports how many events this process dead-lettered: by
// its workers, and by its maintenance runs (jobs River discarded
// without the worker).
func (q *Queue) DeadLettered() int64 { return q.deadLetters.Load() }

// Enqueue inserts e's job (River's Insert: one transaction). It fails
// with hookguard.ErrShuttingDown once Shutdown has begun, and with the
// database's error when the job cannot be stored: the receiver then
// answers 503.
func (q *Queue) Enqueue(ctx context.Context, e hookguard.Event) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return hookguard.ErrShuttingDown
	}
	if _, err := q.client.Insert(ctx, encodeEvent(e), q.insertOpts); err != nil {
		return fmt.Errorf("riverkit: enqueue: %w", err)
	}
	return nil
}

// EnqueueOnce implements [hookguard.AtomicQueue] in one transaction:
// BEGIN; one statement that records every key as seen unless a live
// record holds it; River's InsertManyTx of the job; COMMIT. That is four
// round trips for a lone delivery (River adds a NOTIFY to the insert at
// most once per fetch cooldown, 100ms by default). Deliveries that
// arrive while others are being committed share the next transaction
// (group commit, up to 256): four round trips and one WAL flush for the
// group, each delivery with its own outcome. A key already seen
// rolls the transaction back and returns [dedupe.Seen]; one held by a
// pending reservation (a receiver using the store without this queue)
// returns [dedupe.Pending]. Concurrent deliveries of one event serialize
// on the key's row: the second waits for the first to commit, then finds
// it seen.
//
// An error from COMMIT means the event may or may not be stored; if it
// is, its keys are with it, and the sender's retry is a duplicate.
func (q *Queue) EnqueueOnce(ctx context.Context, e hookguard.Event, keys []string, ttl time.Duration) (dedupe.Status, error) {
	if len(keys) == 0 {
		return 0, fmt.Errorf("riverkit: EnqueueOnce needs at least one key: %w", dedupe.ErrEmptyKey)
	}
	for _, k := range keys {
		if err := storeargs.Check(k, queueToken, ttl, true); err != nil {
			return 0, err
		}
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return 0, hookguard.ErrShuttingDown
	}
	args := encodeEvent(e)
	args.Release = len(e.DedupeKeys) > 0 && slices.Equal(e.DedupeKeys, keys)
	return q.intake.do(newIntakeReq(ctx, args, keys, ttl))
}

// queueToken names EnqueueOnce as the writer of a record.
const queueToken = "riverkit.queue"

// Shutdown stops the queue: Enqueue fails with hookguard.ErrShuttingDown
// at once, no new job is fetched, and the handlers in flight run to their
// end (River's soft stop); then Shutdown returns nil. If ctx ends first,
// the handlers' contexts are cancelled and River hands their jobs back
// (made available again, the attempt not counted: nothing is
// dead-lettered because of a shutdown), and Shutdown returns ctx's error.
// Jobs this process did not fetch stay for the others.
//
// Shutdown may be called more than once and concurrently.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.shutOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		q.intake.stop() // no EnqueueOnce is in progress: they hold the read lock
		q.stopping.Store(true)
		err := q.client.Stop(ctx)
		if err != nil && ctx.Err() != nil {
			hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = q.client.StopAndCancel(hard)
			err = fmt.Errorf("riverkit: queue shutdown: %w", ctx.Err())
		}
		q.shutErr = err
	})
	if q.shutErr == nil {
		return nil
	}
	select {
	case <-q.client.Stopped():
	case <-ctx.Done():
	}
	return q.shutErr
}

// retryPolicy is the full-jitter backoff of the other queues.
type retryPolicy struct{ base, max time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(backoff(p.base, p.max, job.Attempt))
}

// backoff is the wait before the retry after attempt: a random duration
// in [0, min(maxWait, base*2^(attempt-1))); 0 when base is 0.
func backoff(base, maxWait time.Duration, attempt int) time.Duration {
	if base <= 0 {
		return 0
	}
	ceil := maxWait
	if shift := attempt - 1; shift >= 0 && shift < 62 {
		if d := base << shift; d > 0 && d < ceil {
			ceil = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceil)))
}

// eventWorker runs the user's handler for each event job.
type eventWorker struct {
	river.WorkerDefaults[eventArgs]
	q *Queue
}

// Work runs one attempt. A failure that is the last attempt, or
// Permanent, dead-letters the event here; any other is returned to River,
// which schedules the retry.
func (w *eventWorker) Work(ctx context.Context, job *river.Job[eventArgs]) error {
	q := w.q
	e, err := job.Args.event()
	if err != nil {
		return q.deadLetter(ctx, job.JobRow, e, hookguard.Permanent(err))
	}
	e.Attempt = job.Attempt
	start := time.Now()
	err = q.call(ctx, job, e)
	if q.cfg.hooks.OnHandled != nil {
		q.cfg.hooks.OnHandled(e, job.Attempt, err, time.Since(start))
	}
	switch {
	case err == nil:
		return nil
	case q.stopping.Load() && ctx.Err() != nil:
		// Cancelled by Shutdown: River hands the job back; the attempt
		// does not count.
		return err
	case hookguard.IsPermanent(err) || job.Attempt >= job.MaxAttempts:
		return q.deadLetter(ctx, job.JobRow, e, err)
	}
	return err
}

// call runs the handler once; a panic is a failed attempt wrapping
// hookguard.ErrHandlerPanic.
func (q *Queue) call(ctx context.Context, job *river.Job[eventArgs], e hookguard.Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v\n%s", hookguard.ErrHandlerPanic, p, debug.Stack())
		}
	}()
	if q.txh == nil {
		return q.h.HandleEvent(ctx, e)
	}
	return pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		if err := q.txh.HandleEventTx(ctx, tx, e); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("riverkit: complete the job in the handler's transaction: %w", err)
		}
		return nil
	})
}

// deadLetter discards the job and releases the event's dedupe records in
// one transaction, then runs the dead-letter hooks. If the transaction
// fails, cause is returned to River, which discards the job (or retries
// it, for a Permanent error on an earlier attempt); the maintenance job
// then releases the records and runs the hooks.
func (q *Queue) deadLetter(ctx context.Context, job *rivertype.JobRow, e hookguard.Event, cause error) error {
	// The attempt's context may be what failed (a timeout): the dead
	// letter gets a context of its own.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := time.Now().UTC()
	errData, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: job.Attempt, Error: cause.Error()})
	if err != nil {
		return cause
	}
	meta := []byte(`{"` + releasedKey + `":true}`)
	err = pgx.BeginFunc(dctx, q.pool, func(tx pgx.Tx) error {
		rows, err := q.client.Driver().UnwrapExecutor(tx).JobSetStateIfRunningMany(dctx, &riverdriver.JobSetStateIfRunningManyParams{
			ID:              []int64{job.ID},
			Attempt:         []*int{nil},
			ErrData:         [][]byte{errData},
			FinalizedAt:     []*time.Time{&now},
			MetadataDoMerge: []bool{true},
			MetadataUpdates: [][]byte{meta},
			ScheduledAt:     []*time.Time{nil},
			State:           []rivertype.JobState{rivertype.JobStateDiscarded},
		})
		if err != nil {
			return err
		}
		if len(rows) != 1 || rows[0].State != rivertype.JobStateDiscarded {
			return errNotRunning
		}
		return q.release(dctx, tx, job.EncodedArgs)
	})
	if err != nil {
		if !errors.Is(err, errNotRunning) {
			q.cfg.logger.LogAttrs(dctx, slog.LevelError, "riverkit: dead letter failed; River discards the job and the maintenance job releases its records",
				slog.Int64("job_id", job.ID), slog.Any("error", err))
		}
		return cause
	}
	q.dead(e, cause)
	return cause
}

var errNotRunning = errors.New("riverkit: the job is no longer running")

// release deletes the dedupe records of the event whose job arguments
// are raw, when the queue wrote them.
func (q *Queue) release(ctx context.Context, tx pgx.Tx, raw []byte) error {
	var a eventArgs
	if err := json.Unmarshal(raw, &a); err != nil || !a.Release {
		return nil // nothing of ours to release
	}
	keys := a.keys()
	if len(keys) == 0 {
		return nil
	}
	bk := make([][]byte, len(keys))
	for i, k := range keys {
		bk[i] = []byte(k)
	}
	_, err := tx.Exec(ctx, q.releaseSQL, bk)
	return err
}

// dead counts a dead letter and runs the hooks.
func (q *Queue) dead(e hookguard.Event, err error) {
	q.deadLetters.Add(1)
	q.cfg.logger.LogAttrs(context.Background(), slog.LevelError, "riverkit: event dead-lettered",
		slog.String("provider", e.Provider), slog.String("id", e.ID), slog.String("type", e.Type),
		slog.Int("attempts", e.Attempt), slog.Any("error", err))
	if q.cfg.hooks.OnDeadLetter != nil {
		q.cfg.hooks.OnDeadLetter(e, err)
	}
}

// maintenanceWorker deletes expired dedupe records and finishes the dead
// letters River made without the event worker.
type maintenanceWorker struct {
	river.WorkerDefaults[maintenanceArgs]
	q *Queue
}

// Work implements river.Worker.
func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[maintenanceArgs]) error {
	_, err := w.q.Maintain(ctx)
	return err
}

// Maintenance is what one [Queue.Maintain] run did.
type Maintenance struct {
	// Expired is how many expired dedupe records were deleted.
	Expired int64
	// Released is how many discarded jobs had their dedupe records
	// released and their dead-letter hooks run by this run.
	Released int
	// Dropped is how many dead letters this run deleted because they
	// were beyond the retention ([WithDeadLetterRetention]).
	Dropped int64
}

// Maintain runs the maintenance job's work once, now: it deletes at most
// the configured limit of expired dedupe records ([WithMaintenance]) and
// finishes the dead letters River made without the event worker (a job
// whose last attempt's process died, discarded by River's rescuer):
// releases their dedupe records, marks them, and runs the dead-letter
// hooks for them. Then it deletes, oldest first and at most the limit,
// the dead letters beyond the retention ([WithDeadLetterRetention]).
// The periodic job calls it; call it yourself when the job is off.
func (q *Queue) Maintain(ctx context.Context) (Maintenance, error) {
	var m Maintenance
	n, err := q.store.Expire(ctx, q.cfg.expireLimit)
	if err != nil {
		return m, err
	}
	m.Expired = n
	type gone struct {
		e   hookguard.Event
		err error
	}
	var done []gone
	err = pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		done = done[:0]
		rows, err := tx.Query(ctx, q.sweepSQL, q.cfg.queue, q.cfg.expireLimit)
		if err != nil {
			return err
		}
		type found struct {
			id      int64
			raw     []byte
			attempt int
			msg     string
		}
		var fs []found
		for rows.Next() {
			var f found
			if err := rows.Scan(&f.id, &f.raw, &f.attempt, &f.msg); err != nil {
				rows.Close()
				return err
			}
			fs = append(fs, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range fs {
			if err := q.release(ctx, tx, f.raw); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE river_job SET metadata = metadata || jsonb_build_object('`+releasedKey+`', true) WHERE id = $1`, f.id); err != nil {
				return err
			}
			var a eventArgs
			e := hookguard.Event{}
			if json.Unmarshal(f.raw, &a) == nil {
				e, _ = a.event()
			}
			e.Attempt = f.attempt
			done = append(done, gone{e, fmt.Errorf("riverkit: River discarded the job: %s", f.msg)})
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("riverkit: maintenance: %w", err)
	}
	for _, g := range done {
		q.dead(g.e, g.err)
	}
	m.Released = len(done)
	if m.Dropped, err = q.trimDeadLetters(ctx); err != nil {
		return m, err
	}
	return m, nil
}
