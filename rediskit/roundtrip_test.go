package rediskit_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
)

// cmdLog is a go-redis hook that, while on, records every round trip the
// client makes: one per Process call (its command's name) and one per
// pipeline, whatever the context of the call.
type cmdLog struct {
	mu    sync.Mutex
	on    bool
	trips []string
}

func (l *cmdLog) add(name string) {
	l.mu.Lock()
	if l.on {
		l.trips = append(l.trips, name)
	}
	l.mu.Unlock()
}

// start clears the log and starts recording.
func (l *cmdLog) start() {
	l.mu.Lock()
	l.on, l.trips = true, nil
	l.mu.Unlock()
}

// stop stops recording and returns the round trips recorded since start.
func (l *cmdLog) stop() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.trips
}

func (l *cmdLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *cmdLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (l *cmdLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		l.add("pipeline(" + strings.Join(names, " ") + ")")
		return next(ctx, cmds)
	}
}

// tally counts the round trips of a log by name, for failure messages.
func tally(trips []string) map[string]int {
	m := make(map[string]int)
	for _, s := range trips {
		m[s]++
	}
	return m
}

// TestRoundTripsPerDelivery asserts the round trips the README claims for
// the ack path of a receiver on Redis: a delivery accepted through the
// atomic path (hookguard.WithStore(q.Store())) makes exactly 1, one Lua
// script that reserves the IDs and adds the event; a duplicate makes 1
// (the same script finds the record seen); through a separate
// rediskit.NewStore beside the queue (the plain path) an accepted delivery
// makes exactly 3: reserve (EVALSHA), enqueue (XADD), commit (EVALSHA),
// and a duplicate 1 (reserve answers Seen; nothing was held, so nothing is
// released).
//
// How the ack path is isolated: the hook counts every command the client
// sends, not only those made with the request's context (the receiver
// does keep the request's values on its store and queue calls, and
// BenchmarkReceiver counts by such a mark, but a count by mark would miss
// a command sent with a context not derived from the request). So nothing
// else may use the client while it counts. The queue, which shares the
// client, runs one worker whose handler blocks on the first event (a
// warm-up delivery) until the test ends: the fetch loop then waits for an
// idle worker and sends nothing (no XREADGROUP, XAUTOCLAIM or XACK), the
// heartbeat ticks only every third of a one-minute visibility timeout, and
// trimming is off. Deliveries are posted one after another, so the
// counted commands are exactly those of ServeHTTP.
//
// The warm-up delivery also makes the counts exact rather than averages:
// it loads the path's Lua scripts into the server's script cache
// (go-redis's Script.Run sends EVALSHA and, on NOSCRIPT, EVAL: the first
// use of a script on a server costs one more round trip), and it leaves
// an open connection in the pool (a dial's handshake also goes through
// the hooks).
func TestRoundTripsPerDelivery(t *testing.T) {
	const n = 50
	cases := []struct {
		name      string
		store     func(t *testing.T, q *rediskit.Queue, rdb *redis.Client) dedupe.Store
		perAccept int
	}{
		// One script: reserve and enqueue atomically.
		{"atomic", func(_ *testing.T, q *rediskit.Queue, _ *redis.Client) dedupe.Store { return q.Store() }, 1},
		// Reserve, enqueue, commit: three round trips.
		{"store-then-queue", func(t *testing.T, _ *rediskit.Queue, rdb *redis.Client) dedupe.Store { return newTestStore(t, rdb) }, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t) // each path on a fresh server: no records or cached scripts shared
			rt := &cmdLog{}
			rdb := srv.Client()
			rdb.AddHook(rt)

			started := make(chan struct{}, 1)
			gate := make(chan struct{})
			block := hookguard.HandlerFunc(func(ctx context.Context, _ hookguard.Event) error {
				select {
				case started <- struct{}{}:
				default:
				}
				select {
				case <-gate:
				case <-ctx.Done():
				}
				return nil
			})
			q := newTestQueue(t, rdb, block,
				rediskit.WithWorkers(1),
				rediskit.WithVisibilityTimeout(time.Minute),
				rediskit.WithAttemptTimeout(time.Minute),
				rediskit.WithTrim(0, 0))
			t.Cleanup(func() { close(gate) }) // runs before the queue's Shutdown
			r, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(q),
				hookguard.WithStore(c.store(t, q, rdb)), hookguard.WithAckTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}

			if w := post(r, "warm-up"); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
				t.Fatalf("warm-up: status %d, duplicate %q: %s; want accepted", w.Code, w.Header().Get(hookguard.DuplicateHeader), w.Body)
			}
			select {
			case <-started: // the only worker holds the warm-up event: the consumer side is idle
			case <-time.After(10 * time.Second):
				t.Fatal("the queue's worker did not take the warm-up event")
			}

			rt.start()
			for i := range n {
				id := fmt.Sprintf("evt_%d", i)
				w := post(r, id)
				if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
					rt.stop()
					t.Fatalf("%s: status %d, duplicate %q: %s; want accepted", id, w.Code, w.Header().Get(hookguard.DuplicateHeader), w.Body)
				}
			}
			trips := rt.stop()
			if want := c.perAccept * n; len(trips) != want {
				t.Errorf("%d accepted deliveries made %d round trips (%v); want %d (%d each)", n, len(trips), tally(trips), want, c.perAccept)
			}

			rt.start()
			w := post(r, "evt_0")
			trips = rt.stop()
			if w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "true" {
				t.Fatalf("evt_0 again: status %d, duplicate %q: %s; want a duplicate", w.Code, w.Header().Get(hookguard.DuplicateHeader), w.Body)
			}
			if len(trips) != 1 {
				t.Errorf("a duplicate delivery made %d round trips (%v); want 1", len(trips), tally(trips))
			}

			// Every accepted delivery is in the stream, the warm-up too.
			if got, err := srv.Client().XLen(t.Context(), q.Stream()).Result(); err != nil || got != n+1 {
				t.Errorf("stream holds %d entries (err %v); want %d", got, err, n+1)
			}
		})
	}
}
