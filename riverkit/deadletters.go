package riverkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/storeargs"
)

// Dead-letter retention defaults; see [WithDeadLetterRetention].
const (
	// DefaultDeadLetterMax is how many dead letters a queue keeps at most.
	DefaultDeadLetterMax = 10000
	// DefaultDeadLetterAge is how long a dead letter is kept at most.
	DefaultDeadLetterAge = 7 * 24 * time.Hour
)

// replaysKey is the metadata key of a discarded event job that counts
// its replays.
const replaysKey = "hookguard_replays"

// WithDeadLetterRetention bounds the dead letters (discarded event jobs)
// of the queue: each maintenance run ([WithMaintenance], [Queue.Maintain])
// deletes, oldest first and at most its limit per run, those beyond
// maxCount and those discarded more than maxAge ago. maxAge is also the
// River client's DiscardedJobRetentionPeriod: River's cleaner, run by the
// leader of the clients that share the database, deletes every discarded
// job older than that, of any queue and kind (the leader's setting
// wins). Defaults: [DefaultDeadLetterMax] (10,000) and
// [DefaultDeadLetterAge] (7 days, River's own default).
func WithDeadLetterRetention(maxCount int, maxAge time.Duration) Option {
	return func(c *config) {
		if !c.use(forQueue, "WithDeadLetterRetention(%d, %v)", maxCount, maxAge) {
			return
		}
		if maxCount < 1 || maxAge <= 0 {
			c.fail("want maxCount >= 1 and maxAge > 0")
			return
		}
		c.deadMax, c.deadAge = maxCount, maxAge
	}
}

// deadListSQL selects the queue's dead letters. $1 queue, $2 job ID or
// NULL, $3 provider or empty, $4 type as bytes or NULL, $5 error
// substring or empty, $6 since or NULL, $7 until or NULL, $8 limit.
const deadListSQL = `SELECT id, args, coalesce(errors[array_length(errors, 1)]->>'error', ''), attempt, finalized_at,
	coalesce((metadata->>'` + replaysKey + `')::bigint, 0)
FROM river_job
WHERE state = 'discarded' AND kind = '` + EventKind + `' AND queue = $1 AND finalized_at IS NOT NULL
	AND ($2::bigint IS NULL OR id = $2)
	AND ($3::text = '' OR args->>'provider' = $3)
	AND ($4::bytea IS NULL OR coalesce(convert_to(args->>'type', 'UTF8'), decode(args->>'type_b', 'base64')) = $4)
	AND ($5::text = '' OR strpos(coalesce(errors[array_length(errors, 1)]->>'error', ''), $5) > 0)
	AND ($6::timestamptz IS NULL OR finalized_at >= $6)
	AND ($7::timestamptz IS NULL OR finalized_at < $7)
ORDER BY finalized_at, id
LIMIT $8`

// deadTrimSQL deletes, oldest first, at most $4 released dead letters of
// queue $1 beyond the newest $2 or discarded more than $3 microseconds
// ago.
const deadTrimSQL = `DELETE FROM river_job WHERE id IN (
	SELECT id FROM (
		SELECT id, finalized_at, metadata, row_number() OVER (ORDER BY finalized_at DESC, id DESC) AS rn
		FROM river_job
		WHERE state = 'discarded' AND kind = '` + EventKind + `' AND queue = $1 AND finalized_at IS NOT NULL
	) j
	WHERE (rn > $2 OR finalized_at < now() - $3::bigint * interval '1 microsecond') AND metadata ? '` + releasedKey + `'
	ORDER BY finalized_at, id
	LIMIT $4
) AND state = 'discarded'`

// ceilMicro rounds t up to PostgreSQL's microsecond.
func ceilMicro(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); u.Before(t) {
		return u.Add(time.Microsecond)
	}
	return t
}

// parseRef returns the job ID ref names, or an error wrapping
// hookguard.ErrNoDeadLetter.
func parseRef(ref string) (int64, error) {
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("riverkit: dead letter %q: not a River job ID: %w", ref, hookguard.ErrNoDeadLetter)
	}
	return id, nil
}

