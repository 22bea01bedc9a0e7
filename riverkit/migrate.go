package riverkit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrate brings the database's schema up to date for hookguard: it runs
// River's migrations, up to the latest this module's River version has
// (each in its own transaction, as River does), then creates the table of
// the dedupe records and its index if they do not exist, in one
// transaction under an advisory lock, so concurrent calls are safe.
// Running it again changes nothing.
//
// Nothing in this module runs Migrate on its own: a schema change is the
// operator's decision. Call it from a deploy step or a command, before the
// instances start, with the same options as [NewStore].
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	if pool == nil {
		return ErrNilPool
	}
	c, err := newConfig(forSchema, opts)
	if err != nil {
		return err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return fmt.Errorf("riverkit: migrate: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverkit: migrate River's schema: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('hookguard_migrate'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+c.table+` (
	key        bytea PRIMARY KEY,
	token      bytea NOT NULL,
	nonce      bigint NOT NULL,
	seen       boolean NOT NULL,
	expires_at timestamptz NOT NULL
)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE INDEX IF NOT EXISTS "+indexName(c.table)+" ON "+c.table+" (expires_at)")
		return err
	})
	if err != nil {
		return fmt.Errorf("riverkit: migrate table %s: %w", c.table, err)
	}
	return nil
}

// indexName names the expiry index of table (an index lives in its
// table's schema, so the name has none).
func indexName(table string) string {
	return table[strings.LastIndexByte(table, '.')+1:] + "_expires_at_idx"
}
