package rediskit_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// noSyncDelay makes a primary start a full resync at once, not after the
// default 5 s wait for more replicas (repl-diskless-sync-delay).
var noSyncDelay = redistest.WithConfig("repl-diskless-sync-delay", "0")

// startReplica starts a replica of primary and waits until the primary
// counts it as connected and in sync.
func startReplica(t *testing.T, primary *redistest.Server) *redistest.Server {
	t.Helper()
	host, port, err := net.SplitHostPort(primary.Addr())
	if err != nil {
		t.Fatal(err)
	}
	replica := redistest.Start(t, redistest.WithConfig("replicaof", host, port))
	waitReplicas(t, primary.Client(), 1)
	return replica
}

// waitReplicas waits until the primary reports n replicas online.
func waitReplicas(t *testing.T, rdb *redis.Client, n int) {
	t.Helper()
	want := "connected_slaves:" + string(rune('0'+n))
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := rdb.Info(t.Context(), "replication").Result()
		if err == nil && strings.Contains(info, want) && strings.Count(info, "state=online") == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication not up after 15s: %v %q", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// retryUntilAccepted resends id, as a sender would after a 503, until it
// is accepted: a WAIT right after a replica's resync may still time out
// on a loaded machine. An answer as a duplicate fails t: the 503 before it
// must have left no record behind.
func retryUntilAccepted(t *testing.T, r http.Handler, id string) {
	t.Helper()
	for i := 0; ; i++ {
		w := post(r, id)
		if w.Code == http.StatusOK {
			if w.Header().Get(hookguard.DuplicateHeader) != "" {
				t.Fatalf("retry of %s with the replica back answered as a duplicate: the 503 left a record behind", id)
			}
			return
		}
		if w.Code != http.StatusServiceUnavailable || i == 20 {
			t.Fatalf("retry %d of %s with the replica back: %d %q, want 200 accepted", i, id, w.Code, w.Body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestWaitReplicas: with WithWaitReplicas(1, …) an event is acknowledged
// only once a replica holds it, on the atomic path (the queue's own
// store) and on the plain path (another store: Reserve, Enqueue, Commit).
// With the replica stopped, WAIT confirms 0 replicas: the receiver
// answers 503 with Retry-After, and neither a dedupe record nor the
// stream entry is left on the primary, so the sender's retry, once the
// replica is back, is accepted as new (not answered as a duplicate) and
// handled. On the atomic path a duplicate is answered 503 too while no
// replica confirms its record.
func TestWaitReplicas(t *testing.T) {
	for _, tc := range []struct {
		name   string
		atomic bool
	}{{"atomic", true}, {"plain", false}} {
		t.Run(tc.name, func(t *testing.T) {
			primary := redistest.Start(t, noSyncDelay)
			replica := startReplica(t, primary)
			rdb := primary.Client()
			cnt := testkit.NewCounter()
			q := newTestQueue(t, rdb, cnt, rediskit.WithWaitReplicas(1, time.Second), rediskit.WithTrim(0, 0))
			store := q.Store()
			prefix := "hookguard:{" + testName(t) + "}:seen:"
			if !tc.atomic {
				prefix = "plain:"
				store = newTestStore(t, rdb, rediskit.WithPrefix(prefix))
			}
			r, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(store))
			if err != nil {
				t.Fatal(err)
			}
			records := func(c *redis.Client) int {
				keys, err := c.Keys(t.Context(), prefix+"*").Result()
				if err != nil {
					t.Fatal(err)
				}
				return len(keys)
			}

			// Replica up: accepted, and the replica holds event and record.
			if w := post(r, "evt_1"); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
				t.Fatalf("with the replica up: %d %q, want 200 accepted", w.Code, w.Body)
			}
			rep := replica.Client()
			if n, err := rep.XLen(t.Context(), q.Stream()).Result(); err != nil || n != 1 {
				t.Errorf("replica holds %d entries (%v) right after the 200; want 1", n, err)
			}
			if n := records(rep); n != 1 {
				t.Errorf("replica holds %d dedupe records right after the 200; want 1", n)
			}
			cnt.WaitDistinct(t, 1, 10*time.Second)

			// Replica down: 503, nothing left behind. (SIGKILL: on SIGTERM
			// redis-server may wait up to shutdown-timeout before exiting.)
			replica.Kill()
			w := post(r, "evt_2")
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Fatalf("with the replica down: %d %q (Retry-After %q), want 503 with Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"))
			}
			if n := records(rdb); n != 1 {
				t.Errorf("primary holds %d dedupe records after the 503; want 1 (evt_1's only)", n)
			}
			if tc.atomic {
				// A duplicate is not confirmed either: the script rewrites the
				// record it found so that WAIT covers the write that made it.
				if w := post(r, "evt_1"); w.Code != http.StatusServiceUnavailable {
					t.Errorf("duplicate with the replica down: %d %q, want 503 (its record cannot be confirmed)", w.Code, w.Body)
				}
			}
			if n, err := rdb.XLen(t.Context(), q.Stream()).Result(); err != nil || n != 1 {
				t.Errorf("stream holds %d entries (%v) after the 503; want 1 (evt_1's only)", n, err)
			}

			// Replica back: the retry is new, accepted and handled.
			replica.Restart()
			waitReplicas(t, rdb, 1)
			retryUntilAccepted(t, r, "evt_2")
			cnt.WaitDistinct(t, 2, 10*time.Second)
			if w := post(r, "evt_2"); w.Header().Get(hookguard.DuplicateHeader) != "true" {
				t.Errorf("second retry: %d %q, want a duplicate", w.Code, w.Body)
			}
		})
	}
}

// TestWaitReplicasEnqueueError: Enqueue itself reports the shortfall with
// an error wrapping ErrNotReplicated, and takes the entry back.
func TestWaitReplicasEnqueueError(t *testing.T) {
	primary := redistest.Start(t) // no replica at all
	rdb := primary.Client()
	q := newTestQueue(t, rdb, testkit.NewCounter(), rediskit.WithWaitReplicas(1, 50*time.Millisecond), rediskit.WithTrim(0, 0))
	err := q.Enqueue(context.Background(), hookguard.Event{Provider: "test", ID: "evt_1", Body: []byte("{}")})
	if !errors.Is(err, rediskit.ErrNotReplicated) {
		t.Fatalf("Enqueue without replicas: %v, want ErrNotReplicated", err)
	}
	if n, err := rdb.XLen(t.Context(), q.Stream()).Result(); err != nil || n != 0 {
		t.Errorf("stream holds %d entries (%v) after the failed enqueue; want 0", n, err)
	}
}
