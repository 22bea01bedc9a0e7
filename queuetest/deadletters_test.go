package queuetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/queuetest"
)

// refDLQueue is a small reference queue with dead letters, kept in
// memory: one goroutine per event, a map of seen dedupe keys, a slice of
// dead letters. Its bug field switches on one deliberate violation of
// the dead-letter contract, to prove that RunDeadLetters catches it.
type refDLQueue struct {
	c    queuetest.DeadLetterConfig
	bug  string
	mu   sync.Mutex
	shut bool
	seen map[string]bool
	dead []hookguard.DeadLetter
	next int
	wg   sync.WaitGroup
}

func newRefDLQueue(c queuetest.DeadLetterConfig, bug string) *refDLQueue {
	return &refDLQueue{c: c, bug: bug, seen: map[string]bool{}}
}

// start runs e's attempts; release says whether its dead letter releases
// its dedupe keys. Call with q.mu held.
func (q *refDLQueue) start(e hookguard.Event, release bool) {
	q.wg.Add(1)
	go q.run(e, release)
}

func (q *refDLQueue) Enqueue(_ context.Context, e hookguard.Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut {
		return hookguard.ErrShuttingDown
	}
	q.start(e, false)
	return nil
}

func (q *refDLQueue) EnqueueOnce(_ context.Context, e hookguard.Event, keys []string, _ time.Duration) (dedupe.Status, error) {
	if len(keys) == 0 {
		return 0, dedupe.ErrEmptyKey
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut {
		return 0, hookguard.ErrShuttingDown
	}
	for _, k := range keys {
		if q.seen[k] {
			return dedupe.Seen, nil
		}
	}
	for _, k := range keys {
		q.seen[k] = true
	}
	q.start(e, len(e.DedupeKeys) > 0 && slices.Equal(e.DedupeKeys, keys))
	return dedupe.Reserved, nil
}

func (q *refDLQueue) call(e hookguard.Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", hookguard.ErrHandlerPanic, p)
		}
	}()
	return q.c.Handler.HandleEvent(context.Background(), e)
}

func (q *refDLQueue) run(e hookguard.Event, release bool) {
	defer q.wg.Done()
	for attempt := 1; ; attempt++ {
		e.Attempt = attempt
		err := q.call(e)
		if err == nil {
			return
		}
		if attempt < q.c.MaxAttempts && !hookguard.IsPermanent(err) {
			continue
		}
		q.mu.Lock()
		q.next++
		q.dead = append(q.dead, hookguard.DeadLetter{
			Ref: strconv.Itoa(q.next), Event: e, Err: err.Error(), Attempts: attempt, At: time.Now(),
		})
		if release && q.bug != "no-release" {
			for _, k := range e.DedupeKeys {
				delete(q.seen, k)
			}
		}
		q.mu.Unlock()
		q.c.OnDeadLetter(e, err)
		return
	}
}

func (q *refDLQueue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.shut = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *refDLQueue) DeadLetters(_ context.Context, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error) {
	if err := f.Validate(); err != nil && q.bug != "negative-limit" {
		return nil, err
	}
	if q.bug == "filter-ignores-provider" {
		f.Provider = ""
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	all := slices.Clone(q.dead)
	if q.bug == "newest-first" {
		slices.Reverse(all)
	}
	out := []hookguard.DeadLetter{}
	for _, d := range all {
		if f.Match(d) && (len(out) < f.Max() || q.bug == "limit-ignored") {
			out = append(out, d)
		}
	}
	return out, nil
}

// find returns the index of the dead letter ref, or -1. Call with q.mu
// held.
func (q *refDLQueue) find(ref string) int {
	return slices.IndexFunc(q.dead, func(d hookguard.DeadLetter) bool { return d.Ref == ref })
}

func (q *refDLQueue) DeadLetter(_ context.Context, ref string) (hookguard.DeadLetter, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.find(ref)
	if i < 0 {
		if q.bug == "unknown-ref-ok" {
			return hookguard.DeadLetter{Ref: ref}, nil
		}
		return hookguard.DeadLetter{}, fmt.Errorf("ref %q: %w", ref, hookguard.ErrNoDeadLetter)
	}
	return q.dead[i], nil
}

func (q *refDLQueue) ReplayDeadLetter(_ context.Context, ref string) (dedupe.Status, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut && q.bug != "replay-after-shutdown" {
		return 0, hookguard.ErrShuttingDown
	}
	i := q.find(ref)
	if i < 0 {
		return 0, fmt.Errorf("ref %q: %w", ref, hookguard.ErrNoDeadLetter)
	}
	d := &q.dead[i]
	var keys []string
	if q.bug != "replay-ignores-keys" {
		keys = append(keys, d.Event.DedupeKeys...)
	}
	if q.bug != "replay-twice" {
		keys = append(keys, "replay:"+ref)
	}
	for _, k := range keys {
		if q.seen[k] {
			if q.bug == "count-seen" {
				d.Replays++
			}
			return dedupe.Seen, nil
		}
	}
	for _, k := range keys {
		q.seen[k] = true
	}
	d.Replays++
	e := d.Event
	e.Attempt = 0
	q.start(e, len(e.DedupeKeys) > 0)
	return dedupe.Reserved, nil
}

func (q *refDLQueue) DropDeadLetter(_ context.Context, ref string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.find(ref)
	if i < 0 {
		return fmt.Errorf("ref %q: %w", ref, hookguard.ErrNoDeadLetter)
	}
	if q.bug != "drop-leaves" {
		q.dead = slices.Delete(q.dead, i, i+1)
	}
	return nil
}

func runRefDL(t *testing.T, bug string) {
	queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
		return newRefDLQueue(c, bug)
	}, queuetest.WithGrace(100*time.Millisecond), queuetest.WithTimeout(3*time.Second))
}

