package redistest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/redistest"
)

func TestKillRestartKeepsData(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := t.Context()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING succeeded after Kill")
	}
	s.Restart()
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after Kill and Restart GET k = %q, %v; want \"v\" (appendonly with fsync always keeps it)", got, err)
	}
	s.Stop()
	s.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("after Stop and Restart GET k = %q, %v; want \"v\"", got, err)
	}
	if s.URL() != "redis://"+s.Addr()+"/0" {
		t.Errorf("URL() = %q", s.URL())
	}
}

func TestWithConfig(t *testing.T) {
	s := redistest.Start(t, redistest.WithConfig("maxmemory-policy", "allkeys-lru"))
	got, err := s.Client().ConfigGet(t.Context(), "maxmemory-policy").Result()
	if err != nil || got["maxmemory-policy"] != "allkeys-lru" {
		t.Fatalf("CONFIG GET maxmemory-policy = %v, %v; want allkeys-lru", got, err)
	}
}

// TestStartCluster: the primaries split the slots, the replica follows
// the first one, a cluster client reaches keys on both primaries, and a
// node in cluster mode refuses a command whose keys span slots, which is
// what makes it a test of cluster code.
func TestStartCluster(t *testing.T) {
	c := redistest.StartCluster(t, 2, 1)
	cc := c.Client()
	ctx := t.Context()
	owners := map[string]bool{}
	for _, key := range []string{"a", "b", "c", "d", "e", "f"} {
		if err := cc.Set(ctx, key, "1", 0).Err(); err != nil {
			t.Fatalf("SET %s through the cluster client: %v", key, err)
		}
		slot, err := cc.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		owners[fmt.Sprint(slot < 8192)] = true
	}
	if len(owners) != 2 {
		t.Fatalf("the test's keys all hash to one half of the slots: %v", owners)
	}
	err := c.Primary.Client().MSet(ctx, "a", "1", "b", "2").Err()
	if err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
		t.Fatalf("MSET of keys in two slots on a cluster node: %v, want CROSSSLOT", err)
	}
	if len(c.Replicas) != 1 || len(c.Primaries) != 2 || c.Primary != c.Primaries[0] {
		t.Fatalf("%d primaries, %d replicas; want 2 and 1", len(c.Primaries), len(c.Replicas))
	}
	info, err := c.Replicas[0].Client().Info(ctx, "replication").Result()
	if err != nil || !strings.Contains(info, "role:slave") || !strings.Contains(info, c.Primary.Addr()[len("127.0.0.1:"):]) {
		t.Fatalf("replica INFO replication: %v %q, want role:slave of the first primary", err, info)
	}
}
