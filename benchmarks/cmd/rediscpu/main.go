// Command rediscpu measures what one handled delivery costs Redis, in
// Redis's own accounting: it sends distinct, validly signed Stripe
// deliveries through a receiver on rediskit (the queue and its store, the
// one-round-trip intake), waits until the workers handled every one, and
// reads INFO commandstats (microseconds per command, which Redis counts
// itself, so a busy machine hardly skews it) and INFO cpu (the server's
// user and system CPU, network and AOF writes included) before and after.
//
// It starts its own redis-server (append-only file on, fsync every
// second, no snapshots) and stops it at the end. It needs redis-server on
// PATH (or in $REDIS_SERVER).
//
// Two phases run, each on an emptied server:
//
//   - split: an intake-only queue takes the deliveries in (nothing reads
//     them), then a queue with workers drains them, then one Trim: the
//     figures of each part are apart.
//   - concurrent: one queue takes deliveries in while its workers handle
//     them, as in production.
//
// Run it from the benchmarks directory:
//
//	go run ./cmd/rediscpu
//	go run ./cmd/rediscpu -n 50000 -senders 64 -workers 16
//
// It prints, per phase and part, a markdown table: per command the calls,
// the microseconds per call and per delivery, and the server's CPU per
// delivery from INFO cpu. Commands a Lua script runs are listed under
// their own name and are also inside the script's (evalsha) time; the
// totals count the scripts and the commands sent directly only.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/benchmarks"
	"github.com/hookguard/hookguard/benchmarks/internal/benchkit"
	"github.com/hookguard/hookguard/rediskit"
)

