package riverkit

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookguard/hookguard/dedupe"
)

// Bounds of the intake's group commit.
const (
	// intakeRunners is how many intake transactions run at once at
	// most: half the pool's connections, so that River's workers (and a
	// TxHandler's transactions) always find one.
	intakeRunners = 4
	// intakeMaxBatch bounds the deliveries one transaction takes in.
	intakeMaxBatch = 256
	// intakeTimeout bounds one intake transaction when none of its
	// callers set a deadline.
	intakeTimeout = 30 * time.Second
)

// intakeReq is one EnqueueOnce call waiting for its transaction.
type intakeReq struct {
	ctx  context.Context
	args eventArgs
	keys []string // sorted, without repeats
	ttl  time.Duration
	res  chan intakeRes // buffered: a runner never blocks on a caller that left
}

type intakeRes struct {
	st  dedupe.Status
	err error
}

// intake groups the EnqueueOnce calls that arrive while earlier ones are
// being committed into one transaction: BEGIN; one statement that records
// the keys of every delivery in the group; one River InsertManyTx of the
// accepted deliveries' jobs; COMMIT. A lone delivery costs the same four
// round trips as before; under load, a group of n costs four in all, and
// one WAL flush. Each delivery keeps its own outcome: one whose key is
// seen (or held) is answered so, and its other keys are not kept.
//
// The runners are started with the first call and stopped by
// [Queue.Shutdown] once no call is in progress (Shutdown holds the queue's
// write lock, which every EnqueueOnce holds for reading while it waits).
type intake struct {
	q       *Queue
	runners int
	once    sync.Once
	reqs    chan *intakeReq
	done    sync.WaitGroup
	batch   string // the keys statement
	drop    string // deletes a refused delivery's own records
}

func newIntake(q *Queue) *intake {
	t := q.cfg.table
	return &intake{
		q:    q,
		reqs: make(chan *intakeReq, intakeMaxBatch),
		// $1 the keys of every delivery, sorted across the group, so that
		// concurrent groups lock rows in one order; $2 their ttls in
		// microseconds; $3 token; $4 this group's nonce. A live record
		// is left as it is; an expired one is taken over.
		batch: `WITH ins AS (
	INSERT INTO ` + t + ` AS r (key, token, nonce, seen, expires_at)
	SELECT u.k, $3, $4, true, now() + u.ttl * interval '1 microsecond'
	FROM unnest($1::bytea[], $2::bigint[]) AS u(k, ttl) ORDER BY u.k
	ON CONFLICT (key) DO UPDATE SET
		token = CASE WHEN r.expires_at <= now() THEN excluded.token ELSE r.token END,
		nonce = CASE WHEN r.expires_at <= now() THEN excluded.nonce ELSE r.nonce END,
		seen = CASE WHEN r.expires_at <= now() THEN true ELSE r.seen END,
		expires_at = CASE WHEN r.expires_at <= now() THEN excluded.expires_at ELSE r.expires_at END
	RETURNING r.key, r.nonce = $4 AS mine, r.seen
)
SELECT key, mine, seen FROM ins`,
		drop: `DELETE FROM ` + t + ` WHERE key = ANY($1::bytea[]) AND nonce = $2`,
	}
}

// do hands r to a runner and waits for its outcome or for r.ctx to end.
// The caller holds the queue's read lock.
func (in *intake) do(r *intakeReq) (dedupe.Status, error) {
	in.once.Do(func() {
		in.runners = min(max(int(in.q.pool.Config().MaxConns)/2, 1), intakeRunners)
		in.done.Add(in.runners)
		for range in.runners {
			go in.run()
		}
	})
	select {
	case in.reqs <- r:
	case <-r.ctx.Done():
		return 0, fmt.Errorf("riverkit: enqueue: %w", r.ctx.Err())
	}
	select {
	case res := <-r.res:
		return res.st, res.err
	case <-r.ctx.Done():
		// The group may still commit the event; then its keys are with
		// it, and the sender's retry is a duplicate.
		return 0, fmt.Errorf("riverkit: enqueue: %w", r.ctx.Err())
	}
}

// stop ends the runners; no call may be in progress or start.
func (in *intake) stop() {
	in.once.Do(func() {}) // never start them now
	close(in.reqs)
	in.done.Wait()
}

// run takes groups of requests until stop.
func (in *intake) run() {
	defer in.done.Done()
	for r := range in.reqs {
		group := []*intakeReq{r}
	more:
		for len(group) < intakeMaxBatch {
			select {
			case r, ok := <-in.reqs:
				if !ok {
					break more
				}
				group = append(group, r)
			default:
				break more
			}
		}
		for len(group) > 0 {
			group = in.commit(group)
		}
	}
}

