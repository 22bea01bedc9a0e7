package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/rediskit"
)

// redisBackend is serve's --redis: one client, and one durable queue whose
// dedupe store the receivers share, so that several serve processes given
// the same URL share the work and never take an event in twice.
type redisBackend struct {
	rdb *redis.Client
	q   *rediskit.Queue
}

// newRedisBackend connects to url and starts the queue's workers, which
// call h. It fails when Redis cannot be reached within 5 seconds.
//
// go-redis's own log lines (a failed dial during an outage, ...) go to
// logger at WARN, in serve's log format, instead of to standard error in
// go-redis's format. That setting is process-wide; serve runs one
// backend per process, and sets it before the client exists.
func newRedisBackend(ctx context.Context, url string, h hookguard.Handler, logger *slog.Logger, hooks hookguard.Hooks, opts ...rediskit.QueueOption) (*redisBackend, error) {
	ropts, err := redis.ParseURL(url)
	if err != nil {
		// go-redis quotes the whole URL, password included.
		redact := &postgresDB{secrets: passwordsIn(url)}
		return nil, redact.errorf("--redis: %w", err)
	}
	rediskit.SetRedisLogger(logger)
	rdb := redis.NewClient(ropts)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	q, err := rediskit.NewQueue(cctx, rdb, h, append([]rediskit.QueueOption{rediskit.WithLogger(logger), rediskit.WithHooks(hooks)}, opts...)...)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("--redis %s: %w", ropts.Addr, err)
	}
	logger.Info("using redis", "addr", ropts.Addr, "stream", q.Stream(), "shards", len(q.Shards()), "consumer", q.Consumer())
	return &redisBackend{rdb: rdb, q: q}, nil
}

// options makes a receiver enqueue into the queue and dedupe in its store,
// in one atomic step.
func (b *redisBackend) options() []hookguard.Option {
	return []hookguard.Option{hookguard.WithQueue(b.q), hookguard.WithStore(b.q.Store())}
}

// Shutdown stops the queue (its unfinished events stay in Redis for the
// other processes) and closes the client.
func (b *redisBackend) Shutdown(ctx context.Context) error {
	err := b.q.Shutdown(ctx)
	_ = b.rdb.Close()
	return err
}

// inspectorDeadLetters gives the inspector and /metrics the queue's dead
// letters; they are counted with XLEN of each shard's dead-letter stream,
// O(1) each, in one pipeline.
func (b *redisBackend) inspectorDeadLetters() deadLetterView {
	return deadLetterView{ops: b.q, held: func(ctx context.Context) (int64, error) {
		shards := b.q.Shards()
		lens := make([]*redis.IntCmd, len(shards))
		if _, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range shards {
				lens[i] = p.XLen(ctx, s.DeadLetters)
			}
			return nil
		}); err != nil {
			return 0, err
		}
		var n int64
		for _, l := range lens {
			n += l.Val()
		}
		return n, nil
	}}
}

// redisShards returns the queue options of --shards and --former-shards
// (0: not set).
func redisShards(shards, former int) []rediskit.QueueOption {
	opts := []rediskit.QueueOption{rediskit.WithShards(shards)}
	if former != 0 {
		opts = append(opts, rediskit.WithFormerShards(former))
	}
	return opts
}

// shutdown stops b, if any, when serve fails before it starts.
func (b *redisBackend) shutdown(timeout time.Duration, logger *slog.Logger) {
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		logger.Error("redis queue shutdown incomplete", "err", err)
	}
}
