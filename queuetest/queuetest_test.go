package queuetest_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/hookguard/hookguard/internal/testkit"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/queuetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refQueue is a small reference queue, written independently of
// hookguard.MemoryQueue: one goroutine per event. Its bug field switches
// on one deliberate contract violation, to prove that Run catches it.
type refQueue struct {
	c    queuetest.Config
	bug  string
	mu   sync.Mutex
	shut bool
	wg   sync.WaitGroup
	life context.Context
	kill context.CancelFunc
	n    atomic.Int64
}

func newRefQueue(c queuetest.Config, bug string) *refQueue {
	q := &refQueue{c: c, bug: bug}
	q.life, q.kill = context.WithCancel(context.Background())
	return q
}

func (q *refQueue) Enqueue(_ context.Context, e hookguard.Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut && q.bug != "accept-after-shutdown" {
		return hookguard.ErrShuttingDown
	}
	if q.bug == "drop" && q.n.Add(1)%7 == 3 {
		return nil // acknowledged, never handled
	}
	q.wg.Add(1)
	go q.run(e)
	return nil
}

func (q *refQueue) call(e hookguard.Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", hookguard.ErrHandlerPanic, p)
		}
	}()
	return q.c.Handler.HandleEvent(q.life, e)
}

func (q *refQueue) run(e hookguard.Event) {
	defer q.wg.Done()
	var err error
	for attempt := 1; ; attempt++ {
		if q.life.Err() != nil {
			if q.bug != "lose-on-shutdown" {
				q.c.OnDeadLetter(e, errors.Join(hookguard.ErrShuttingDown, err))
			}
			return
		}
		e.Attempt = attempt
		err = q.call(e)
		switch {
		case err == nil:
			if q.bug == "double" && attempt == 1 {
				_ = q.call(e)
			}
			return
		case q.bug == "no-retry":
			return // acknowledged although it failed
		case (hookguard.IsPermanent(err) && q.bug != "retry-permanent") || attempt >= q.c.MaxAttempts:
			if q.bug != "no-deadletter" {
				q.c.OnDeadLetter(e, err)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (q *refQueue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.shut = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	q.kill()
	<-done
	return ctx.Err()
}

func runRef(t *testing.T, bug string) {
	queuetest.Run(t, func(t *testing.T, c queuetest.Config) queuetest.Queue {
		return newRefQueue(c, bug)
	}, queuetest.WithGrace(100*time.Millisecond), queuetest.WithEvents(40), queuetest.WithTimeout(3*time.Second))
}

func TestRunReferenceQueue(t *testing.T) { runRef(t, "") }

const bugEnv = "QUEUETEST_BUG"

// TestBrokenQueueHelper runs the kit against a broken queue; it does
// something only when TestRunCatchesBrokenQueues starts it in a child
// process, because a failing kit fails the test that runs it.
func TestBrokenQueueHelper(t *testing.T) {
	bug := os.Getenv(bugEnv)
	if bug == "" {
		t.Skip("run by TestRunCatchesBrokenQueues")
	}
	runRef(t, bug)
}

// TestRunCatchesBrokenQueues runs the kit against queues that each break
// one rule, in a child process, and checks that the kit fails with the
// subtests that cover the rule.
func TestRunCatchesBrokenQueues(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per broken queue")
	}
	tests := []struct {
		bug      string
		subtests []string
		messages []string // each must be in the output: the property, then the rule that broke
	}{
		{"drop", []string{"HandledOnce", "ConcurrentEnqueue"}, []string{
			"HandledOnce: not every enqueued event was handled: gave up waiting after ",
			"ConcurrentEnqueue: not every event enqueued concurrently was handled: gave up waiting after ",
		}},
		{"double", []string{"HandledOnce"}, []string{
			"HandledOnce: an acknowledged event must not be delivered again: event evt_",
		}},
		{"no-retry", []string{"FailedAttemptRetried", "DeadLetterAfterMaxAttempts", "PanicIsFailedAttempt"}, []string{
			"FailedAttemptRetried: an event whose first two attempts failed was not handled by a retry: ",
			"PanicIsFailedAttempt: an event whose handler panicked once was not handled by a retry: ",
		}},
		{"no-deadletter", []string{"DeadLetterAfterMaxAttempts", "PermanentNotRetried"}, []string{
			"DeadLetterAfterMaxAttempts: an event that failed every attempt never reached the dead-letter hook: ",
		}},
		{"retry-permanent", []string{"PermanentNotRetried"}, []string{
			"PermanentNotRetried: an attempt that fails with a Permanent error must not be retried: event evt_0: handler called ",
		}},
		{"accept-after-shutdown", []string{"EnqueueAfterShutdown"}, []string{
			"EnqueueAfterShutdown: Enqueue after Shutdown must fail with hookguard.ErrShuttingDown: ",
		}},
		{"lose-on-shutdown", []string{"ShutdownHandsOff"}, []string{
			"ShutdownHandsOff: some events enqueued before Shutdown were neither handled nor dead-lettered",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			out, err := testkit.RunChild("TestBrokenQueueHelper", bugEnv+"="+tc.bug)
			require.Error(t, err, "the kit passed a queue with bug %q:\n%s", tc.bug, out)
			for _, name := range tc.subtests {
				assert.Contains(t, string(out), "--- FAIL: TestBrokenQueueHelper/"+name+" ", "bug %q: subtest %s did not fail", tc.bug, name)
			}
			for _, msg := range tc.messages {
				assert.Contains(t, string(out), msg, "bug %q: the failure does not name the property and the rule that broke", tc.bug)
			}
		})
	}
}
