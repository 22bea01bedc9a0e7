package riverkit_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/riverkit"
)

// million is how many dedupe records BenchmarkExpire1M keeps in the
// table; half of them expired.
const million = 1_000_000

// BenchmarkExpire1M measures what the dedupe table costs at 1,000,000
// stored keys, half of them expired, on a server with fsync on and
// PostgreSQL's default shared_buffers (128MB):
//
//   - Expire with limits of 1,000 and 10,000: time per call (ns/op), rows
//     deleted per second, and the table's size with its indexes
//     (pg_total_relation_size) when filled, after the calls, and after a
//     VACUUM. The table is refilled, untimed, when fewer expired rows than
//     the limit are left.
//   - Reserve and EnqueueOnce of a new key, in an empty table and at 1M
//     rows: a btree lookup and insert, so the cost should be flat. These
//     run with synchronous_commit off on their sessions, so that the
//     disk's fsync time does not hide the statements' own cost.
//
// Filling takes several seconds, so it runs only when asked for, with
// -bench, and never in -short mode:
//
//	go test -run '^$' -bench BenchmarkExpire1M -benchtime 20x ./riverkit
func BenchmarkExpire1M(b *testing.B) {
	if testing.Short() {
		b.Skip("fills a table with 1,000,000 rows")
	}
	srv := pgtest.Start(b, pgtest.WithSetting("shared_buffers", "128MB"))
	ctx, pool := b.Context(), srv.Pool()
	require.NoError(b, riverkit.Migrate(ctx, pool))
	store, err := riverkit.NewStore(pool)
	require.NoError(b, err)

	var expiredLeft int64 // expired rows still in the table
	fill := func(b *testing.B) {
		b.Helper()
		fillDedupe(b, pool)
		expiredLeft = million / 2
	}
	for _, limit := range []int{1000, 10000} {
		b.Run("Expire/limit="+strconv.Itoa(limit), func(b *testing.B) {
			fill(b)
			before := totalSize(b, pool)
			var deleted int64
			b.ResetTimer()
			for b.Loop() {
				if expiredLeft < int64(limit) {
					b.StopTimer()
					fill(b)
					b.StartTimer()
				}
				n, err := store.Expire(ctx, limit)
				require.NoError(b, err)
				require.Equal(b, int64(limit), n, "Expire deleted fewer rows than the limit while more were expired")
				expiredLeft -= n
				deleted += n
			}
			b.StopTimer()
			after := totalSize(b, pool)
			_, err := pool.Exec(ctx, "VACUUM "+riverkit.DefaultTable)
			require.NoError(b, err)
			vacuumed := totalSize(b, pool)
			b.ReportMetric(float64(deleted)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(before/(1<<20), "MiB-filled")
			b.ReportMetric(after/(1<<20), "MiB-after")
			b.ReportMetric(vacuumed/(1<<20), "MiB-vacuumed")
		})
	}

	// Reserve and EnqueueOnce, on sessions with synchronous_commit off.
	pc, err := pgxpool.ParseConfig(srv.URL())
	require.NoError(b, err)
	pc.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	async, err := pgxpool.NewWithConfig(ctx, pc)
	require.NoError(b, err)
	b.Cleanup(async.Close)
	astore, err := riverkit.NewStore(async)
	require.NoError(b, err)
	q, err := riverkit.NewQueue(ctx, async, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }),
		riverkit.WithQueue("expire_bench"), riverkit.WithLogger(quiet), riverkit.WithMaintenance(0, 1))
	require.NoError(b, err)
	stopQueue := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(sctx)
	}
	b.Cleanup(stopQueue)

	var seq int
	for _, rows := range []int{0, million} {
		setup := func(b *testing.B) {
			b.Helper()
			if rows == 0 {
				_, err := pool.Exec(ctx, "TRUNCATE river_job, "+riverkit.DefaultTable)
				require.NoError(b, err)
				return
			}
			var n int
			require.NoError(b, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable).Scan(&n))
			if n < million {
				fill(b)
			}
		}
		name := "rows=" + strconv.Itoa(rows)
		b.Run("Reserve/"+name, func(b *testing.B) {
			setup(b)
			b.ResetTimer()
			for b.Loop() {
				seq++
				st, err := astore.Reserve(ctx, fmt.Sprintf("bench::id:evt_new_%012d", seq), "tok", 24*time.Hour)
				require.NoError(b, err)
				require.Equal(b, dedupe.Reserved, st)
			}
		})
		b.Run("EnqueueOnce/"+name, func(b *testing.B) {
			setup(b)
			b.ResetTimer()
			for b.Loop() {
				seq++
				id := fmt.Sprintf("evt_new_%012d", seq)
				st, err := q.EnqueueOnce(ctx, hookguard.Event{Provider: "bench", ID: id, Type: "bench.event", Body: []byte(`{}`)},
					[]string{"bench::id:" + id}, 24*time.Hour)
				require.NoError(b, err)
				require.Equal(b, dedupe.Reserved, st)
			}
		})
	}
	stopQueue()
}

// fillDedupe replaces the dedupe table's rows with million records shaped
// like a receiver's ("stripe::id:evt_..." keys, committed), every second
// one expired (by up to a day, spread), the others live for up to a day;
// then VACUUM ANALYZE, as autovacuum would have done by then.
func fillDedupe(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	ctx := b.Context()
	for _, sql := range []string{
		"TRUNCATE " + riverkit.DefaultTable,
		`INSERT INTO ` + riverkit.DefaultTable + ` (key, token, nonce, seen, expires_at)
SELECT convert_to('stripe::id:evt_' || md5(g::text), 'UTF8'), convert_to('riverkit.queue', 'UTF8'), g, true,
	now() + CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END * (g * interval '86 milliseconds') + CASE WHEN g % 2 = 0 THEN interval '0' ELSE interval '1 hour' END
FROM generate_series(1, ` + strconv.Itoa(million) + `) g`,
		"VACUUM ANALYZE " + riverkit.DefaultTable,
	} {
		_, err := pool.Exec(ctx, sql)
		require.NoError(b, err)
	}
	var expired int
	require.NoError(b, pool.QueryRow(ctx, "SELECT count(*) FROM "+riverkit.DefaultTable+" WHERE expires_at <= now()").Scan(&expired))
	require.Equal(b, million/2, expired)
}

// totalSize is the dedupe table's size with its indexes, in bytes.
func totalSize(b *testing.B, pool *pgxpool.Pool) float64 {
	b.Helper()
	var n int64
	require.NoError(b, pool.QueryRow(b.Context(), "SELECT pg_total_relation_size($1)", riverkit.DefaultTable).Scan(&n))
	return float64(n)
}
