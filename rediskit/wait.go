package rediskit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is wrapped by the error of an enqueue that WAIT could
// not confirm on enough replicas within its timeout (see
// [WithWaitReplicas]). The event was taken back, so the receiver answers
// 503 with Retry-After and the sender retries later. Check that the
// replicas are up and connected (INFO replication on the primary).
var ErrNotReplicated = errors.New("rediskit: event not confirmed by enough replicas (WAIT); it was not accepted, retry later")

// WithWaitReplicas makes an accepted enqueue durable across a failover:
// after storing an event (Enqueue, or the receiver's atomic
// reserve-and-enqueue), the queue sends WAIT n timeout on the same
// connection, in the same round trip, and reports success only when at
// least n replicas confirmed the write. Otherwise it deletes what it
// wrote and fails with [ErrNotReplicated], and the receiver answers 503,
// so an event is acknowledged only once it lives on n+1 servers.
//
// Without it (the default), replication is asynchronous: when the primary
// dies, a replica promoted by Sentinel may lack the events acknowledged in
// the last moments before. WAIT narrows that window to what the
// replicas lost themselves; it does not make Redis strongly consistent
// (see the WAIT command's documentation). Pick n below the number of
// replicas, so that losing one replica does not stop intake; keep timeout
// short (a few hundred milliseconds) and below the client's ReadTimeout.
//
// n < 1 or timeout < 1ms (WAIT with 0 would block forever) is a
// configuration error (see [NewQueue]).
func WithWaitReplicas(n int, timeout time.Duration) QueueOption {
	return func(c *queueConfig) {
		if n < 1 || timeout < time.Millisecond {
			c.invalidOption("WithWaitReplicas(%d, %v): want n >= 1 and timeout >= 1ms (WAIT with 0 would block forever)", n, timeout)
			return
		}
		c.waitReplicas, c.waitTimeout = n, timeout
	}
}

// waitTarget returns the client whose pipeline carries a write and its
// WAIT on one connection: on Redis Cluster, the primary of key's slot
// (WAIT has no key to route by).
func (q *Queue) waitTarget(ctx context.Context, key string) (redis.Cmdable, error) {
	if cc, ok := q.rdb.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return node, nil
	}
	return q.rdb, nil
}

// reroute asks a Cluster client to reload its slot map after a command
// failed for a reason that is not the command's own: after a failover,
// go-redis keeps sending a slot's commands to its dead primary until a
// node answers MOVED or the map is older than ClusterStateReloadInterval
// (60 s by default), and commands sent to a node client (WAIT's
// pipelines) or to a dead node never see a MOVED. go-redis reloads at most
// once per 200 ms however often it is asked, in the background.
func (q *Queue) reroute(err error) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, ErrNotReplicated) {
		return
	}
	if cc, ok := q.rdb.(*redis.ClusterClient); ok {
		var rerr redis.Error
		if errors.As(err, &rerr) && !clusterStateError(rerr.Error()) {
			return // the command's own error, from a live primary
		}
		cc.ReloadState(context.Background())
	}
}

// clusterStateError reports whether a Redis error reply says the slot map
// changed or the cluster is not ready.
func clusterStateError(msg string) bool {
	for _, p := range []string{"MOVED", "ASK", "CLUSTERDOWN", "READONLY", "TRYAGAIN", "LOADING", "MASTERDOWN"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// scriptWait runs script and WAIT after it, in one round trip on the
// connection that serves route, sending the script's source when the
// server does not know it yet. It returns both commands; their errors are
// the caller's to read.
func (q *Queue) scriptWait(ctx context.Context, route string, script *redis.Script, keys []string, args ...any) (sc, wait *redis.Cmd, err error) {
	c, err := q.waitTarget(ctx, route)
	if err != nil {
		return nil, nil, err
	}
	run := func(eval bool) {
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			if eval {
				sc = script.Eval(ctx, p, keys, args...)
			} else {
				sc = script.EvalSha(ctx, p, keys, args...)
			}
			wait = p.Do(ctx, "WAIT", q.cfg.waitReplicas, q.cfg.waitTimeout.Milliseconds())
			return nil
		})
	}
	run(false)
	if err := sc.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		run(true) // first use on this server: send the source
	}
	return sc, wait, nil
}

