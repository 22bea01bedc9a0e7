package riverkit

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/storeargs"
)

// Store is a [dedupe.Store] in PostgreSQL, for receivers on several
// instances that share a database. Records live in one table (see
// [Migrate]), one row a key (keys and tokens are stored as bytea: any
// bytes, NUL included): the token that holds it, whether it was
// committed (seen), and when it expires, by the server's clock, so that
// instances whose clocks differ agree.
//
// Every call is one statement. Reserve is an INSERT ... ON CONFLICT DO
// UPDATE that takes over the row only when it has expired: of two
// concurrent calls with the same key, exactly one gets [dedupe.Reserved].
// Commit and Release change the row only while the caller's token holds
// it. An expired row counts as free at once; [Store.Expire] deletes such
// rows, a bounded number per call, to keep the table small.
//
// Every call is bounded by its context: give it a deadline (the receiver
// does, see hookguard.WithAckTimeout). Store is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	table string

	reserveSQL, commitSQL, releaseSQL, forgetSQL, expireSQL string
}

var _ dedupe.Store = (*Store)(nil)

// NewStore returns a Store that keeps its records in pool's database, in
// the table [Migrate] creates (run it first, with the same options). It
// does no I/O. It returns [ErrNilPool] for a nil pool and an error
// wrapping [ErrInvalidOption] for a bad option, and never panics.
func NewStore(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, ErrNilPool
	}
	c, err := newConfig(forSchema, opts)
	if err != nil {
		return nil, err
	}
	t := c.table
	return &Store{
		pool:  pool,
		table: t,
		// $1 key, $2 token, $3 ttl in microseconds, $4 this call's nonce.
		// The row is taken over only when it has expired; the nonce tells
		// this call's write from a live record's.
		reserveSQL: `INSERT INTO ` + t + ` AS r (key, token, nonce, seen, expires_at)
VALUES ($1, $2, $4, false, now() + $3::bigint * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET
	token = CASE WHEN r.expires_at <= now() THEN excluded.token ELSE r.token END,
	nonce = CASE WHEN r.expires_at <= now() THEN excluded.nonce ELSE r.nonce END,
	seen = CASE WHEN r.expires_at <= now() THEN false ELSE r.seen END,
	expires_at = CASE WHEN r.expires_at <= now() THEN excluded.expires_at ELSE r.expires_at END
RETURNING r.nonce = $4, r.seen`,
		commitSQL: `UPDATE ` + t + ` SET seen = true, expires_at = now() + $3::bigint * interval '1 microsecond'
WHERE key = $1 AND token = $2 AND expires_at > now()`,
		releaseSQL: `DELETE FROM ` + t + ` WHERE key = $1 AND token = $2`,
		forgetSQL:  `DELETE FROM ` + t + ` WHERE key = $1`,
		// By ctid, a TID scan: with "key IN (SELECT ...)" the planner
		// switches to a full scan of the table once the limit passes a
		// few thousand rows, and the cost of a run would grow with the
		// table instead of the limit.
		expireSQL: `DELETE FROM ` + t + ` WHERE ctid = ANY(ARRAY(
	SELECT ctid FROM ` + t + ` WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
)) AND expires_at <= now()`,
	}, nil
}

// micros rounds ttl up to whole microseconds, timestamptz's resolution.
func micros(ttl time.Duration) int64 {
	return int64((ttl + time.Microsecond - 1) / time.Microsecond)
}

func newNonce() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return int64(binary.LittleEndian.Uint64(b[:]))
}

// Reserve holds key for token for ttl unless a live record holds it
// (pending) or marks it seen.
func (s *Store) Reserve(ctx context.Context, key, token string, ttl time.Duration) (dedupe.Status, error) {
	if err := storeargs.Check(key, token, ttl, true); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var mine, seen bool
	if err := s.pool.QueryRow(ctx, s.reserveSQL, []byte(key), []byte(token), micros(ttl), newNonce()).Scan(&mine, &seen); err != nil {
		return 0, fmt.Errorf("riverkit: reserve: %w", err)
	}
	switch {
	case mine:
		return dedupe.Reserved, nil
	case seen:
		return dedupe.Seen, nil
	}
	return dedupe.Pending, nil
}

// Commit marks key as seen for ttl, if token still holds it; otherwise it
// returns [dedupe.ErrNotOwner].
func (s *Store) Commit(ctx context.Context, key, token string, ttl time.Duration) error {
	if err := storeargs.Check(key, token, ttl, true); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.commitSQL, []byte(key), []byte(token), micros(ttl))
	if err != nil {
		return fmt.Errorf("riverkit: commit: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return dedupe.ErrNotOwner
	}
	return nil
}

// Release deletes key's record if token holds it; otherwise it does
// nothing.
func (s *Store) Release(ctx context.Context, key, token string) error {
	if err := storeargs.Check(key, token, 0, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.releaseSQL, []byte(key), []byte(token)); err != nil {
		return fmt.Errorf("riverkit: release: %w", err)
	}
	return nil
}

// Forget deletes key's record, pending or seen, whoever holds it: the next
// Reserve of key succeeds. See [dedupe.Store].
func (s *Store) Forget(ctx context.Context, key string) error {
	if key == "" {
		return dedupe.ErrEmptyKey
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.forgetSQL, []byte(key)); err != nil {
		return fmt.Errorf("riverkit: forget: %w", err)
	}
	return nil
}

// Expire deletes at most limit expired records, oldest first, and returns
// how many it deleted. Expired records already count as free, so Expire
// only reclaims space: call it periodically (for example every minute,
// from one instance or all: concurrent calls skip each other's rows) with
// a limit that keeps each call short, and call again while it returns
// limit. It returns [ErrInvalidLimit] for a limit below 1.
func (s *Store) Expire(ctx context.Context, limit int) (int64, error) {
	if limit < 1 {
		return 0, ErrInvalidLimit
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, s.expireSQL, limit)
	if err != nil {
		return 0, fmt.Errorf("riverkit: expire: %w", err)
	}
	return tag.RowsAffected(), nil
}
