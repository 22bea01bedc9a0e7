package rediskit_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/rediskit"
)

// A queue behind Redis Sentinel that acknowledges an event only once a
// replica holds it, so a failover loses no acknowledged event.
func ExampleWithWaitReplicas() {
	ctx := context.Background()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    "mymaster",
		SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ReadTimeout:   time.Second, // longer than WAIT's timeout
	})
	handler := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error { return nil })
	q, err := rediskit.NewQueue(ctx, rdb, handler, rediskit.WithWaitReplicas(1, 200*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	_ = q // give it to hookguard.New with hookguard.WithQueue(q), hookguard.WithStore(q.Store())
}
