package rediskit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// TestTrimKeepsPendingAndUndelivered: trimming removes handled entries but
// never an entry that is pending (being handled) or not yet delivered. It
// uses ten entries, not the plan's 1,000 (test 29a): trimming by MINID
// depends only on where the oldest entry still needed sits, which this
// layout pins exactly (handled, then pending, then undelivered), and the
// exact survivors are checked by ID. A trim that does remove pending
// entries is TestDeletedPendingEntriesCountedLost's case.
func TestTrimKeepsPendingAndUndelivered(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	release := make(chan struct{})
	started := make(chan string, 10)
	cnt := testkit.NewCounter()
	h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		if strings.HasPrefix(e.Type, "block") {
			started <- e.ID
			<-release
		}
		return cnt.HandleEvent(ctx, e)
	})
	q := newTestQueue(t, rdb, h, rediskit.WithWorkers(2), rediskit.WithTrim(0, 0))
	ctx := t.Context()
	add := func(i int, typ string) {
		t.Helper()
		if err := q.Enqueue(ctx, hookguard.Event{Provider: "test", ID: fmt.Sprintf("evt_%d", i), Type: typ, ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		add(i, "ok")
	}
	cnt.WaitDistinct(t, 3, 10*time.Second)
	add(3, "block")
	add(4, "block")
	<-started
	<-started // both workers hold an entry: the rest stays undelivered
	for i := 5; i < 10; i++ {
		add(i, "ok")
	}
	n, err := q.Trim(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("Trim removed %d entries; want the 3 handled ones", n)
	}
	msgs, err := rdb.XRange(ctx, q.Stream(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, m := range msgs {
		left = append(left, m.Values["id"].(string))
	}
	if want := "evt_3 evt_4 evt_5 evt_6 evt_7 evt_8 evt_9"; strings.Join(left, " ") != want {
		t.Fatalf("after Trim the stream holds %v; want %s (pending and undelivered kept)", left, want)
	}
	close(release)
	cnt.WaitDistinct(t, 10, 10*time.Second)
	for id, n := range cnt.Snapshot() {
		if n != 1 {
			t.Errorf("%s handled %d times; want 1", id, n)
		}
	}
	// Everything handled: all but the last delivered entry can go.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := q.Trim(ctx); err != nil {
			t.Fatal(err)
		}
		if l, _ := rdb.XLen(ctx, q.Stream()).Result(); l <= 1 {
			break
		}
		if time.Now().After(deadline) {
			l, _ := rdb.XLen(ctx, q.Stream()).Result()
			t.Fatalf("stream still holds %d entries after all were handled", l)
		}
		time.Sleep(20 * time.Millisecond) // the last XACKs are on their way
	}
}

func TestTrimRetention(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	cnt := testkit.NewCounter()
	q := newTestQueue(t, rdb, cnt, rediskit.WithTrim(0, time.Hour))
	for i := range 5 {
		if err := q.Enqueue(t.Context(), hookguard.Event{ID: fmt.Sprint(i), ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	cnt.WaitDistinct(t, 5, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // let the XACKs land
	if n, err := q.Trim(t.Context()); err != nil || n != 0 {
		t.Fatalf("Trim with a retention of 1h removed %d, %v; want 0", n, err)
	}
}

// TestDeadLetterStream checks what a dead letter holds in Redis.
func TestDeadLetterStream(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	var mu sync.Mutex
	var got []hookguard.Event
	h := hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return fmt.Errorf("boom") })
	// Metrics hooks set after the alerting hook must not replace it, nor
	// it them: hooks add up.
	var metricsDead, metricsHandled atomic.Int64
	q := newTestQueue(t, rdb, h, rediskit.WithMaxAttempts(2), rediskit.WithDeadLetter(func(e hookguard.Event, err error) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}), rediskit.WithHooks(hookguard.Hooks{
		OnDeadLetter: func(hookguard.Event, error) { metricsDead.Add(1) },
		OnHandled:    func(hookguard.Event, int, error, time.Duration) { metricsHandled.Add(1) },
	}))
	if err := q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: "evt_dead", Body: []byte("{}"), ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
		time.Sleep(10 * time.Millisecond) // waiting for the workers
	}
	msgs, err := rdb.XRange(t.Context(), q.DeadLetterStream(), "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("dead-letter stream = %v, %v; want one entry", msgs, err)
	}
	v := msgs[0].Values
	if v["id"] != "evt_dead" || v["error"] != "boom" || v["attempts"] != "2" || v["source"] == "" || v["body"] != "{}" {
		t.Errorf("dead letter fields = %v", v)
	}
	if got[0].Attempt != 2 {
		t.Errorf("hook event Attempt = %d; want 2", got[0].Attempt)
	}
	if metricsDead.Load() != 1 || metricsHandled.Load() != 2 {
		t.Errorf("WithHooks after WithDeadLetter: OnDeadLetter fired %d times, OnHandled %d; want 1 and 2", metricsDead.Load(), metricsHandled.Load())
	}
	p, err := rdb.XPending(t.Context(), q.Stream(), rediskit.DefaultGroup).Result()
	if err != nil || p.Count != 0 {
		t.Errorf("pending after dead letter = %+v, %v; want none", p, err)
	}
	if n, _ := rdb.HLen(t.Context(), "hookguard:{"+testName(t)+"}:attempts").Result(); n != 0 {
		t.Errorf("attempt counts left: %d", n)
	}
}

// TestLongHandlerNotReclaimed: a handler that runs for several visibility
// timeouts keeps its entry (the worker refreshes it), so another consumer
// does not reclaim it and handle it twice.
func TestLongHandlerNotReclaimed(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	cnt := testkit.NewCounter()
	var mu sync.Mutex
	calls := 0
	h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		mu.Lock()
		calls++
		mu.Unlock()
		time.Sleep(1500 * time.Millisecond) // five visibility timeouts
		return cnt.HandleEvent(ctx, e)
	})
	vis := rediskit.WithVisibilityTimeout(300 * time.Millisecond)
	a := newTestQueue(t, rdb, h, vis, rediskit.WithConsumer("a"))
	newTestQueue(t, rdb, h, vis, rediskit.WithConsumer("b"))
	if err := a.Enqueue(t.Context(), hookguard.Event{ID: "slow", ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cnt.WaitDistinct(t, 1, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // a reclaim would show by now
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Fatalf("handler called %d times; want 1: a live consumer's entry was reclaimed", calls)
	}
}
