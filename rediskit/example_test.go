package rediskit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/rediskit"
)

// A receiver on several instances: each instance runs this with the same
// Redis, and every event is taken in once and handled once.
func ExampleNewQueue() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	handler := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		log.Printf("handling %s %s", e.Type, e.ID)
		return nil
	})
	q, err := rediskit.NewQueue(ctx, rdb, handler, rediskit.WithWorkers(16))
	if err != nil {
		log.Fatal(err) // Redis unreachable
	}
	stripe, err := providers.New("stripe", "whsec_...")
	if err != nil {
		log.Fatal(err)
	}
	r, err := hookguard.New(stripe, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8080", Handler: r}
	go func() { _ = srv.ListenAndServe() }()

	// On SIGTERM: stop HTTP, then the receiver, then the queue. Events not
	// finished stay in Redis for the other instances.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	_ = r.Shutdown(sctx)
	_ = q.Shutdown(sctx)
}

// A Redis dedupe store beside the receiver's own in-memory queue.
func ExampleNewStore() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	rediskit.LogDurability(context.Background(), rdb, nil)
	github, err := providers.New("github", "secret")
	if err != nil {
		log.Fatal(err)
	}
	store, err := rediskit.NewStore(rdb, rediskit.WithPrefix("myapp:dedupe:"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = hookguard.New(github, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }),
		hookguard.WithStore(store))
	fmt.Println(err)
}