// DeadLetters returns the dead letters f selects, oldest first, at most
// f's limit: the queue's discarded event jobs, in one query with every
// filter and the limit in SQL. It returns an error wrapping
// [hookguard.ErrInvalidFilter] for a negative limit.
func (q *Queue) DeadLetters(ctx context.Context, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if !plain(f.Provider) || !plain(f.ErrContains) {
		return nil, nil // jsonb holds no such text: nothing matches
	}
	return q.listDead(ctx, nil, f)
}

func (q *Queue) listDead(ctx context.Context, id *int64, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error) {
	var typ []byte
	if f.Type != "" {
		typ = []byte(f.Type)
	}
	var since, until *time.Time
	if !f.Since.IsZero() {
		s := ceilMicro(f.Since)
		since = &s
	}
	if !f.Until.IsZero() {
		u := ceilMicro(f.Until)
		until = &u
	}
	rows, err := q.pool.Query(ctx, deadListSQL, q.cfg.queue, id, f.Provider, typ, f.ErrContains, since, until, f.Max())
	if err != nil {
		return nil, fmt.Errorf("riverkit: list dead letters: %w", err)
	}
	defer rows.Close()
	out := []hookguard.DeadLetter{}
	for rows.Next() {
		var (
			jobID   int64
			raw     []byte
			d       hookguard.DeadLetter
			at      time.Time
			replays int64
		)
		if err := rows.Scan(&jobID, &raw, &d.Err, &d.Attempts, &at, &replays); err != nil {
			return nil, fmt.Errorf("riverkit: list dead letters: %w", err)
		}
		d.Ref = strconv.FormatInt(jobID, 10)
		d.At = at.UTC()
		d.Replays = int(replays)
		var a eventArgs
		err := json.Unmarshal(raw, &a)
		if err == nil {
			d.Event, err = a.event()
		}
		if err != nil {
			d.Event = hookguard.Event{Provider: a.Provider, ID: a.ID, Type: a.Type, Body: a.Body}
		}
		d.Event.Attempt = d.Attempts
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("riverkit: list dead letters: %w", err)
	}
	return out, nil
}

// DeadLetter returns the dead letter whose River job ID is ref, or an
// error wrapping [hookguard.ErrNoDeadLetter].
func (q *Queue) DeadLetter(ctx context.Context, ref string) (hookguard.DeadLetter, error) {
	id, err := parseRef(ref)
	if err != nil {
		return hookguard.DeadLetter{}, err
	}
	ds, err := q.listDead(ctx, &id, hookguard.DeadLetterFilter{Limit: 1})
	if err != nil {
		return hookguard.DeadLetter{}, err
	}
	if len(ds) == 0 {
		return hookguard.DeadLetter{}, fmt.Errorf("riverkit: dead letter %s: %w", ref, hookguard.ErrNoDeadLetter)
	}
	return ds[0], nil
}

// errNotReleased is returned by ReplayDeadLetter for a job River
// discarded itself whose records the maintenance run has not released.
var errNotReleased = errors.New("its dedupe records are not released yet (River discarded the job itself); run Queue.Maintain (or wait for the maintenance job), then replay")

