//go:build chaos

package hardening

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/rediskit"
)

// TestAmbiguousWrites is plan test 24: toxiproxy (Shopify/toxiproxy, as a
// library) sits between the receiver and Redis. For 10 ms out of every
// 200 ms (5% of the time) a limit_data toxic with a limit of 0 bytes on
// the downstream side closes each connection the moment Redis answers:
// the command was applied, its reply is lost, and go-redis retries it on a
// new connection (its default of 3 retries, as in production). Through the
// sender simulator, 10,000 deliveries: none lost (every event answered 2xx
// is handled) and none dropped as a false duplicate, and the handler runs
// exactly 10,000 times (a replayed enqueue script finds its own entry).
func TestAmbiguousWrites(t *testing.T) {
	const n = 10_000
	srv := redistest.Start(t)
	ts := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(ts, "redis", "127.0.0.1:0", srv.Addr())
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	defer proxy.Stop()
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Listen, PoolSize: 64})
	defer rdb.Close()
	// Every connection the toxic cuts is dialled again: the dial count
	// proves the fault fired.
	var dials atomic.Int64
	rdb.AddHook(dialCounter{&dials})

	p := stdPreset(t)
	h := testkit.NewCounter()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	q, err := rediskit.NewQueue(ctx, rdb, h, rediskit.WithWorkers(8), rediskit.WithBlock(50*time.Millisecond),
		rediskit.WithVisibilityTimeout(3*time.Second), rediskit.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	recv, err := hookguard.New(p, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()), hookguard.WithAckTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_ = recv.Shutdown(sctx)
		_ = q.Shutdown(sctx)
	}()
	url := httptestServer(t, recv)

	// The chaos monkey.
	stop := make(chan struct{})
	var monkey sync.WaitGroup
	var cuts int
	monkey.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"cut","type":"limit_data","stream":"downstream","toxicity":1,"attributes":{"bytes":0}}`))
			if err != nil {
				t.Errorf("add toxic: %v", err)
				return
			}
			cuts++
			time.Sleep(10 * time.Millisecond) // replies in this window are lost
			if err := proxy.Toxics.RemoveToxic(context.Background(), "cut"); err != nil {
				t.Errorf("remove toxic: %v", err)
				return
			}
		}
	})

	ds := make([]Delivery, n)
	for i := range ds {
		id := fmt.Sprintf("amb-%05d", i)
		ds[i] = Delivery{ID: id, Body: eventBody(id, 200)}
	}
	snd := &Sender{URL: url, Sign: signer(p), Workers: 16, MaxAttempts: 50, BaseBackoff: 20 * time.Millisecond, MaxBackoff: time.Second, Seed: 24}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	rep, err := snd.Run(rctx, ds)
	close(stop)
	monkey.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if owed := rep.Owed(); len(owed) != 0 {
		t.Errorf("%d events never acknowledged: %v", len(owed), owed[:min(5, len(owed))])
	}
	checkHandled(t, h, rep, false)
	time.Sleep(time.Second)
	total, dups := h.Total(), 0
	for _, c := range h.Snapshot() {
		dups += c - 1
	}
	t.Logf("%d deliveries, %d reply cuts of 10 ms, %d Redis connections dialled: %d requests, answers %v; handler calls %d (%d duplicates)", n, cuts, dials.Load(), rep.Requests, rep.ByStatus, total, dups)
	if dials.Load() < int64(cuts) {
		t.Errorf("only %d connections dialled for %d cuts: the toxic did not cut replies", dials.Load(), cuts)
	}
	if total != n {
		t.Errorf("handler ran %d times for %d events, want exactly %d", total, n, n)
	}
}

// dialCounter is a go-redis hook that counts dials.
type dialCounter struct{ n *atomic.Int64 }

func (d dialCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.n.Add(1)
		return next(ctx, network, addr)
	}
}

func (dialCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (dialCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
