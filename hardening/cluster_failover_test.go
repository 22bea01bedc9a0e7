package hardening

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/httpx"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// TestClusterFailoverShort is the CI tier of TestClusterFailover (build
// tag chaos): 1,000 events instead of 10,000, with WAIT 1, through a
// sharded queue on a Redis Cluster of 3 primaries with 2 replicas each,
// whose primary serving one shard is SIGKILLed after a third of the
// deliveries. See clusterFailover for what it asserts.
func TestClusterFailoverShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 9-node Redis Cluster and waits for a failover")
	}
	clusterFailover(t, clusterRun{events: 1000, wait: true, seed: 21})
}

// clusterRun configures one run of clusterFailover.
type clusterRun struct {
	events int
	wait   bool   // rediskit.WithWaitReplicas(1, 200ms)
	seed   uint64 // the sender's
	// beforeKill, when set, runs right before the victim primary is
	// SIGKILLed, with its replicas; after, once it is dead.
	beforeKill func(t *testing.T, victim *redistest.Server, replicas []*redistest.Server)
	afterKill  func(t *testing.T)
}

// answer is one answered request, as the receiver saw it.
type answer struct {
	id         string
	start, end int64 // Unix nanoseconds
	status     int
}

// clusterShards, clusterKilledShard: the queue has one shard per primary
// and the primary of shard 1 is killed (not the first primary, so that
// the test does not depend on which node a client was seeded with).
const clusterShards, clusterKilledShard = 3, 1