type config struct {
	n, size, senders, workers int
	visibility                time.Duration
	phases                    []string
	redisCPU                  string
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func main() {
	var c config
	flag.IntVar(&c.n, "n", 20000, "deliveries per phase")
	kib := flag.Int("kib", 1, "body size in KiB")
	flag.IntVar(&c.senders, "senders", 32, "concurrent senders")
	flag.IntVar(&c.workers, "workers", rediskit.DefaultWorkers, "rediskit.WithWorkers")
	flag.DurationVar(&c.visibility, "visibility", rediskit.DefaultVisibilityTimeout, "rediskit.WithVisibilityTimeout (the heartbeat runs every third of it)")
	flag.StringVar(&c.redisCPU, "redis-cpu", "", "run redis-server on these CPUs (taskset -c LIST), e.g. 1, to keep this process off its core: commandstats times are wall-clock time, which preemption inflates")
	phases := flag.String("phases", "split,concurrent", "phases to run, comma-separated: split, concurrent")
	flag.Parse()
	c.size = *kib << 10
	for _, p := range strings.Split(*phases, ",") {
		p = strings.TrimSpace(p)
		if p != "split" && p != "concurrent" {
			fail(fmt.Errorf("unknown phase %q: want split, concurrent", p))
		}
		c.phases = append(c.phases, p)
	}
	if c.n < 1 || c.n > 1_000_000 || *kib < 1 || *kib > 1024 || c.senders < 1 || c.senders > 512 || c.workers < 1 || c.visibility < 30*time.Millisecond {
		fail(errors.New("a flag is out of range; see -help"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rediscpu:", err)
	os.Exit(1)
}

func run(ctx context.Context, c config) error {
	preset, err := benchmarks.Preset(benchmarks.Stripe)
	if err != nil {
		return err
	}
	rs, err := benchkit.StartRedis(ctx, "rediscpu-", c.redisCPU)
	if err != nil {
		return err
	}
	defer rs.Stop()
	admin := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer admin.Close()

	sw := &switcher{}
	srv := httptest.NewServer(sw)
	defer srv.Close()
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: c.senders, MaxConnsPerHost: c.senders, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
	defer client.CloseIdleConnections()

	pin := ""
	if c.redisCPU != "" {
		pin = ", redis-server on CPU " + c.redisCPU
	}
	fmt.Printf("Redis CPU per handled delivery: %d distinct %s Stripe deliveries per phase, %d senders, %d workers, visibility timeout %v, appendfsync everysec%s.\n\n",
		c.n, benchmarks.SizeName(c.size), c.senders, c.workers, c.visibility, pin)
	for _, p := range c.phases {
		if err := admin.FlushAll(ctx).Err(); err != nil {
			return err
		}
		ds, err := benchmarks.Batch(benchmarks.Stripe, c.size, c.n, time.Now(), false)
		if err != nil {
			return err
		}
		switch p {
		case "split":
			err = runSplit(ctx, c, admin, rs, preset, sw, client, srv.URL, ds)
		case "concurrent":
			err = runConcurrent(ctx, c, admin, rs, preset, sw, client, srv.URL, ds)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// runSplit takes ds in with an intake-only queue, then drains them with a
// queue that has workers, then trims once, measuring each part apart.
func runSplit(ctx context.Context, c config, admin *redis.Client, rs *benchkit.RedisServer, preset hookguard.Verifier,
	sw *switcher, client *http.Client, url string, ds []benchmarks.Delivery) error {
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, PoolSize: c.senders + c.workers + 8})
	defer rdb.Close()
	cl := newSent()
	rdb.AddHook(cl)
	in, err := rediskit.NewQueue(ctx, rdb, nil, rediskit.WithWorkers(0), rediskit.WithTrim(0, 0), rediskit.WithLogger(quiet))
	if err != nil {
		return err
	}
	r, err := hookguard.New(preset, nil, hookguard.WithQueue(in), hookguard.WithStore(in.Store()), hookguard.WithMaxBodySize(1<<20), hookguard.WithLogger(quiet))
	if err != nil {
		return err
	}
	var h http.Handler = r
	sw.h.Store(&h)
	s0, err := snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	acc, elapsed, err := drive(ctx, client, url, ds, c.senders)
	if err != nil {
		return err
	}
	s1, err := snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	if err := errors.Join(r.Shutdown(ctx), in.Shutdown(ctx)); err != nil {
		return err
	}
	report(fmt.Sprintf("split, intake only (%d accepted in %v, %.0f/s)", acc, elapsed.Round(time.Millisecond), float64(acc)/elapsed.Seconds()), s0, s1, acc)

	handled := new(atomic.Int64)
	s0, err = snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	t0 := time.Now()
	q, err := rediskit.NewQueue(ctx, rdb, benchkit.Counter(handled), rediskit.WithWorkers(c.workers), rediskit.WithTrim(0, 0),
		rediskit.WithVisibilityTimeout(c.visibility), rediskit.WithLogger(quiet))
	if err != nil {
		return err
	}
	if err := waitHandled(ctx, handled, acc, time.Minute); err != nil {
		_ = q.Shutdown(ctx)
		return err
	}
	drained := time.Since(t0)
	if err := q.Shutdown(ctx); err != nil {
		return err
	}
	s1, err = snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	report(fmt.Sprintf("split, consumer side: drain the backlog (%d handled in %v)", handled.Load(), drained.Round(time.Millisecond)), s0, s1, acc)

	s0, err = snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	n, err := q.Trim(ctx)
	if err != nil {
		return err
	}
	s1, err = snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	report(fmt.Sprintf("split, one Trim (removed %d entries)", n), s0, s1, acc)
	return nil
}

// runConcurrent takes ds in while the workers handle them, then trims
// once.
func runConcurrent(ctx context.Context, c config, admin *redis.Client, rs *benchkit.RedisServer, preset hookguard.Verifier,
	sw *switcher, client *http.Client, url string, ds []benchmarks.Delivery) error {
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, PoolSize: c.senders + c.workers + 8})
	defer rdb.Close()
	cl := newSent()
	rdb.AddHook(cl)
	handled := new(atomic.Int64)
	q, err := rediskit.NewQueue(ctx, rdb, benchkit.Counter(handled), rediskit.WithWorkers(c.workers), rediskit.WithTrim(0, 0),
		rediskit.WithVisibilityTimeout(c.visibility), rediskit.WithLogger(quiet))
	if err != nil {
		return err
	}
	r, err := hookguard.New(preset, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()), hookguard.WithMaxBodySize(1<<20), hookguard.WithLogger(quiet))
	if err != nil {
		return err
	}
	var h http.Handler = r
	sw.h.Store(&h)
	s0, err := snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	t0 := time.Now()
	acc, elapsed, err := drive(ctx, client, url, ds, c.senders)
	if err != nil {
		return err
	}
	if err := waitHandled(ctx, handled, acc, time.Minute); err != nil {
		return err
	}
	caught := time.Since(t0)
	if _, err := q.Trim(ctx); err != nil {
		return err
	}
	if err := errors.Join(r.Shutdown(ctx), q.Shutdown(ctx)); err != nil {
		return err
	}
	s1, err := snap(ctx, admin, cl)
	if err != nil {
		return err
	}
	report(fmt.Sprintf("concurrent: intake and workers together, then one Trim (%d accepted in %v, %.0f/s; all handled within %v)",
		acc, elapsed.Round(time.Millisecond), float64(acc)/elapsed.Seconds(), caught.Round(time.Millisecond)), s0, s1, acc)
	return nil
}

func waitHandled(ctx context.Context, handled *atomic.Int64, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for handled.Load() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d handled within %v", handled.Load(), want, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond): // polling a counter the workers bump
		}
	}
	return nil
}

// stats is what INFO says at one moment.
type stats struct {
	cmds map[string]cmdStat // by command name
	cpu  time.Duration      // used_cpu_user + used_cpu_sys
	sent map[string]int64   // commands the client sent, by name
}

type cmdStat struct {
	calls int64
	usec  int64
}