// commit takes group in with one transaction and answers each request.
// It returns the requests left for another transaction: those sharing a
// key with an earlier one in the group, which must see its outcome.
func (in *intake) commit(group []*intakeReq) (later []*intakeReq) {
	var (
		now   []*intakeReq
		owner = make(map[string]int) // key -> index in now
		keys  [][]byte
		ttls  []int64
	)
	for _, r := range group {
		if r.ctx.Err() != nil {
			continue // its caller has gone, answered 503; not taking it in is right
		}
		clash := false
		for _, k := range r.keys {
			if _, ok := owner[k]; ok {
				clash = true
				break
			}
		}
		if clash {
			later = append(later, r)
			continue
		}
		for _, k := range r.keys {
			owner[k] = len(now)
		}
		now = append(now, r)
	}
	if len(now) == 0 {
		return later
	}
	for k := range owner {
		keys = append(keys, []byte(k))
	}
	slices.SortFunc(keys, func(a, b []byte) int { return compareBytes(a, b) })
	for _, k := range keys {
		ttls = append(ttls, micros(now[owner[string(k)]].ttl))
	}
	results, err := in.transact(now, owner, keys, ttls)
	for i, r := range now {
		if err != nil {
			r.res <- intakeRes{err: err}
			continue
		}
		r.res <- results[i]
	}
	return later
}

func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

// transact runs the group's transaction and returns each request's
// outcome, in the order of now.
func (in *intake) transact(now []*intakeReq, owner map[string]int, keys [][]byte, ttls []int64) ([]intakeRes, error) {
	ctx, cancel := groupContext(now)
	defer cancel()
	q := in.q
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("riverkit: enqueue: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after Commit
	nonce := newNonce()
	rows, err := tx.Query(ctx, in.batch, keys, ttls, []byte(queueToken), nonce)
	if err != nil {
		return nil, fmt.Errorf("riverkit: enqueue: record keys: %w", err)
	}
	res := make([]intakeRes, len(now))
	mine := make([][][]byte, len(now)) // keys each request wrote
	for i := range res {
		res[i].st = dedupe.Reserved
	}
	for rows.Next() {
		var (
			key        []byte
			isMine, sn bool
		)
		if err := rows.Scan(&key, &isMine, &sn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("riverkit: enqueue: record keys: %w", err)
		}
		i := owner[string(key)]
		switch {
		case isMine:
			mine[i] = append(mine[i], key)
		case sn:
			res[i].st = dedupe.Seen
		case res[i].st != dedupe.Seen:
			res[i].st = dedupe.Pending
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("riverkit: enqueue: record keys: %w", err)
	}
	var (
		gone [][]byte
		jobs []river.InsertManyParams
	)
	for i, r := range now {
		if res[i].st != dedupe.Reserved {
			gone = append(gone, mine[i]...) // a duplicate keeps none of its keys
			continue
		}
		jobs = append(jobs, river.InsertManyParams{Args: r.args, InsertOpts: q.insertOpts})
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, in.drop, gone, nonce); err != nil {
			return nil, fmt.Errorf("riverkit: enqueue: drop a duplicate's keys: %w", err)
		}
	}
	if len(jobs) == 0 {
		return res, nil // the deferred rollback undoes nothing that matters
	}
	if _, err := q.client.InsertManyTx(ctx, tx, jobs); err != nil {
		return nil, fmt.Errorf("riverkit: enqueue: insert jobs: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("riverkit: enqueue: commit: %w", err)
	}
	return res, nil
}

// groupContext bounds a group's transaction by the latest deadline of
// its callers (a caller whose deadline passes has answered 503 already;
// the others still wait), or intakeTimeout. It carries the values of the
// first caller's context (a trace span, for pgx's tracer), not its
// cancellation.
func groupContext(now []*intakeReq) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(now[0].ctx)
	var last time.Time
	for _, r := range now {
		d, ok := r.ctx.Deadline()
		if !ok {
			last = time.Time{}
			break
		}
		if d.After(last) {
			last = d
		}
	}
	if last.IsZero() {
		return context.WithTimeout(base, intakeTimeout)
	}
	return context.WithDeadline(base, last)
}

// request builds the intake request of one EnqueueOnce call.
func newIntakeReq(ctx context.Context, args eventArgs, keys []string, ttl time.Duration) *intakeReq {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	return &intakeReq{ctx: ctx, args: args, keys: slices.Compact(sorted), ttl: ttl, res: make(chan intakeRes, 1)}
}
