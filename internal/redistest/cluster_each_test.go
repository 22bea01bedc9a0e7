package redistest_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/internal/redistest"
)

// TestStartClusterEachFailover: with StartClusterEach every primary has
// its own replicas; when a primary is SIGKILLed one of its replicas takes
// over its slots (WaitFailover names it), keeps what a WAIT 1 confirmed
// before the kill, and the other replica follows the new primary, so that
// WAIT 1 succeeds on it again. The other primary serves throughout
// (cluster-require-full-coverage no).
func TestStartClusterEachFailover(t *testing.T) {
	// A replica is promoted only with the votes of a majority of the
	// primaries: two would not do once one is dead.
	c := redistest.StartClusterEach(t, 3, 2,
		redistest.WithConfig("cluster-node-timeout", "1000"),
		redistest.WithConfig("cluster-require-full-coverage", "no"))
	if len(c.Primaries) != 3 || len(c.ReplicasOf) != 3 || len(c.Nodes()) != 9 {
		t.Fatalf("%d primaries, %d replica sets, %d nodes; want 3, 3, 9", len(c.Primaries), len(c.ReplicasOf), len(c.Nodes()))
	}
	if !slices.Equal(c.Replicas, c.ReplicasOf[0]) {
		t.Errorf("Replicas %v, want ReplicasOf[0] %v", c.Replicas, c.ReplicasOf[0])
	}
	ctx := t.Context()
	for i, rs := range c.ReplicasOf {
		if len(rs) != 2 {
			t.Fatalf("primary %d has %d replicas, want 2", i, len(rs))
		}
		port := c.Primaries[i].Addr()[strings.LastIndex(c.Primaries[i].Addr(), ":")+1:]
		for _, r := range rs {
			info, err := r.Client().Info(ctx, "replication").Result()
			if err != nil || !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_port:"+port+"\r\n") {
				t.Fatalf("replica %s of primary %d: INFO replication %v %q", r.Addr(), i, err, info)
			}
		}
	}
	const low, high = 0, 16383 // served by the first and the last primary
	if p := c.PrimaryFor(low); p != c.Primaries[0] {
		t.Fatalf("PrimaryFor(%d) = %v, want the first primary", low, p)
	}
	old := c.PrimaryFor(high)
	if old != c.Primaries[2] {
		t.Fatalf("PrimaryFor(%d) = %v, want the last primary", high, old)
	}

	// go-redis keeps sending a slot's commands to its dead primary until
	// it reloads the slot map: on a MOVED reply, or when the map is older
	// than ClusterStateReloadInterval (default 60 s).
	cc := c.FailoverClient(func(o *redis.ClusterOptions) { o.ClusterStateReloadInterval = 500 * time.Millisecond })
	key := keyInSlot(t, high)
	if err := cc.Set(ctx, key, "kept", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := old.Client().Do(ctx, "WAIT", 2, 2000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 on the primary: %d, %v; want both replicas", n, err)
	}

	killed := time.Now()
	old.Kill()
	if err := c.Primaries[0].Client().Set(ctx, keyInSlot(t, low), "up", 0).Err(); err != nil {
		t.Errorf("the other primary refused a write right after the kill: %v", err)
	}
	promoted := c.WaitFailover(high, old)
	t.Logf("replica %s promoted %v after the kill", promoted.Addr(), time.Since(killed).Round(time.Millisecond))
	if !slices.Contains(c.ReplicasOf[2], promoted) {
		t.Fatalf("WaitFailover named %s, not a replica of the killed primary", promoted.Addr())
	}
	if p := c.PrimaryFor(high); p != promoted {
		t.Errorf("PrimaryFor(%d) = %v after the failover, want %s", high, p, promoted.Addr())
	}
	c.WaitReplicasOn(promoted, 1)
	if n, err := promoted.Client().Do(ctx, "WAIT", 1, 2000).Int(); err != nil || n != 1 {
		t.Errorf("WAIT 1 on the promoted primary: %d, %v; want the other replica to follow it", n, err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if got, err := cc.Get(rctx, key).Result(); err != nil || got != "kept" {
		t.Errorf("GET %s through the cluster client after the failover: %q, %v; want \"kept\"", key, got, err)
	}
}

// keyInSlot returns a key that hashes to slot.
func keyInSlot(t *testing.T, slot int) string {
	t.Helper()
	for i := range 1 << 20 {
		if key := "k" + strconv.Itoa(i); redistest.Slot(key) == slot {
			return key
		}
	}
	t.Fatalf("no key found for slot %d", slot)
	return ""
}

// TestSlot: Slot agrees with CLUSTER KEYSLOT, hash tags included.
func TestSlot(t *testing.T) {
	c := redistest.StartCluster(t, 1, 0)
	rc := c.Primary.Client()
	for _, key := range []string{"", "a", "foo", "hookguard:{q}:events", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "{}x", "k123456"} {
		want, err := rc.ClusterKeySlot(t.Context(), key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := redistest.Slot(key); got != int(want) {
			t.Errorf("Slot(%q) = %d, CLUSTER KEYSLOT says %d", key, got, want)
		}
	}
}
