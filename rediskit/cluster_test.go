package rediskit_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// TestClusterReceiver runs the receiver on Redis Cluster, through a
// go-redis ClusterClient, with the queue's own store (the atomic script,
// whose keys must share one slot) and with a standalone Store beside the
// queue (one key per call, in any slot, so on either of the cluster's two
// primaries). Every event is posted twice at
// once: each must be accepted once, answered as a duplicate once (or, on
// the plain path, 409 while the first copy's reservation is pending), and
// handled exactly once. A node in cluster mode refuses a script whose
// keys span slots (CROSSSLOT), so a key outside the queue's hash tag
// would fail every delivery here.
func TestClusterReceiver(t *testing.T) {
	c := redistest.StartCluster(t, 2, 0)
	for _, tc := range []struct {
		name   string
		atomic bool
	}{{"atomic", true}, {"plain", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cc := c.Client()
			cnt := testkit.NewCounter()
			q := newTestQueue(t, cc, cnt)
			store := q.Store()
			if !tc.atomic {
				store = newTestStore(t, cc, rediskit.WithPrefix("plain:"))
			}
			r, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(store),
				hookguard.WithAckTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			const events = 200
			var mu sync.Mutex
			codes := map[string]int{}
			var wg sync.WaitGroup
			for i := range events {
				id := fmt.Sprintf("evt_%03d", i)
				for range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						w := post(r, id)
						key := fmt.Sprint(w.Code)
						switch {
						case w.Code == http.StatusOK && w.Header().Get(hookguard.DuplicateHeader) == "true":
							key = "duplicate"
						case w.Code == http.StatusConflict && !tc.atomic:
							// Without the atomic script the second copy may
							// find the first one's reservation still pending:
							// 409, and the sender retries (README, status table).
							key = "duplicate"
						case w.Code != http.StatusOK:
							key += " " + w.Body.String()
						}
						mu.Lock()
						codes[key]++
						mu.Unlock()
					}()
				}
			}
			wg.Wait()
			if codes["200"] != events || codes["duplicate"] != events {
				t.Fatalf("answers %v; want %d accepted and %d duplicates", codes, events, events)
			}
			cnt.WaitDistinct(t, events, 20*time.Second)
			time.Sleep(100 * time.Millisecond) // a second run of an event would show up by now
			for id, n := range cnt.Snapshot() {
				if n != 1 {
					t.Errorf("%s handled %d times, want 1", id, n)
				}
			}
		})
	}

	// The queue's keys share one slot, as the atomic script needs.
	cc := c.Client()
	q := newTestQueue(t, cc, testkit.NewCounter())
	slot := func(key string) int64 {
		n, err := cc.ClusterKeySlot(t.Context(), key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := slot(q.Stream()), slot("hookguard:{"+testName(t)+"}:seen:test:evt_1"); a != b {
		t.Errorf("stream %q in slot %d, its dedupe record in slot %d: want one slot", q.Stream(), a, b)
	}
}

// TestClusterWaitReplicas: WithWaitReplicas on Redis Cluster sends WAIT
// to the primary that holds the queue's slot: WAIT has no key, and a
// cluster client sends a keyless command to any node. The cluster has two
// primaries and one replica, of the primary that holds the queue; a WAIT
// sent to the other primary would count no replica and fail the
// delivery, so ten deliveries in a row would not all pass by chance. With
// the replica up every event is accepted and the replica holds it at
// once; with the replica down the receiver answers 503 and leaves nothing
// behind; with it back, the sender's retry is accepted as new.
func TestClusterWaitReplicas(t *testing.T) {
	c := redistest.StartCluster(t, 2, 1)
	cc := c.Client()
	// A queue name whose slot the first primary (slots 0-8191) serves.
	var name string
	for i := 0; name == ""; i++ {
		n := fmt.Sprintf("wait-%d", i)
		slot, err := cc.ClusterKeySlot(t.Context(), "hookguard:{"+n+"}:events").Result()
		if err != nil {
			t.Fatal(err)
		}
		if slot < 8192 {
			name = n
		}
	}
	cnt := testkit.NewCounter()
	q := newTestQueue(t, cc, cnt, rediskit.WithName(name), rediskit.WithWaitReplicas(1, time.Second), rediskit.WithTrim(0, 0))
	r := newReceiver(t, q)
	// A replica in cluster mode serves reads only on a READONLY connection.
	rep := c.Replicas[0].Client(func(o *redis.Options) {
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
	})

	const up = 10
	for i := range up {
		id := fmt.Sprintf("evt_up_%d", i)
		if w := post(r, id); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
			t.Fatalf("%s with the replica up: %d %q, want 200 accepted", id, w.Code, w.Body)
		}
	}
	if n, err := rep.XLen(t.Context(), q.Stream()).Result(); err != nil || n != up {
		t.Errorf("replica holds %d entries (%v) right after the 200s; want %d", n, err, up)
	}
	cnt.WaitDistinct(t, up, 10*time.Second)

	c.Replicas[0].Kill()
	w := post(r, "evt_down")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("with the replica down: %d %q (Retry-After %q), want 503 with Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	if n, err := cc.XLen(t.Context(), q.Stream()).Result(); err != nil || n != up {
		t.Errorf("stream holds %d entries (%v) after the 503; want %d", n, err, up)
	}

	c.Replicas[0].Restart()
	c.WaitReplicas(1)
	retryUntilAccepted(t, r, "evt_down")
	cnt.WaitDistinct(t, up+1, 10*time.Second)
}