// clusterFailover is the failover run of issue 21 on Redis Cluster: a
// cluster of 3 primaries with 2 replicas each (cluster-node-timeout
// 1000 ms, cluster-require-full-coverage no, so the other primaries keep
// serving while one is down), a receiver whose queue has 3 shards, one on
// each primary, fed by the sender simulator (32 connections, retries on
// every non-2xx), and a SIGKILL of the primary of shard 1 after a third of
// the deliveries. One of its replicas takes over; the other follows it,
// so WAIT 1 succeeds on that shard again (with one replica each, the
// promoted one would have none and WAIT 1 would answer 503 until the dead
// primary came back as its replica).
//
// It asserts that every event is acknowledged in the end, that the kill
// did make that shard answer non-2xx, that the shard answered 2xx again
// within 20 s, that the other shards answered 2xx while it was down and,
// with WAIT, that every acknowledged event was handled (0 lost). It logs
// the handler calls beyond one per event (at least once allows them),
// the recovery time and the answers of the other shards during the
// outage.
//
// The queue's ClusterClient keeps go-redis's default
// ClusterStateReloadInterval (60 s): go-redis keeps sending a dead
// primary's commands to it until a MOVED reply or that interval, and the
// dead shard's commands get no MOVED (they go to the dead node), so the
// queue itself asks for a reload when a command fails that way. Without
// that, this shard answered 503 for 59.8 s.
func clusterFailover(t *testing.T, run clusterRun) {
	const workers = 8
	// Runs last, after the clients closed: go-redis's pool of the dead
	// node probes it from a goroutine that sleeps 1 s between dials and
	// sees the pool closed only after its sleep; goleak would report it.
	t.Cleanup(func() { waitGoroutinesGone(t, "internal/pool.(*ConnPool).tryDial", 5*time.Second) })
	c := redistest.StartClusterEach(t, 3, 2,
		redistest.WithConfig("cluster-node-timeout", "1000"),
		redistest.WithConfig("cluster-require-full-coverage", "no"),
		redistest.WithConfig("maxmemory-policy", "noeviction"))
	rdb := c.FailoverClient(func(o *redis.ClusterOptions) {
		o.PoolSize, o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 64, 500*time.Millisecond, time.Second, time.Second
	})

	h := testkit.NewCounter()
	qopts := []rediskit.QueueOption{
		rediskit.WithName("cluster"), rediskit.WithShards(clusterShards), rediskit.WithWorkers(workers),
		rediskit.WithVisibilityTimeout(3 * time.Second), rediskit.WithBlock(50 * time.Millisecond),
		rediskit.WithTrim(0, 0), // keep every entry: the end of the run maps events to shards by them
		rediskit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}
	if run.wait {
		qopts = append(qopts, rediskit.WithWaitReplicas(1, 200*time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	q, err := rediskit.NewQueue(ctx, rdb, h, qopts...)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	shards := q.Shards()
	if len(shards) != clusterShards {
		t.Fatalf("q.Shards() has %d shards, want %d", len(shards), clusterShards)
	}
	for i, s := range shards {
		if p := c.PrimaryFor(s.Slot); p != c.Primaries[i] {
			t.Fatalf("shard %d (slot %d) is served by %v, want primary %d: one shard on each primary", i, s.Slot, p, i)
		}
	}
	victim := c.Primaries[clusterKilledShard]
	p := stdPreset(t)
	recv, err := hookguard.New(p, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()), hookguard.WithAckTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = recv.Shutdown(ctx)
		if err := q.Shutdown(ctx); err != nil {
			t.Errorf("queue Shutdown: %v", err)
		}
	})

	var (
		mu      sync.Mutex
		answers []answer
	)
	watch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now().UnixNano()
		sw := &httpx.StatusWriter{ResponseWriter: w}
		recv.ServeHTTP(sw, r)
		a := answer{id: r.Header.Get("webhook-id"), start: start, end: time.Now().UnixNano(), status: sw.Status}
		mu.Lock()
		answers = append(answers, a)
		mu.Unlock()
	})
	url := httptestServer(t, watch)

	ds := make([]Delivery, run.events)
	for i := range ds {
		id := fmt.Sprintf("cluster-%05d", i)
		ds[i] = Delivery{ID: id, Body: eventBody(id, 200)}
	}
	var (
		attempts atomic.Int64
		killedAt atomic.Int64
		chaos    sync.WaitGroup
	)
	sign := signer(p)
	monkey := func(d Delivery, attempt int, now time.Time) (http.Header, error) {
		if attempts.Add(1) == int64(run.events/3) {
			chaos.Go(func() {
				if run.beforeKill != nil {
					run.beforeKill(t, victim, c.ReplicasOf[clusterKilledShard])
				}
				killedAt.Store(time.Now().UnixNano())
				victim.Kill()
				if run.afterKill != nil {
					run.afterKill(t)
				}
			})
		}
		return sign(d, attempt, now)
	}
	snd := &Sender{URL: url, Sign: monkey, Workers: 32, MaxAttempts: 60, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Seed: run.seed}
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Minute)
	start := time.Now()
	rep, err := snd.Run(sctx, ds)
	scancel()
	chaos.Wait()
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if owed := rep.Owed(); len(owed) != 0 {
		t.Errorf("%d events never acknowledged: %v", len(owed), owed[:min(5, len(owed))])
	}
	if killedAt.Load() == 0 {
		t.Fatal("the primary was never killed")
	}
	promoted := c.WaitFailover(shards[clusterKilledShard].Slot, victim)
	acked := rep.Acked()
	lost := clusterLost(h, acked, 60*time.Second, 10*time.Second)
	// Count the handler calls once no entry is pending on any shard: the
	// entries the dead primary's consumers held are redelivered only after
	// the visibility timeout.
	drained := waitDrained(rdb, shards, 30*time.Second)
	dups := 0
	for _, n := range h.Snapshot() {
		dups += n - 1
	}
	if !drained {
		t.Errorf("entries still pending or undelivered on some shard 30 s after the run")
	}

	// Which shard each event went to: its entry in one shard's stream.
	shardOf := map[string]int{}
	for i, s := range shards {
		ids, err := streamEventIDs(rdb, s.Stream)
		if err != nil {
			t.Fatalf("reading shard %d's stream: %v", i, err)
		}
		for _, id := range ids {
			shardOf[id] = i
		}
	}
	perShard := make([]int, len(shards))
	unmapped := 0
	for _, id := range acked {
		if i, ok := shardOf[id]; ok {
			perShard[i]++
		} else {
			unmapped++
		}
	}
	if run.wait && unmapped != 0 {
		t.Errorf("%d acknowledged events have no entry in any shard's stream", unmapped)
	}

	mu.Lock()
	all := slices.Clone(answers)
	mu.Unlock()
	f := outageFigures(all, shardOf, clusterKilledShard, killedAt.Load())
	t.Logf("WAIT=%v: %d events in %v over shards %v (acknowledged events per shard), primary of shard %d SIGKILLed after %d attempts, replica %s promoted; %d requests, answers %v; %d acknowledged, %d acknowledged but never handled (lost), %d handler calls beyond one per event",
		run.wait, run.events, elapsed.Round(time.Millisecond), perShard, clusterKilledShard, run.events/3, promoted.Addr(), rep.Requests, rep.ByStatus, len(acked), lost, dups)
	t.Logf("shard %d: %d non-2xx answers after the kill, first 2xx to a request sent after the kill %v after it; other shards during that outage: %d 2xx, non-2xx by status %v",
		clusterKilledShard, f.killedFailed, f.recovery.Round(time.Millisecond), f.othersOK, f.othersFailed)
	if f.killedFailed == 0 {
		t.Errorf("shard %d never answered non-2xx after its primary was killed: the kill did not hit the traffic", clusterKilledShard)
	}
	if f.recovery < 0 || f.recovery > 20*time.Second {
		t.Errorf("shard %d answered its first 2xx after the kill %v after it, want within 20 s", clusterKilledShard, f.recovery)
	}
	if f.othersOK == 0 {
		t.Errorf("the other shards answered no 2xx while shard %d was down (non-2xx: %v): one dead primary stopped all intake", clusterKilledShard, f.othersFailed)
	}
	if run.wait && lost != 0 {
		t.Errorf("with WAIT 1, %d acknowledged events were never handled", lost)
	}
}

