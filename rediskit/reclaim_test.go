package rediskit_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// TestReclaimDrainsBacklog: a consumer died holding many more entries
// than a surviving process has workers. The survivor must reclaim them
// all within about two visibility timeouts of the crash (one to become
// idle, one to work through them), claiming again as soon as its workers
// are free instead of one batch per half visibility timeout (which took
// 60/3 × 0.5 s = 10 s here). It must never hold more entries than it has
// workers: an entry claimed into a buffer would be stranded again if this
// process crashed too.
func TestReclaimDrainsBacklog(t *testing.T) {
	const (
		stranded   = 60
		workers    = 3
		visibility = time.Second
		group      = "workers"
	)
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()

	// A producer on its own group writes the events to the shared stream;
	// its workers read them for their group only.
	producer := newTestQueue(t, rdb, testkit.NewCounter(), rediskit.WithGroup("producer"), rediskit.WithTrim(0, 0))
	stream := producer.Stream()
	if err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range stranded {
		e := hookguard.Event{Provider: "test", ID: fmt.Sprintf("evt_%03d", i), Type: "test.event", Body: []byte("{}")}
		if err := producer.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The consumer that dies: it reads every entry and never acknowledges.
	res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "dead", Streams: []string{stream, ">"}, Count: stranded}).Result()
	if err != nil || len(res) != 1 || len(res[0].Messages) != stranded {
		t.Fatalf("stranding %d entries: %v, %v", stranded, res, err)
	}
	crash := time.Now()

	var consumer atomic.Value // the survivor's name, once known
	var overHeld atomic.Int64 // entries held above the worker count, seen from the handler
	cnt := testkit.NewCounter()
	cnt.Fn = func(ctx context.Context, _ hookguard.Event) error {
		name, _ := consumer.Load().(string)
		p, err := rdb.XPending(ctx, stream, group).Result()
		if err == nil && name != "" {
			if n := p.Consumers[name]; n > workers {
				overHeld.Store(n)
			}
		}
		return nil
	}
	q := newTestQueue(t, rdb, cnt, rediskit.WithGroup(group), rediskit.WithConsumer("survivor"),
		rediskit.WithWorkers(workers), rediskit.WithVisibilityTimeout(visibility), rediskit.WithTrim(0, 0))
	consumer.Store(q.Consumer())

	cnt.WaitDistinct(t, stranded, 15*time.Second)
	took := time.Since(crash)
	t.Logf("%d stranded entries reclaimed and handled by %d workers %v after the crash (visibility timeout %v)", stranded, workers, took.Round(time.Millisecond), visibility)
	if took > 2*visibility+visibility/2 {
		t.Errorf("reclaiming %d entries took %v, want about 2 visibility timeouts (%v)", stranded, took, 2*visibility)
	}
	if n := overHeld.Load(); n > 0 {
		t.Errorf("the survivor held %d entries at once with %d workers; it must claim only for idle workers", n, workers)
	}
	if total := cnt.Total(); total != stranded {
		t.Errorf("handled %d times for %d events; want each once", total, stranded)
	}
	p, err := rdb.XPending(ctx, stream, group).Result()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Count != 0 && time.Now().Before(deadline) { // the last acks may still be on their way
		time.Sleep(20 * time.Millisecond)
		if p, err = rdb.XPending(ctx, stream, group).Result(); err != nil {
			t.Fatal(err)
		}
	}
	if p.Count != 0 {
		t.Errorf("%d entries still pending after all were handled", p.Count)
	}
}
