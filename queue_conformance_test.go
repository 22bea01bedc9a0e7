package hookguard_test

import (
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/queuetest"
)

// TestMemoryQueueConformance runs the queue conformance kit against the
// in-memory queue. It has no backend to share, so it hands what Shutdown
// cuts short to the dead-letter hook.
func TestMemoryQueueConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, c queuetest.Config) queuetest.Queue {
		return testkit.NewMemoryQueue(t, c.Handler,
			hookguard.WithWorkers(4),
			hookguard.WithMaxAttempts(c.MaxAttempts),
			hookguard.WithBackoff(time.Millisecond, 5*time.Millisecond),
			hookguard.WithDeadLetter(c.OnDeadLetter))
	})
}