// figures are what outageFigures measures.
type figures struct {
	recovery     time.Duration // from the kill to the killed shard's first 2xx; -1 if none
	killedFailed int           // non-2xx answers of the killed shard after the kill
	othersOK     int           // 2xx answers of the other shards during the outage
	othersFailed map[int]int   // their other answers, by status (0: none written)
}

// outageFigures reads the answers: the killed shard's first 2xx to a
// request that arrived after the kill ends the outage; the other shards'
// answers to requests that arrived in it, and were answered before it
// ended, are counted.
func outageFigures(answers []answer, shardOf map[string]int, killed int, killedAt int64) figures {
	sort.Slice(answers, func(i, j int) bool { return answers[i].end < answers[j].end })
	f := figures{recovery: -1, othersFailed: map[int]int{}}
	var recoveredAt int64
	for _, a := range answers {
		s, ok := shardOf[a.id]
		if !ok || s != killed || a.start < killedAt {
			continue
		}
		if a.status/100 == 2 {
			if recoveredAt == 0 {
				recoveredAt = a.end
			}
		} else {
			f.killedFailed++
		}
	}
	if recoveredAt == 0 {
		return f
	}
	f.recovery = time.Duration(recoveredAt - killedAt)
	for _, a := range answers {
		s, ok := shardOf[a.id]
		if !ok || s == killed || a.start < killedAt || a.end > recoveredAt {
			continue
		}
		if a.status/100 == 2 {
			f.othersOK++
		} else {
			f.othersFailed[a.status]++
		}
	}
	return f
}

// streamEventIDs returns the event ID of every entry of stream (the
// queue's entries carry it in the field "id").
func streamEventIDs(rdb redis.UniversalClient, stream string) ([]string, error) {
	var ids []string
	from := "-"
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		msgs, err := rdb.XRangeN(ctx, stream, from, "+", 1000).Result()
		cancel()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if id, ok := m.Values["id"].(string); ok {
				ids = append(ids, id)
			}
		}
		if len(msgs) < 1000 {
			return ids, nil
		}
		from = "(" + msgs[len(msgs)-1].ID
	}
}

// waitGoroutinesGone polls, for at most limit, until no goroutine has fn
// on its stack, and fails t if one still has.
func waitGoroutinesGone(t *testing.T, fn string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if !bytes.Contains(buf[:n], []byte(fn)) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("a goroutine running %s is still there %v after its client closed", fn, limit)
			return
		}
		time.Sleep(50 * time.Millisecond) // a goroutine's end has no signal outside its package
	}
}

// waitDrained polls, for at most limit, until every shard's stream has no
// entry pending or not yet delivered in any consumer group, and reports
// whether that happened.
func waitDrained(rdb redis.UniversalClient, shards []rediskit.Shard, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		idle := true
		for _, s := range shards {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			groups, err := rdb.XInfoGroups(ctx, s.Stream).Result()
			cancel()
			if err != nil {
				idle = false
				break
			}
			for _, g := range groups {
				if g.Pending > 0 || g.Lag > 0 {
					idle = false
				}
			}
		}
		if idle {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond) // the queue has no idle signal; bounded poll
	}
}

// clusterLost waits until every acknowledged event was handled, or the
// handler made no progress for stall, or limit passed, and returns how
// many were not handled then: lost.
func clusterLost(h *testkit.Counter, acked []string, limit, stall time.Duration) int {
	deadline := time.Now().Add(limit)
	progress, progressAt := -1, time.Now()
	for {
		lost := 0
		for _, id := range acked {
			if h.Times(id) == 0 {
				lost++
			}
		}
		if lost != progress {
			progress, progressAt = lost, time.Now()
		}
		if lost == 0 || time.Now().After(deadline) || time.Since(progressAt) > stall {
			return lost
		}
		time.Sleep(100 * time.Millisecond) // the handler has no signal per event; bounded poll
	}
}
