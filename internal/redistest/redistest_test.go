package redistest_test

import (
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