// runWait runs script and WAIT after it (see scriptWait) and returns the
// script's error, or WAIT's.
func (q *Queue) runWait(ctx context.Context, route string, script *redis.Script, keys []string, args ...any) error {
	sc, wait, err := q.scriptWait(ctx, route, script, keys, args...)
	if err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return q.checkWait(wait)
}

// checkWait turns WAIT's reply into nil or an error.
func (q *Queue) checkWait(w *redis.Cmd) error {
	got, err := w.Int64()
	if err != nil {
		return fmt.Errorf("rediskit: WAIT: %w", err)
	}
	if got < int64(q.cfg.waitReplicas) {
		return fmt.Errorf("%w: %d of %d replicas confirmed within %v", ErrNotReplicated, got, q.cfg.waitReplicas, q.cfg.waitTimeout)
	}
	return nil
}

// undoCtx bounds the clean-up after a failed WAIT; it runs even when the
// request's context has ended.
func (q *Queue) undoCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), max(q.cfg.waitTimeout, time.Second))
}

// enqueueWait adds the entry and waits for the replicas, in one round
// trip on one connection.
func (q *Queue) enqueueWait(ctx context.Context, sh *shard, vals []any) error {
	c, err := q.waitTarget(ctx, sh.Stream)
	if err != nil {
		return fmt.Errorf("rediskit: enqueue: %w", err)
	}
	var (
		add  *redis.StringCmd
		wait *redis.Cmd
	)
	// Each command's own error is read below.
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		add = p.XAdd(ctx, &redis.XAddArgs{Stream: sh.Stream, Values: vals})
		wait = p.Do(ctx, "WAIT", q.cfg.waitReplicas, q.cfg.waitTimeout.Milliseconds())
		return nil
	})
	if add.Err() != nil {
		q.reroute(add.Err())
		return fmt.Errorf("rediskit: enqueue: %w", add.Err())
	}
	if err := q.checkWait(wait); err != nil {
		// Take the event back, so that the sender's retry does not add
		// it a second time; if this fails, it is handled twice.
		uctx, cancel := q.undoCtx(ctx)
		defer cancel()
		if derr := q.rdb.XDel(uctx, sh.Stream, add.Val()).Err(); derr != nil {
			q.cfg.logger.LogAttrs(uctx, slog.LevelWarn, "rediskit: could not delete an entry that WAIT did not confirm; it may be handled twice", slog.String("entry", add.Val()), slog.Any("error", derr))
		}
		return fmt.Errorf("rediskit: enqueue: %w", err)
	}
	return nil
}

// enqueueOnceWait runs the atomic script with touch on and WAIT after it,
// in one round trip on one connection. mine is the call's nonce and token.
// When WAIT does not confirm, it takes back what the script wrote if undo
// is set, and returns 0; otherwise it leaves it and returns the script's
// code. Its error is wrapped by the caller.
func (q *Queue) enqueueOnceWait(ctx context.Context, sh *shard, keys []string, args []any, mine string, undo bool) (code int, err error) {
	sc, wait, err := q.scriptWait(ctx, sh.Stream, enqueueOnceScript, keys, args...)
	if err != nil {
		return 0, err
	}
	n, id, err := onceReply(sc)
	if err != nil {
		return 0, err
	}
	if err := q.checkWait(wait); err != nil {
		if !undo {
			return n, err
		}
		if n == 1 {
			uctx, cancel := q.undoCtx(ctx)
			defer cancel()
			if uerr := undoOnceScript.Run(uctx, q.rdb, keys, mine, id).Err(); uerr != nil {
				q.cfg.logger.LogAttrs(uctx, slog.LevelWarn, "rediskit: could not take back an event that WAIT did not confirm; the sender's retry may be answered as a duplicate", slog.String("entry", id), slog.Any("error", uerr))
			}
		}
		return 0, err
	}
	return n, nil
}

// onceReply reads enqueueOnceScript's {code, entry ID} reply.
func onceReply(c *redis.Cmd) (code int, id string, err error) {
	vs, err := c.Slice()
	if err != nil {
		return 0, "", err
	}
	if len(vs) != 2 {
		return 0, "", fmt.Errorf("rediskit: unexpected reply from the enqueue script: %v", vs)
	}
	n, ok := vs[0].(int64)
	if !ok {
		return 0, "", fmt.Errorf("rediskit: unexpected reply from the enqueue script: %v", vs)
	}
	id, _ = vs[1].(string)
	return int(n), id, nil
}
