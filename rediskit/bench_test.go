package rediskit_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
)

// markKey marks the contexts of benchmark requests, so that the round-trip
// hook counts only the commands a delivery sends, not the workers'.
type markKey struct{}

// roundTrips counts go-redis round trips made with a marked context: one
// per command, one per pipeline.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if ctx.Value(markKey{}) != nil {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if ctx.Value(markKey{}) != nil {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// BenchmarkReceiver measures deliveries per second through a receiver
// with Redis dedupe and a Redis Streams queue (the atomic path), beside
// the in-memory defaults, with a 1 KiB body and a new ID per delivery.
// The Redis case reports round trips per accepted delivery (goal: 1).
func BenchmarkReceiver(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	noop := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil })
	run := func(b *testing.B, r http.Handler) {
		var seq atomic.Int64
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
				req = req.WithContext(context.WithValue(req.Context(), markKey{}, true))
				req.Header.Set("X-Id", "evt_"+strconv.FormatInt(seq.Add(1), 10))
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Errorf("status %d: %s", w.Code, w.Body)
					return
				}
			}
		})
	}
	b.Run("memory", func(b *testing.B) {
		r, err := hookguard.New(idVerifier{}, noop, hookguard.WithCapacity(1<<20))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Shutdown(context.Background())
		run(b, r)
	})
	redisCase := func(b *testing.B, opts ...redistest.Option) {
		srv := redistest.Start(b, opts...)
		rdb := srv.Client(func(o *redis.Options) { o.PoolSize = 64 })
		rt := &roundTrips{}
		rdb.AddHook(rt)
		q, err := rediskit.NewQueue(b.Context(), rdb, noop, rediskit.WithLogger(quiet), rediskit.WithName("bench"), rediskit.WithBlock(50*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		defer q.Shutdown(context.Background())
		r, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()))
		if err != nil {
			b.Fatal(err)
		}
		run(b, r)
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	}
	// The same Redis queue without the atomic path: a standalone Store
	// (reserve, XADD, commit: three round trips), for comparison.
	b.Run("redis-store-then-queue", func(b *testing.B) {
		srv := redistest.Start(b)
		rdb := srv.Client(func(o *redis.Options) { o.PoolSize = 64 })
		rt := &roundTrips{}
		rdb.AddHook(rt)
		q, err := rediskit.NewQueue(b.Context(), rdb, noop, rediskit.WithLogger(quiet), rediskit.WithName("bench"), rediskit.WithBlock(50*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		defer q.Shutdown(context.Background())
		r, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(newTestStore(b, rdb)))
		if err != nil {
			b.Fatal(err)
		}
		run(b, r)
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	})
	// appendfsync always: every write waits for the disk (durable).
	b.Run("redis-fsync-always", func(b *testing.B) { redisCase(b) })
	// appendfsync everysec: what most deployments run.
	b.Run("redis-fsync-everysec", func(b *testing.B) {
		redisCase(b, redistest.WithConfig("appendfsync", "everysec"))
	})
}