// snap reads INFO commandstats and cpu, and what the client sent.
func snap(ctx context.Context, admin *redis.Client, cl *sent) (stats, error) {
	txt, err := admin.Info(ctx, "commandstats", "cpu").Result()
	if err != nil {
		return stats{}, err
	}
	s := stats{cmds: map[string]cmdStat{}}
	var cpu float64
	for _, line := range strings.Split(txt, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "cmdstat_"):
			var cs cmdStat
			for _, kv := range strings.Split(v, ",") {
				f, val, _ := strings.Cut(kv, "=")
				switch f {
				case "calls":
					cs.calls, _ = strconv.ParseInt(val, 10, 64)
				case "usec":
					cs.usec, _ = strconv.ParseInt(val, 10, 64)
				}
			}
			s.cmds[strings.TrimPrefix(k, "cmdstat_")] = cs
		case k == "used_cpu_user" || k == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			cpu += f
		}
	}
	s.cpu = time.Duration(cpu * float64(time.Second))
	s.sent = cl.snapshot()
	return s, nil
}

// admin lists the commands this program sends to read the figures.
var adminCmds = map[string]bool{"info": true, "flushall": true, "ping": true, "config|resetstat": true, "client|setinfo": true, "hello": true}

func report(title string, a, b stats, deliveries int64) {
	type row struct {
		name        string
		calls, usec int64
	}
	var rows []row
	for name, s := range b.cmds {
		if adminCmds[name] {
			continue
		}
		d := cmdStat{s.calls - a.cmds[name].calls, s.usec - a.cmds[name].usec}
		if d.calls > 0 {
			rows = append(rows, row{name, d.calls, d.usec})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].usec > rows[j].usec })
	per := func(x int64) float64 { return float64(x) / float64(max(1, deliveries)) }
	fmt.Printf("### %s\n\n", title)
	fmt.Println("| command | calls | calls per delivery | µs per call | µs per delivery |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: |")
	var total int64
	for _, r := range rows {
		// Redis names subcommands "xgroup|create"; go-redis "xgroup".
		base, _, _ := strings.Cut(r.name, "|")
		direct := b.sent[base] - a.sent[base]
		note := ""
		switch {
		case direct >= r.calls:
			total += r.usec
		case direct <= 0:
			note = " (inside scripts)"
		default:
			note = fmt.Sprintf(" (%d inside scripts)", r.calls-direct)
			total += r.usec * direct / r.calls
		}
		fmt.Printf("| %s%s | %d | %.3f | %.2f | %.2f |\n", r.name, note, r.calls, per(r.calls), float64(r.usec)/float64(r.calls), per(r.usec))
	}
	fmt.Printf("| **commands sent, total** (scripts include what they run) | | | | **%.2f** |\n", per(total))
	fmt.Printf("| **server CPU (INFO cpu, user+sys)** | | | | **%.2f** |\n\n", float64((b.cpu-a.cpu).Microseconds())/float64(max(1, deliveries)))
}

// sent counts, by command name, the commands the queue's client sent
// itself (pipelines included): a command Redis counts more often ran
// inside scripts, and its time is part of the script's.
type sent struct {
	mu sync.Mutex
	n  map[string]int64
}

func newSent() *sent { return &sent{n: map[string]int64{}} }

func (s *sent) add(cmds ...redis.Cmder) {
	s.mu.Lock()
	for _, c := range cmds {
		s.n[strings.ToLower(c.Name())]++
	}
	s.mu.Unlock()
}

func (s *sent) snapshot() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.n))
	for k, v := range s.n {
		out[k] = v
	}
	return out
}

func (*sent) DialHook(next redis.DialHook) redis.DialHook { return next }
func (s *sent) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		s.add(cmd)
		return next(ctx, cmd)
	}
}
func (s *sent) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		s.add(cmds...)
		return next(ctx, cmds)
	}
}

// switcher serves with the current phase's receiver.
type switcher struct{ h atomic.Pointer[http.Handler] }

func (s *switcher) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// drive sends every delivery once from senders goroutines. A 200 that is
// not a duplicate is an acknowledged delivery; any other status, or a
// transport error, ends the run.
func drive(ctx context.Context, client *http.Client, url string, ds []benchmarks.Delivery, senders int) (int64, time.Duration, error) {
	var next, acc atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, senders)
	start := time.Now()
	for g := range senders {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(ds)) {
					return
				}
				d := ds[i]
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
				if err != nil {
					errs[g] = err
					return
				}
				req.Header = d.Header.Clone()
				resp, err := client.Do(req)
				if err != nil {
					errs[g] = err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get(hookguard.DuplicateHeader) != "" {
					errs[g] = fmt.Errorf("delivery %d answered %d (duplicate header %q)", i, resp.StatusCode, resp.Header.Get(hookguard.DuplicateHeader))
					return
				}
				acc.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, elapsed, err
	}
	return acc.Load(), elapsed, ctx.Err()
}
