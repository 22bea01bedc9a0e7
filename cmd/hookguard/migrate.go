package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard/riverkit"
)

// runMigrate implements "hookguard migrate".
func runMigrate(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("migrate", "migrate --postgres URL [--table NAME]")
	fs.extra = migrateUsage
	pgURL := fs.String("postgres", "", "PostgreSQL `URL` to migrate, such as postgres://USER:PASSWORD@HOST:5432/DATABASE (the password may come from PGPASSWORD or ~/.pgpass instead)")
	table := fs.String("table", riverkit.DefaultTable, "`NAME` of the dedupe table, optionally schema.table; give serve the same --table")
	if code, ok := fs.parse(e, args); !ok {
		return code
	}
	if *pgURL == "" {
		return fs.fail(e, errors.New("--postgres URL is required: the database to migrate"))
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(e.stderr, "hookguard migrate: %v\n", err)
		return code
	}
	db, err := parsePostgres(*pgURL)
	if err != nil {
		return fail(exitUsage, err)
	}
	pool, err := db.connect(ctx, *table)
	if err != nil {
		if errors.Is(err, riverkit.ErrInvalidOption) {
			return fail(exitUsage, err)
		}
		return fail(exitFail, err)
	}
	defer pool.Close()
	cctx, cancel := context.WithTimeout(ctx, postgresTimeout)
	defer cancel()
	res, err := migratePostgres(cctx, pool, *table)
	if err != nil {
		return fail(exitFail, db.errorf("%s: %w", db, err))
	}
	if res.changed() {
		fmt.Fprintf(e.stdout, "migrated %s: %s\n", db, res)
	} else {
		fmt.Fprintf(e.stdout, "%s is up to date, nothing changed: %s\n", db, res)
	}
	return exitOK
}

// migrateResult is what [migratePostgres] found and did.
type migrateResult struct {
	table                     string
	riverBefore, riverAfter   int64 // River's schema version; 0 for none
	tableBefore, tableCreated bool  // the dedupe table existed; was created
}

func (r migrateResult) changed() bool { return r.riverBefore != r.riverAfter || r.tableCreated }

func (r migrateResult) String() string {
	var b strings.Builder
	if r.riverBefore == r.riverAfter {
		fmt.Fprintf(&b, "River schema at version %d", r.riverAfter)
	} else {
		fmt.Fprintf(&b, "River schema version %d -> %d", r.riverBefore, r.riverAfter)
	}
	if r.tableCreated {
		fmt.Fprintf(&b, ", created table %s", r.table)
	} else {
		fmt.Fprintf(&b, ", table %s exists", r.table)
	}
	return b.String()
}

// migratePostgres runs [riverkit.Migrate] on pool for table and reports
// what changed.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, table string) (migrateResult, error) {
	res := migrateResult{table: table}
	var err error
	if res.riverBefore, res.tableBefore, err = schemaState(ctx, pool, table); err != nil {
		return res, err
	}
	if err := riverkit.Migrate(ctx, pool, riverkit.WithTable(table)); err != nil {
		return res, err
	}
	var tableAfter bool
	if res.riverAfter, tableAfter, err = schemaState(ctx, pool, table); err != nil {
		return res, err
	}
	res.tableCreated = tableAfter && !res.tableBefore
	return res, nil
}

// schemaState returns River's schema version (0 when River has no
// migration table) and whether the dedupe table exists.
func schemaState(ctx context.Context, pool *pgxpool.Pool, table string) (version int64, hasTable bool, err error) {
	var mig, dd *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('river_migration')::text, to_regclass($1)::text", table).Scan(&mig, &dd); err != nil {
		return 0, false, fmt.Errorf("read the schema: %w", err)
	}
	if mig != nil {
		if err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM river_migration").Scan(&version); err != nil {
			return 0, false, fmt.Errorf("read River's schema version: %w", err)
		}
	}
	return version, dd != nil, nil
}

// migrateUsage is the text of "hookguard help migrate" after the flags.
func migrateUsage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(`
migrate creates, or brings up to date, what serve --postgres needs in the
database: River's tables (its migrations) and the table of the dedupe records.
Run it once before starting serve --postgres, and again after upgrading
hookguard; running it when nothing is missing changes nothing. serve never
changes the schema unless it is given --migrate.

It prints one line saying what it did, and exits 1 with one line on standard
error when the database cannot be reached or the migration fails, 2 when the
URL or the table name is bad. Messages name the database by host, port and
name only: the password is never printed.
`, "\n"))
}
