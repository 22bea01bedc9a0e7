package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/riverkit"
)

// postgresTimeout bounds connecting to PostgreSQL and checking (or, with
// --migrate, migrating) its schema at start.
const postgresTimeout = 10 * time.Second

// postgresBackend is serve's --postgres: one pool, and one durable River
// queue whose dedupe store the receivers share, so that several serve
// processes given the same database share the work and never take an
// event in twice.
type postgresBackend struct {
	pool *pgxpool.Pool
	q    *riverkit.Queue
}

// newPostgresBackend connects to db and starts the queue's workers, which
// call h. It changes the schema only when migrate is set (serve
// --migrate); without it, a database with no hookguard schema is an
// error that says to run "hookguard migrate". It fails when PostgreSQL
// cannot be reached within [postgresTimeout].
func newPostgresBackend(ctx context.Context, db *postgresDB, table string, migrate bool, h hookguard.Handler, logger *slog.Logger, hooks hookguard.Hooks) (*postgresBackend, error) {
	pool, err := db.connect(ctx, table)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, postgresTimeout)
	defer cancel()
	if migrate {
		res, err := migratePostgres(cctx, pool, table)
		if err != nil {
			pool.Close()
			return nil, db.errorf("--postgres %s: --migrate: %w", db, err)
		}
		logger.Info("migrated postgres", "host", db.host, "port", db.port, "database", db.database, "result", res.String())
	}
	q, err := riverkit.NewQueue(cctx, pool, h, riverkit.WithTable(table), riverkit.WithLogger(logger), riverkit.WithHooks(hooks))
	if err != nil {
		pool.Close()
		if errors.Is(err, riverkit.ErrNotMigrated) {
			return nil, db.errorf("--postgres %s has no hookguard schema (table %s or River's tables are missing): run \"hookguard migrate --postgres URL%s\" once first, or pass --migrate to serve", db, table, tableArg(table))
		}
		return nil, db.errorf("--postgres %s: %w", db, err)
	}
	logger.Info("using postgres", "host", db.host, "port", db.port, "database", db.database, "queue", riverkit.DefaultQueue, "table", table)
	return &postgresBackend{pool: pool, q: q}, nil
}

// tableArg is the --table argument that names table, "" for the default.
func tableArg(table string) string {
	if table == riverkit.DefaultTable {
		return ""
	}
	return " --table " + table
}

// options makes a receiver enqueue into the queue and dedupe in its store,
// in one transaction.
func (b *postgresBackend) options() []hookguard.Option {
	return []hookguard.Option{hookguard.WithQueue(b.q), hookguard.WithStore(b.q.Store())}
}

// Shutdown stops the queue (its unfinished events stay in PostgreSQL for
// the other processes) and closes the pool.
func (b *postgresBackend) Shutdown(ctx context.Context) error {
	err := b.q.Shutdown(ctx)
	b.pool.Close()
	return err
}

// inspectorDeadLetters gives the inspector and /metrics the queue's dead
// letters (its discarded event jobs). They are counted up to
// riverkit.DefaultDeadLetterMax, the retention, with one query on River's
// (state, queue, ...) index: a count at that bound means at least.
func (b *postgresBackend) inspectorDeadLetters() deadLetterView {
	return deadLetterView{ops: b.q, held: func(ctx context.Context) (int64, error) {
		var n int64
		err := b.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM river_job
WHERE state = 'discarded' AND kind = $1 AND queue = $2 LIMIT $3) d`, riverkit.EventKind, riverkit.DefaultQueue, riverkit.DefaultDeadLetterMax).Scan(&n)
		return n, err
	}}
}

// shutdown stops b when serve fails before it starts.
func (b *postgresBackend) shutdown(timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		logger.Error("postgres queue shutdown incomplete", "err", err)
	}
}

// postgresDB is a parsed --postgres URL. Its String is host:port/database,
// with neither user nor password, for messages and logs.
type postgresDB struct {
	cfg      *pgxpool.Config
	host     string
	port     uint16
	database string
	secrets  []string // the password as written and as decoded, to redact
}

// parsePostgres parses a --postgres value: a URL such as
// postgres://user:password@host:5432/db, or the key=value form libpq
// takes. The error never holds the password.
func parsePostgres(raw string) (*postgresDB, error) {
	db := &postgresDB{secrets: passwordsIn(raw)}
	if raw == "" {
		return nil, errors.New("--postgres needs a URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE")
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, db.errorf("--postgres: not a PostgreSQL URL (want postgres://USER:PASSWORD@HOST:5432/DATABASE): %w", err)
	}
	if cfg.ConnConfig.Password != "" {
		db.secrets = append(db.secrets, cfg.ConnConfig.Password)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > postgresTimeout {
		cfg.ConnConfig.ConnectTimeout = postgresTimeout
	}
	db.cfg, db.host, db.port, db.database = cfg, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database
	return db, nil
}

func (db *postgresDB) String() string {
	host := db.host
	if strings.HasPrefix(host, "/") {
		return host + "/" + db.database // a unix socket directory
	}
	return net.JoinHostPort(host, strconv.Itoa(int(db.port))) + "/" + db.database
}

// connect opens a pool, checks that table is a name riverkit takes (an
// error wrapping [riverkit.ErrInvalidOption] if not) and, within
// [postgresTimeout], that the database answers.
func (db *postgresDB) connect(ctx context.Context, table string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, db.cfg) // connects on first use
	if err != nil {
		return nil, db.errorf("--postgres %s: %w", db, err)
	}
	if _, err := riverkit.NewStore(pool, riverkit.WithTable(table)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("--table: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, postgresTimeout)
	defer cancel()
	if err := pool.Ping(cctx); err != nil {
		pool.Close()
		return nil, db.errorf("--postgres %s: cannot reach the database: %w", db, err)
	}
	return pool, nil
}

// errorf is fmt.Errorf with the password of the URL, wherever the error
// text holds it, replaced by "xxxxx", and the text on one line. The
// result still wraps the errors that format wraps.
func (db *postgresDB) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &redactedError{msg: db.redact(err.Error()), err: err}
}

// redact replaces the password in s by "xxxxx" and puts s on one line.
func (db *postgresDB) redact(s string) string {
	for _, p := range db.secrets {
		if p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// redactedError is an error whose text had the password removed; Unwrap
// keeps errors.Is working on what it wraps. Print Error, never the text
// of what it wraps.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// kvPassword finds password=VALUE in the key=value form of a connection
// string, quoted or not.
var kvPassword = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// passwordsIn returns the password in raw, as written and as decoded,
// however raw is malformed: the userinfo of a URL, or the password= of
// the key=value form.
func passwordsIn(raw string) []string {
	var out []string
	if scheme, rest, ok := strings.Cut(raw, "://"); ok && !strings.ContainsAny(scheme, " =") {
		// The userinfo ends at the last '@' before the path.
		authority, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok && pw != "" {
				out = append(out, pw)
				if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
					out = append(out, dec)
				}
			}
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(raw, -1) {
		pw := m[1]
		out = append(out, pw)
		if unq := strings.Trim(pw, "'"); unq != pw && unq != "" {
			out = append(out, unq)
		}
	}
	return out
}
