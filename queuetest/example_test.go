package queuetest_test

import (
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/queuetest"
)

// newQueue builds the queue under test from the kit's Config. Here it is
// hookguard's MemoryQueue; for your own queue (SQS, a database table, ...)
// build yours with c.Handler, c.MaxAttempts and c.OnDeadLetter, and give
// the queues built for the same subtest t a shared backend.
func newQueue(t *testing.T, c queuetest.Config) queuetest.Queue {
	q, err := hookguard.NewMemoryQueue(c.Handler,
		hookguard.WithMaxAttempts(c.MaxAttempts),
		hookguard.WithDeadLetter(c.OnDeadLetter),
		hookguard.WithBackoff(time.Millisecond, 5*time.Millisecond), // keep retries quick
	)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// runConformance is what a test of your queue's package calls:
//
//	func TestQueueConformance(t *testing.T) { queuetest.Run(t, newQueue) }
func runConformance(t *testing.T) {
	queuetest.Run(t, newQueue, queuetest.WithTimeout(30*time.Second))
}

// Example runs the conformance kit against a queue: put newQueue and a
// test that calls Run in a _test.go file of your queue's package.
func Example() {
	_ = runConformance // called from a test function: Run needs its *testing.T
}
