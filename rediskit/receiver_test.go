package rediskit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/verify"
)

// idVerifier accepts every request and takes the event ID from X-Id.
// These tests are about dedupe and queueing across instances; signatures
// are tested with the presets elsewhere.
type idVerifier struct{}

func (idVerifier) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	id := req.Header.Get("X-Id")
	if id == "" {
		return verify.Delivery{}, verify.ErrMissingHeader
	}
	return verify.Delivery{Provider: "test", ID: id, Type: "test.event"}, nil
}

func post(h http.Handler, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewBufferString(`{"id":"`+id+`"}`))
	req.Header.Set("X-Id", id)
	req.Header.Set("Content-Type", "application/json")
	return testkit.Serve(h, req)
}

func newReceiver(t *testing.T, q *rediskit.Queue, opts ...hookguard.Option) *hookguard.Receiver {
	t.Helper()
	r, err := hookguard.New(idVerifier{}, nil, append([]hookguard.Option{hookguard.WithQueue(q), hookguard.WithStore(q.Store())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTwoReceiversShareRedis: two receivers, each with its own queue
// consumer, share one Redis. Every event is delivered to both at the same
// time; each must be accepted by exactly one, answered as a duplicate by
// the other, and handled exactly once.
func TestTwoReceiversShareRedis(t *testing.T) {
	events := 5000
	if testing.Short() {
		events = 500
	}
	srv := redistest.Start(t)
	cnt := testkit.NewCounter()
	// Generous timeouts: on a loaded 2-core CI machine under -race, a
	// round trip can take longer than the production defaults, and then a
	// 503 or a reclaim would be correct behaviour that this test is not
	// about. What it checks is that one of two concurrent copies wins.
	const visibility = 2 * time.Second
	q1 := newTestQueue(t, srv.Client(), cnt, rediskit.WithConsumer("a"), rediskit.WithVisibilityTimeout(visibility))
	q2 := newTestQueue(t, srv.Client(), cnt, rediskit.WithConsumer("b"), rediskit.WithVisibilityTimeout(visibility))
	ack := hookguard.WithAckTimeout(15 * time.Second)
	rs := []*hookguard.Receiver{newReceiver(t, q1, ack), newReceiver(t, q2, ack)}

	var accepted, duplicate, other atomic.Int64
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				var inner sync.WaitGroup
				var codes [2]string
				for i, r := range rs {
					inner.Add(1)
					go func() {
						defer inner.Done()
						w := post(r, id)
						switch {
						case w.Code == http.StatusOK && w.Header().Get(hookguard.DuplicateHeader) == "true":
							duplicate.Add(1)
							codes[i] = "dup"
						case w.Code == http.StatusOK:
							accepted.Add(1)
							codes[i] = "ok"
						default:
							other.Add(1)
							codes[i] = fmt.Sprint(w.Code)
						}
					}()
				}
				inner.Wait()
				if !(codes[0] == "ok" && codes[1] == "dup" || codes[0] == "dup" && codes[1] == "ok") {
					t.Errorf("event %s answered %v; want one accepted and one duplicate", id, codes)
				}
			}
		}()
	}
	for i := range events {
		ids <- fmt.Sprintf("evt_%d", i)
	}
	close(ids)
	wg.Wait()
	if accepted.Load() != int64(events) || duplicate.Load() != int64(events) || other.Load() != 0 {
		t.Fatalf("answers: %d accepted, %d duplicate, %d other; want %d, %d, 0", accepted.Load(), duplicate.Load(), other.Load(), events, events)
	}
	cnt.WaitDistinct(t, events, 30*time.Second)
	time.Sleep(visibility + 500*time.Millisecond) // longer than the visibility timeout: no redelivery may follow
	for id, n := range cnt.Snapshot() {
		if n != 1 {
			t.Errorf("event %s handled %d times; want exactly once", id, n)
		}
	}
}

// TestReleaseAfterFailedEnqueueKeepsOthersReservation: instance A reserves
// an ID, its enqueue stalls past the pending TTL, instance B takes the ID
// over and accepts the event; when A's enqueue finally fails, A's release
// must not delete B's record.
func TestReleaseAfterFailedEnqueueKeepsOthersReservation(t *testing.T) {
	srv := redistest.Start(t)
	store := newTestStore(t, srv.Client())
	stall := &stallQueue{entered: make(chan struct{}), release: make(chan struct{})}
	rA, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(stall), hookguard.WithStore(store),
		hookguard.WithPendingTTL(50*time.Millisecond), hookguard.WithAckTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	okQ := &recordQueue{}
	rB, err := hookguard.New(idVerifier{}, nil, hookguard.WithQueue(okQ), hookguard.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	codeA := make(chan int, 1)
	go func() { codeA <- post(rA, "evt_1").Code }()
	<-stall.entered
	time.Sleep(150 * time.Millisecond) // past A's pending TTL
	if w := post(rB, "evt_1"); w.Code != http.StatusOK || w.Header().Get(hookguard.DuplicateHeader) != "" {
		t.Fatalf("B after A's reservation expired = %d %q; want 200 accepted", w.Code, w.Body)
	}
	close(stall.release)
	if c := <-codeA; c != http.StatusServiceUnavailable {
		t.Fatalf("A with a failed enqueue = %d; want 503", c)
	}
	// A released with its own token: B's record must still be there.
	if w := post(rB, "evt_1"); w.Header().Get(hookguard.DuplicateHeader) != "true" {
		t.Fatalf("B again = %d %q; want 200 duplicate: A's release deleted B's record", w.Code, w.Body)
	}
	if st, err := store.Reserve(t.Context(), "test::id:evt_1", "probe", time.Minute); err != nil || st != dedupe.Seen {
		t.Fatalf("record of evt_1 = %v, %v; want seen", st, err)
	}
	if n := okQ.n.Load(); n != 1 {
		t.Fatalf("B enqueued %d events; want 1", n)
	}
}

type stallQueue struct {
	entered, release chan struct{}
	once             sync.Once
}

func (q *stallQueue) Enqueue(ctx context.Context, _ hookguard.Event) error {
	q.once.Do(func() { close(q.entered) })
	<-q.release
	return errors.New("stallQueue: enqueue failed")
}

type recordQueue struct{ n atomic.Int64 }

func (q *recordQueue) Enqueue(context.Context, hookguard.Event) error { q.n.Add(1); return nil }

// TestRedisDownDuringDeliveries kills Redis in the middle of a run of
// deliveries, each retried by its sender until it gets 200. While Redis is
// down the receiver answers 503; after the restart the retries get
// through; in the end the handled events are exactly the acknowledged
// ones.
func TestRedisDownDuringDeliveries(t *testing.T) {
	srv := redistest.Start(t)
	fast := func(o *redis.Options) {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 200*time.Millisecond, 2*time.Second, 200*time.Millisecond
		o.MaxRetries = 1
	}
	cnt := testkit.NewCounter()
	q := newTestQueue(t, srv.Client(fast), cnt)
	r := newReceiver(t, q, hookguard.WithAckTimeout(300*time.Millisecond))

	const events = 300
	acked := map[string]bool{}
	saw503 := 0
	down := false
	var killedAt time.Time
	for i := range events {
		id := fmt.Sprintf("evt_%d", i)
		if i == events/3 {
			srv.Kill()
			down, killedAt = true, time.Now()
		}
		for try := 0; ; try++ {
			if down && time.Since(killedAt) > time.Second {
				srv.Restart()
				down = false
			}
			w := post(r, id)
			if w.Code == http.StatusOK {
				acked[id] = true
				break
			}
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Fatalf("event %s: %d %q; want 200, or 503 with Retry-After while Redis is down", id, w.Code, w.Body)
			}
			saw503++
			if try > 500 {
				t.Fatalf("event %s still refused after %d tries", id, try)
			}
			time.Sleep(20 * time.Millisecond) // the sender's retry delay
		}
	}
	if saw503 == 0 {
		t.Fatal("no 503 while Redis was down")
	}
	cnt.WaitDistinct(t, len(acked), 30*time.Second)
	got := cnt.Snapshot()
	for id := range got {
		if !acked[id] {
			t.Errorf("event %s handled but never acknowledged", id)
		}
	}
	if len(got) != len(acked) || len(acked) != events {
		t.Fatalf("handled %d distinct events, acknowledged %d, sent %d; want all equal", len(got), len(acked), events)
	}
	t.Logf("%d deliveries answered 503 while Redis was down", saw503)
}

const childEnv = "REDISKIT_TEST_CHILD"

// TestKilledWorkerChild is the worker process that TestKilledWorker
// starts and kills; on its own it does nothing.
func TestKilledWorkerChild(t *testing.T) {
	addr := os.Getenv(childEnv)
	if addr == "" {
		t.Skip("run by TestKilledWorker")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		rdb.RPush(ctx, "started", e.ID)
		select {} // handle forever: the parent kills this process now
	})
	q, err := rediskit.NewQueue(t.Context(), rdb, h, rediskit.WithName("killed"), rediskit.WithConsumer("child"),
		rediskit.WithWorkers(4), rediskit.WithBlock(50*time.Millisecond), rediskit.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := q.Enqueue(t.Context(), hookguard.Event{Provider: "test", ID: fmt.Sprintf("evt_%d", i), ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	rdb.Set(t.Context(), "enqueued", 20, 0)
	select {}
}

// TestKilledWorker: a worker process is SIGKILLed while four handlers run.
// Another consumer must reclaim their entries after the visibility
// timeout and handle them, and handle the entries never read; none lost.
func TestKilledWorker(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWorkerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+srv.Addr())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := rdb.LLen(t.Context(), "started").Result()
		enq, _ := rdb.Get(t.Context(), "enqueued").Int()
		if n >= 4 && enq == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child started %d handlers and enqueued %d events; want 4 and 20", n, enq)
		}
		time.Sleep(20 * time.Millisecond) // waiting for another process
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	inFlight, _ := rdb.LRange(t.Context(), "started", 0, -1).Result()

	var mu sync.Mutex
	attempts := map[string]int{}
	cnt := testkit.NewCounter()
	h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		mu.Lock()
		attempts[e.ID] = e.Attempt
		mu.Unlock()
		return cnt.HandleEvent(ctx, e)
	})
	q, err := rediskit.NewQueue(t.Context(), rdb, h, rediskit.WithName("killed"), rediskit.WithConsumer("survivor"),
		rediskit.WithWorkers(4), rediskit.WithBlock(50*time.Millisecond), rediskit.WithLogger(quiet),
		rediskit.WithVisibilityTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Shutdown(context.Background()) })
	cnt.WaitDistinct(t, 20, 20*time.Second)
	for id, n := range cnt.Snapshot() {
		if n != 1 {
			t.Errorf("event %s handled %d times; want 1", id, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range inFlight {
		if attempts[id] != 2 {
			t.Errorf("reclaimed event %s ran as attempt %d; want 2 (the attempt lost with the killed worker counts)", id, attempts[id])
		}
	}
	// The last acknowledgement may still be on its way when the handler
	// count is reached: wait for the pending list to empty.
	waitPending(t, rdb, q.Stream(), rediskit.DefaultGroup, 0)
}
