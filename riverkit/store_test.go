package riverkit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/riverkit"
)

// startDB starts a server, migrates its database and returns its pool.
func startDB(t *testing.T, opts ...riverkit.Option) *pgxpool.Pool {
	t.Helper()
	return startServer(t, opts...).Pool()
}

// startServer starts a server and migrates its database.
func startServer(t *testing.T, opts ...riverkit.Option) *pgtest.Server {
	t.Helper()
	srv := pgtest.Start(t, pgtest.WithFsync(false))
	if err := riverkit.Migrate(t.Context(), srv.Pool(), opts...); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return srv
}

func newTestStore(t *testing.T, pool *pgxpool.Pool, opts ...riverkit.Option) *riverkit.Store {
	t.Helper()
	s, err := riverkit.NewStore(pool, opts...)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func TestStoreConformance(t *testing.T) {
	pool := startDB(t)
	dedupetest.Run(t, func(t *testing.T) dedupe.Store {
		// A fresh, empty table for every subtest.
		if _, err := pool.Exec(t.Context(), "TRUNCATE "+riverkit.DefaultTable); err != nil {
			t.Fatal(err)
		}
		return newTestStore(t, pool)
	}, dedupetest.WithShortTTL(100*time.Millisecond))
}

// TestStoreWithTable: a store in a schema-qualified table of its own keeps
// its records apart from the default table's.
func TestStoreWithTable(t *testing.T) {
	srv := pgtest.Start(t, pgtest.WithFsync(false))
	pool, ctx := srv.Pool(), t.Context()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA app"); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]riverkit.Option{nil, {riverkit.WithTable("app.dedupe")}} {
		if err := riverkit.Migrate(ctx, pool, opts...); err != nil {
			t.Fatalf("Migrate(%d options): %v", len(opts), err)
		}
	}
	a := newTestStore(t, pool)
	b := newTestStore(t, pool, riverkit.WithTable("app.dedupe"))
	for _, s := range []*riverkit.Store{a, b} {
		if st, err := s.Reserve(ctx, "k", "tok", time.Minute); err != nil || st != dedupe.Reserved {
			t.Fatalf("Reserve = %v, %v; want reserved in each table", st, err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM app.dedupe WHERE key = 'k'::bytea AND NOT seen").Scan(&n); err != nil || n != 1 {
		t.Fatalf("app.dedupe holds %d pending rows for k (%v); want 1", n, err)
	}
}

func TestNewStoreErrors(t *testing.T) {
	pool := &pgxpool.Pool{} // never used: the constructor fails first
	for _, tc := range []struct {
		name string
		pool *pgxpool.Pool
		opts []riverkit.Option
		want error
	}{
		{"nil pool", nil, nil, riverkit.ErrNilPool},
		{"empty table", pool, []riverkit.Option{riverkit.WithTable("")}, riverkit.ErrInvalidOption},
		{"quoted table", pool, []riverkit.Option{riverkit.WithTable(`x"; DROP TABLE y; --`)}, riverkit.ErrInvalidOption},
		{"upper case", pool, []riverkit.Option{riverkit.WithTable("Dedupe")}, riverkit.ErrInvalidOption},
		{"three parts", pool, []riverkit.Option{riverkit.WithTable("a.b.c")}, riverkit.ErrInvalidOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := riverkit.NewStore(tc.pool, tc.opts...)
			if s != nil || !errors.Is(err, tc.want) {
				t.Fatalf("NewStore = %v, %v; want nil and an error matching %v", s, err, tc.want)
			}
			if err := riverkit.Migrate(t.Context(), tc.pool, tc.opts...); !errors.Is(err, tc.want) {
				t.Fatalf("Migrate = %v; want an error matching %v", err, tc.want)
			}
		})
	}
	if _, err := riverkit.NewStore(pool, riverkit.WithTable("app.dedupe_2"), nil); err != nil {
		t.Errorf("NewStore with a good table and a nil option = %v; want nil", err)
	}
}

// TestMigrateTwice: a second Migrate applies nothing and keeps the
// records; River's tables are there.
func TestMigrateTwice(t *testing.T) {
	pool := startDB(t)
	ctx := t.Context()
	s := newTestStore(t, pool)
	if _, err := s.Reserve(ctx, "k", "tok", time.Hour); err != nil {
		t.Fatal(err)
	}
	schema := func() string {
		var out string
		err := pool.QueryRow(ctx, `SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
FROM information_schema.columns WHERE table_schema = 'public'`).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var versions int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_migration").Scan(&versions); err != nil || versions == 0 {
		t.Fatalf("river_migration holds %d versions (%v); want River's migrations applied", versions, err)
	}
	before := schema()
	if err := riverkit.Migrate(ctx, pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var after int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_migration").Scan(&after); err != nil || after != versions {
		t.Errorf("river_migration holds %d versions after a second Migrate (%v); want %d", after, err, versions)
	}
	if got := schema(); got != before {
		t.Errorf("schema changed on a second Migrate:\nbefore %s\nafter  %s", before, got)
	}
	if st, err := s.Reserve(ctx, "k", "other", time.Hour); err != nil || st != dedupe.Pending {
		t.Errorf("Reserve after a second Migrate = %v, %v; want pending (the record survived)", st, err)
	}
}

// TestExpire: Expire deletes expired records only, at most limit a call.
func TestExpire(t *testing.T) {
	pool := startDB(t)
	ctx := t.Context()
	s := newTestStore(t, pool)
	for i := range 5 {
		if st, err := s.Reserve(ctx, "old"+string(rune('a'+i)), "tok", time.Millisecond); err != nil || st != dedupe.Reserved {
			t.Fatalf("Reserve = %v, %v", st, err)
		}
	}
	if _, err := s.Reserve(ctx, "live", "tok", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, "seen", "tok", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "seen", "tok", time.Hour); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let the short TTLs end, by the server's clock
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		limit     int
		want      int64
		wantTotal int
	}{
		{2, 2, 5},
		{2, 2, 3},
		{10, 1, 2},
		{10, 0, 2},
	} {
		n, err := s.Expire(ctx, tc.limit)
		if err != nil || n != tc.want {
			t.Fatalf("Expire(%d) = %d, %v; want %d", tc.limit, n, err, tc.want)
		}
		if got := count(); got != tc.wantTotal {
			t.Fatalf("after Expire(%d) the table holds %d rows; want %d", tc.limit, got, tc.wantTotal)
		}
	}
	for key, want := range map[string]dedupe.Status{"live": dedupe.Pending, "seen": dedupe.Seen} {
		if st, err := s.Reserve(ctx, key, "other", time.Hour); err != nil || st != want {
			t.Errorf("Reserve(%s) after Expire = %v, %v; want %v: live records must stay", key, st, err, want)
		}
	}
	for _, limit := range []int{0, -1} {
		if _, err := s.Expire(ctx, limit); !errors.Is(err, riverkit.ErrInvalidLimit) {
			t.Errorf("Expire(%d) = %v; want ErrInvalidLimit", limit, err)
		}
	}
}
