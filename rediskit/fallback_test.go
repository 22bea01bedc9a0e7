package rediskit_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
)

// TestStoreDownPolicy: with a Redis store beside the in-memory queue, a
// Redis outage makes the receiver fall back to local dedupe and keep
// answering 200 (counted by OnStoreFallback), or, fail-closed, answer 503
// and enqueue nothing.
func TestStoreDownPolicy(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(func(o *redis.Options) { o.MaxRetries = -1; o.DialTimeout = 100 * time.Millisecond })
	store := newTestStore(t, rdb)
	var fallbacks, handled atomic.Int64
	h := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { handled.Add(1); return nil })
	open, err := hookguard.New(idVerifier{}, h, hookguard.WithStore(store), hookguard.WithAckTimeout(300*time.Millisecond),
		hookguard.WithHooks(hookguard.Hooks{OnStoreFallback: func(error) { fallbacks.Add(1) }}))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Shutdown(context.Background())
	closed, err := hookguard.New(idVerifier{}, h, hookguard.WithStore(store), hookguard.WithAckTimeout(300*time.Millisecond), hookguard.WithFailClosed())
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Shutdown(context.Background())

	if w := post(open, "evt_up"); w.Code != http.StatusOK {
		t.Fatalf("with Redis up = %d", w.Code)
	}
	srv.Kill()
	if w := post(open, "evt_down"); w.Code != http.StatusOK || fallbacks.Load() == 0 {
		t.Fatalf("default policy with Redis down = %d, %d fallbacks; want 200 and a counted fallback", w.Code, fallbacks.Load())
	}
	if w := post(open, "evt_down"); w.Header().Get(hookguard.DuplicateHeader) != "true" {
		t.Fatalf("local dedupe while Redis is down: the copy got %d without the duplicate flag", w.Code)
	}
	for deadline := time.Now().Add(5 * time.Second); handled.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of the 2 accepted events", handled.Load())
		}
		time.Sleep(10 * time.Millisecond) // waiting for the queue's workers
	}
	if w := post(closed, "evt_closed"); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("fail-closed with Redis down = %d; want 503 with Retry-After", w.Code)
	}
	time.Sleep(100 * time.Millisecond) // an enqueued event would be handled by now
	if n := handled.Load(); n != 2 {
		t.Fatalf("handled %d events; want 2: fail-closed must enqueue nothing", n)
	}
}