// ReplayDeadLetter puts the event of the dead letter ref back through
// dedupe and the queue, in one transaction: it locks the discarded job,
// records the event's dedupe keys and the replay key of this dead letter
// as seen for hookguard.DefaultDedupeTTL unless one of them is recorded
// already, inserts a new job for the event, and counts the replay in the
// discarded job's metadata ([hookguard.DeadLetter.Replays]). It returns
// [dedupe.Reserved] when it enqueued the event, and [dedupe.Seen] when it
// enqueued nothing: the dead letter was replayed before, or the sender
// redelivered the event and it was taken in since it was dead-lettered.
// Replaying twice therefore handles the event once, even one without
// dedupe keys.
//
// The event keeps its original ID, body and headers and is handled like
// any other: retried, and dead-lettered anew (a new dead letter, whose
// keys are released again) if it fails again. The dead letter stays
// until it is dropped or retention removes it.
//
// It returns an error wrapping [hookguard.ErrNoDeadLetter] when ref names
// no dead letter of the queue, and hookguard.ErrShuttingDown once
// Shutdown has begun.
func (q *Queue) ReplayDeadLetter(ctx context.Context, ref string) (dedupe.Status, error) {
	id, err := parseRef(ref)
	if err != nil {
		return 0, err
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return 0, hookguard.ErrShuttingDown
	}
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("riverkit: replay: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after Commit
	var (
		raw      []byte
		released bool
	)
	err = tx.QueryRow(ctx, `SELECT args, metadata ? '`+releasedKey+`' FROM river_job
WHERE id = $1 AND state = 'discarded' AND kind = '`+EventKind+`' AND queue = $2 FOR UPDATE`, id, q.cfg.queue).Scan(&raw, &released)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("riverkit: dead letter %s: %w", ref, hookguard.ErrNoDeadLetter)
	}
	if err != nil {
		return 0, fmt.Errorf("riverkit: replay: read dead letter %s: %w", ref, err)
	}
	var a eventArgs
	err = json.Unmarshal(raw, &a)
	if err != nil {
		err = fmt.Errorf("%w: %v", errBadArgs, err)
	}
	var e hookguard.Event
	if err == nil {
		e, err = a.event()
	}
	if err != nil {
		return 0, fmt.Errorf("riverkit: dead letter %s cannot be replayed: %w", ref, err)
	}
	if a.Release && !released {
		return 0, fmt.Errorf("riverkit: dead letter %s: %w", ref, errNotReleased)
	}
	keys := append(slices.Clone(e.DedupeKeys), "replay:"+q.cfg.queue+":"+ref)
	for _, k := range keys {
		if err := storeargs.Check(k, queueToken, hookguard.DefaultDedupeTTL, true); err != nil {
			return 0, err
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	bk := make([][]byte, len(keys))
	for i, k := range keys {
		bk[i] = []byte(k)
	}
	var seen, pending int
	if err := tx.QueryRow(ctx, q.onceSQL, bk, []byte(queueToken), micros(hookguard.DefaultDedupeTTL), newNonce()).Scan(&seen, &pending); err != nil {
		return 0, fmt.Errorf("riverkit: replay: record keys: %w", err)
	}
	switch {
	case seen > 0:
		return dedupe.Seen, nil
	case pending > 0:
		return dedupe.Pending, nil
	}
	e.Attempt = 0
	args := encodeEvent(e)
	args.Release = len(e.DedupeKeys) > 0 // a new dead letter releases them again
	if _, err := q.client.InsertTx(ctx, tx, args, q.insertOpts); err != nil {
		return 0, fmt.Errorf("riverkit: replay: insert job: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE river_job SET metadata = metadata || jsonb_build_object('`+replaysKey+`', coalesce((metadata->>'`+replaysKey+`')::bigint, 0) + 1) WHERE id = $1`, id); err != nil {
		return 0, fmt.Errorf("riverkit: replay: count: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("riverkit: replay: commit: %w", err)
	}
	return dedupe.Reserved, nil
}

// DropDeadLetter deletes the dead letter ref (its discarded job, if it
// is still discarded), releasing its dedupe records first if the
// maintenance run has not. It returns an error wrapping
// [hookguard.ErrNoDeadLetter] when ref names no dead letter of the queue.
func (q *Queue) DropDeadLetter(ctx context.Context, ref string) error {
	id, err := parseRef(ref)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		var (
			raw      []byte
			released bool
		)
		err := tx.QueryRow(ctx, `DELETE FROM river_job
WHERE id = $1 AND state = 'discarded' AND kind = '`+EventKind+`' AND queue = $2
RETURNING args, metadata ? '`+releasedKey+`'`, id, q.cfg.queue).Scan(&raw, &released)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("riverkit: dead letter %s: %w", ref, hookguard.ErrNoDeadLetter)
		}
		if err != nil {
			return fmt.Errorf("riverkit: drop dead letter %s: %w", ref, err)
		}
		if !released {
			if err := q.release(ctx, tx, raw); err != nil {
				return fmt.Errorf("riverkit: drop dead letter %s: release its records: %w", ref, err)
			}
		}
		return nil
	})
	return err
}

// trimDeadLetters deletes, oldest first and at most the maintenance
// limit, the dead letters beyond the retention.
func (q *Queue) trimDeadLetters(ctx context.Context) (int64, error) {
	tag, err := q.pool.Exec(ctx, deadTrimSQL, q.cfg.queue, q.cfg.deadMax, micros(q.cfg.deadAge), q.cfg.expireLimit)
	if err != nil {
		return 0, fmt.Errorf("riverkit: maintenance: dead-letter retention: %w", err)
	}
	return tag.RowsAffected(), nil
}