func TestRunDeadLettersReferenceQueue(t *testing.T) { runRefDL(t, "") }

const dlBugEnv = "QUEUETEST_DEADLETTER_BUG"

// TestDeadLetterBrokenQueueHelper runs the kit against a broken queue; it
// does something only when TestRunDeadLettersCatchesBrokenQueues starts it
// in a child process, because a failing kit fails the test that runs it.
func TestDeadLetterBrokenQueueHelper(t *testing.T) {
	bug := os.Getenv(dlBugEnv)
	if bug == "" {
		t.Skip("run by TestRunDeadLettersCatchesBrokenQueues")
	}
	runRefDL(t, bug)
}

// TestRunDeadLettersCatchesBrokenQueues runs the kit against queues that
// each break one rule of the dead-letter contract, in a child process,
// and checks that the kit fails with the subtests that cover the rule,
// and only with them.
func TestRunDeadLettersCatchesBrokenQueues(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per broken queue")
	}
	all := []string{"ListsOldestFirst", "FilterSelects", "InvalidFilter", "UnknownRef", "ReplayedOnce",
		"RedeliveredNotReplayed", "ReplayFailsAgain", "DropRemoves", "ReplayAfterShutdown"}
	tests := []struct {
		bug      string
		subtests []string
		messages []string // each must be in the output: the property, then the rule that broke
	}{
		{"newest-first", []string{"ListsOldestFirst", "FilterSelects", "ReplayedOnce", "ReplayFailsAgain", "DropRemoves"}, []string{
			"ListsOldestFirst: DeadLetters must list every dead letter, oldest first: listed [evt_4 evt_3 evt_2 evt_1 evt_0]",
		}},
		{"filter-ignores-provider", []string{"FilterSelects"}, []string{
			`FilterSelects: DeadLetters must return exactly what the filter selects, oldest first, at most its Limit: filter "provider": got [evt_0 evt_1 evt_2 evt_3 evt_4]; want [evt_0 evt_2 evt_4]`,
		}},
		{"limit-ignored", []string{"FilterSelects"}, []string{
			`FilterSelects: DeadLetters must return exactly what the filter selects, oldest first, at most its Limit: filter "limit": got `,
		}},
		{"negative-limit", []string{"InvalidFilter"}, []string{
			"InvalidFilter: a negative Limit must be an error wrapping hookguard.ErrInvalidFilter: DeadLetters(Limit -1) = 0 dead letters, <nil>",
		}},
		{"unknown-ref-ok", []string{"UnknownRef", "DropRemoves"}, []string{
			`UnknownRef: a reference that names no dead letter must be an error wrapping hookguard.ErrNoDeadLetter: DeadLetter("not-a-ref")`,
			`DropRemoves: a dropped dead letter must be gone: DeadLetter(`,
		}},
		{"replay-twice", []string{"ReplayedOnce", "ReplayFailsAgain"}, []string{
			`ReplayedOnce: a second replay of a dead letter must enqueue nothing (Seen): ReplayDeadLetter("2") = reserved, <nil>; want seen, nil`,
			`ReplayFailsAgain: a replayed dead letter must stay replayed when the replay failed again (Seen): ReplayDeadLetter("1") = reserved, <nil>`,
		}},
		{"count-seen", []string{"ReplayedOnce", "RedeliveredNotReplayed"}, []string{
			"ReplayedOnce: a replay that returned Seen must not be counted: evt_0: Replays 2; want 1",
			"RedeliveredNotReplayed: a replay that returned Seen must not be counted: Replays 1; want 0",
		}},
		{"replay-ignores-keys", []string{"RedeliveredNotReplayed"}, []string{
			`RedeliveredNotReplayed: a dead letter whose event the sender redelivered since must not be replayed (Seen): ReplayDeadLetter("1") = reserved, <nil>; want seen, nil`,
		}},
		// Unreleased keys also make the first replay of a dead letter with
		// keys a duplicate.
		{"no-release", []string{"ReplayedOnce", "RedeliveredNotReplayed", "ReplayFailsAgain", "DropRemoves"}, []string{
			"RedeliveredNotReplayed: a dead letter must release the event's dedupe keys, so that the sender's redelivery is taken in: EnqueueOnce(evt_0) = seen, <nil>; want Reserved, nil",
			`ReplayedOnce: the first replay of a dead letter must enqueue its event (Reserved): ReplayDeadLetter("1") = seen, <nil>; want reserved, nil`,
		}},
		{"drop-leaves", []string{"DropRemoves"}, []string{
			`DropRemoves: a dropped dead letter must be gone: DeadLetter("1") = evt_0, <nil>; want an error wrapping hookguard.ErrNoDeadLetter`,
			"DropRemoves: dropping dead letters must leave the others: listed [evt_0 evt_1 evt_2]; want [evt_2]",
		}},
		{"replay-after-shutdown", []string{"ReplayAfterShutdown"}, []string{
			"ReplayAfterShutdown: ReplayDeadLetter after Shutdown must fail with hookguard.ErrShuttingDown: ReplayDeadLetter = reserved, <nil>",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			out, err := testkit.RunChild("TestDeadLetterBrokenQueueHelper", dlBugEnv+"="+tc.bug)
			require.Error(t, err, "the kit passed a queue with bug %q:\n%s", tc.bug, out)
			text := string(out)
			for _, name := range all {
				failed := slices.Contains(tc.subtests, name)
				line := "--- FAIL: TestDeadLetterBrokenQueueHelper/" + name + " "
				if failed {
					assert.Contains(t, text, line, "bug %q: subtest %s did not fail", tc.bug, name)
				} else {
					assert.NotContains(t, text, line, "bug %q: subtest %s failed, but the bug breaks no rule it checks", tc.bug, name)
				}
			}
			for _, msg := range tc.messages {
				assert.Contains(t, text, msg, "bug %q: the failure does not name the property and the rule that broke", tc.bug)
			}
		})
	}
}

