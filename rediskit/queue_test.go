package rediskit_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/queuetest"
	"github.com/hookguard/hookguard/rediskit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testName turns a test name into a queue name.
func testName(t *testing.T) string {
	return strings.NewReplacer("/", ".", "{", "(", "}", ")").Replace(t.Name())
}

// newTestQueue starts a queue with timings short enough for tests.
func newTestQueue(t *testing.T, rdb redis.UniversalClient, h hookguard.Handler, opts ...rediskit.QueueOption) *rediskit.Queue {
	t.Helper()
	base := []rediskit.QueueOption{
		rediskit.WithName(testName(t)),
		rediskit.WithWorkers(4),
		rediskit.WithBackoff(time.Millisecond, 5*time.Millisecond),
		rediskit.WithVisibilityTimeout(500 * time.Millisecond),
		rediskit.WithBlock(50 * time.Millisecond),
		rediskit.WithLogger(quiet),
	}
	q, err := rediskit.NewQueue(t.Context(), rdb, h, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	return q
}

func TestQueueConformance(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	queuetest.Run(t, func(t *testing.T, c queuetest.Config) queuetest.Queue {
		return newTestQueue(t, rdb, c.Handler,
			rediskit.WithMaxAttempts(c.MaxAttempts),
			rediskit.WithDeadLetter(c.OnDeadLetter))
	}, queuetest.WithGrace(700*time.Millisecond))
}