// TestRunDeadLettersNilQueue: a newQueue that returns nil fails each
// subtest with a message, not a panic.
func TestRunDeadLettersNilQueue(t *testing.T) {
	if os.Getenv(dlBugEnv) == "nil-queue" {
		queuetest.RunDeadLetters(t, func(*testing.T, queuetest.DeadLetterConfig) queuetest.DeadLetterQueue { return nil })
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	out, err := testkit.RunChild("TestRunDeadLettersNilQueue", dlBugEnv+"=nil-queue")
	require.Error(t, err, "the kit passed without a queue:\n%s", out)
	assert.Contains(t, string(out), "ListsOldestFirst: newQueue returned nil: RunDeadLetters needs a queue for every subtest")
	assert.NotContains(t, string(out), "panic:")
}

// TestDeadLetterReferenceQueueItself checks a few answers of the
// reference queue without the kit: the kit's verdict on it means
// something only if the reference is right.
func TestDeadLetterReferenceQueueItself(t *testing.T) {
	dead := make(chan hookguard.Event, 1)
	q := newRefDLQueue(queuetest.DeadLetterConfig{
		Handler:      hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return errors.New("boom") }),
		MaxAttempts:  2,
		OnDeadLetter: func(e hookguard.Event, _ error) { dead <- e },
	}, "")
	t.Cleanup(func() { require.NoError(t, q.Shutdown(context.Background())) })
	e := hookguard.Event{Provider: "p", ID: "x", DedupeKeys: []string{"k"}}
	st, err := q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
	require.NoError(t, err)
	require.Equal(t, dedupe.Reserved, st)
	select {
	case got := <-dead:
		assert.Equal(t, 2, got.Attempt)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no dead letter")
	}
	ds, err := q.DeadLetters(t.Context(), hookguard.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, "boom", ds[0].Err)
	assert.Equal(t, 2, ds[0].Attempts)
	st, err = q.EnqueueOnce(t.Context(), e, e.DedupeKeys, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, dedupe.Reserved, st, "the dead letter released the key")
}

// runDeadLetterConformance is what a test of your queue's package calls,
// with a newQueue that builds your queue from the kit's DeadLetterConfig
// (rediskit and riverkit do this in their deadletters_test.go):
//
//	func TestDeadLetterConformance(t *testing.T) {
//		queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
//			return newTestQueue(t, c.Handler, // a fresh backend per subtest
//				yourqueue.WithMaxAttempts(c.MaxAttempts),
//				yourqueue.WithDeadLetter(c.OnDeadLetter))
//		}, queuetest.WithGrace(700*time.Millisecond)) // longer than a poll interval
//	}
func runDeadLetterConformance(t *testing.T) {
	queuetest.RunDeadLetters(t, func(_ *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
		return newRefDLQueue(c, "")
	}, queuetest.WithTimeout(30*time.Second))
}

// ExampleRunDeadLetters runs the dead-letter kit against a queue: put a
// newQueue and a test that calls RunDeadLetters in a _test.go file of
// your queue's package.
func ExampleRunDeadLetters() {
	_ = runDeadLetterConformance // called from a test function: RunDeadLetters needs its *testing.T
}
