// Command cluster measures how rediskit's sharded queue spreads over a
// Redis Cluster, and what each primary spends per delivery, in Redis's own
// accounting (issue 21). It starts a cluster of -primaries primaries
// (append-only file on, fsync every second, no snapshots; each primary an
// equal contiguous range of the hash slots, as redis-cli --cluster create
// lays them out), and, for each shard count of -shards, runs a receiver
// (the Stripe preset, rediskit.WithShards, the queue's own store: one
// script per delivery) and the queue's workers on a go-redis
// ClusterClient. Senders post distinct, validly signed 1 KiB Stripe
// deliveries over loopback HTTP; the handlers only count.
//
// Each round, on emptied primaries, sends every delivery once, waits until
// the workers handled every accepted one, reads each shard's length (the
// deliveries it took in), trims once (as the periodic trim would; it is
// off during the round) and stops the receiver and the queue. Before and
// after, it reads each primary's INFO cpu (user+sys CPU, all its threads),
// commandstats, stats (network bytes) and persistence (the append-only
// file's size), and this process's own CPU (getrusage: receiver, workers
// and the senders' HTTP client, which share the process).
//
// It needs redis-server on PATH (or in $REDIS_SERVER). Run it from the
// benchmarks directory:
//
//	go run ./cmd/cluster
//	go run ./cmd/cluster -primaries 3 -shards 1,3 -deliveries 20000 -rounds 3 -pin
//
// It prints markdown: where each shard lives, per primary and shard count
// the deliveries it took in and its CPU, command time, network and
// append-only-file bytes per delivery, the receiver's figures, and a
// projection, from the measured figures, of how many primaries and
// receiver cores 10,000 and 100,000 deliveries a second need. Per-round
// figures, with the machine's CPU use by other processes (a measure of
// noise), go to standard error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"slices"
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
	primaries   int
	shards      []int
	deliveries  int
	concurrency int
	workers     int
	rounds      int
	size        int
	pin         bool
	util        float64
	catchup     time.Duration
	inProcess   bool    // call the receiver's ServeHTTP in process instead of over loopback HTTP
	rate        float64 // deliveries per second the senders start at most; 0: as fast as they can
	commands    bool    // print the per-command table
	quiet       bool    // no per-round lines on standard error (tests)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func main() {
	var c config
	flag.IntVar(&c.primaries, "primaries", 3, "primaries of the cluster (1 to 64)")
	shards := flag.String("shards", "1,3", "shard counts to measure, comma-separated (rediskit.WithShards, 1 to 1024)")
	flag.IntVar(&c.deliveries, "deliveries", 20000, "distinct deliveries sent per round")
	flag.IntVar(&c.concurrency, "concurrency", 32, "concurrent senders (client connections), 1 to 512")
	flag.IntVar(&c.workers, "workers", rediskit.DefaultWorkers, "rediskit.WithWorkers: handlers of the queue")
	flag.IntVar(&c.rounds, "rounds", 3, "counted rounds per shard count (medians are reported); a warm-up round of a fifth of -deliveries comes first")
	kib := flag.Int("kib", 1, "body size in KiB")
	flag.BoolVar(&c.pin, "pin", false, "pin primary i to CPU i modulo the CPUs with taskset (where there are fewer CPUs than primaries, some share one)")
	flag.Float64Var(&c.util, "util", 0.7, "CPU utilisation target of the projection (0 to 1]")
	flag.DurationVar(&c.catchup, "catchup", time.Minute, "how long to wait after sending for the handlers to handle every accepted delivery")
	transport := flag.String("transport", "http", "how deliveries reach the receiver: http (loopback HTTP, as in production) or inprocess (ServeHTTP called directly: no HTTP stack, so this process spends less and loads the primaries more)")
	flag.Float64Var(&c.rate, "rate", 0, "start at most this many deliveries a second (0: as fast as the senders can), to measure the primaries' CPU per delivery at a lower load")
	flag.BoolVar(&c.commands, "commands", false, "also print, per shard count, the commands the queue sent, per delivery")
	flag.Parse()
	c.size = *kib << 10
	switch *transport {
	case "http":
	case "inprocess":
		c.inProcess = true
	default:
		fail(fmt.Errorf("-transport %q: want http or inprocess", *transport))
	}
	var err error
	if c.shards, err = parseShards(*shards); err != nil {
		fail(err)
	}
	if err := c.check(); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, c, os.Stdout)
	stop()
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cluster:", err)
	os.Exit(1)
}

func parseShards(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("-shards: %q is not a shard count from 1 to 1024", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (c config) check() error {
	switch {
	case c.primaries < 1 || c.primaries > 64, len(c.shards) == 0, c.deliveries < 1 || c.deliveries > 1_000_000,
		c.concurrency < 1 || c.concurrency > 512, c.workers < 1, c.rounds < 1 || c.rounds > 50,
		c.size < 1<<10 || c.size > 1<<20, !(c.util > 0 && c.util <= 1), c.catchup <= 0, c.rate < 0 || c.rate > 1e6:
		return errors.New("a flag is out of range; see -help")
	}
	return nil
}

func run(ctx context.Context, c config, out io.Writer) error {
	b, err := newBench(ctx, c)
	if err != nil {
		return err
	}
	defer b.close()
	per := make([][]result, len(c.shards))
	for k, n := range c.shards {
		for round := range c.rounds + 1 {
			deliveries := c.deliveries
			if round == 0 {
				deliveries = max(1, c.deliveries/5)
			}
			r, err := b.round(ctx, n, deliveries)
			if err != nil {
				return fmt.Errorf("%d shards, round %d: %w", n, round, err)
			}
			if round > 0 {
				per[k] = append(per[k], r)
			}
			label := "warm-up"
			if round > 0 {
				label = "round " + strconv.Itoa(round)
			}
			b.logf("cluster: %d shards, %-8s %7.0f acked/s (%d accepted, %d rejected, %v), caught up %s, Redis CPU %.1f µs per delivery, receiver %.1f µs, machine busy %.2f cores, of which other processes %.2f\n",
				n, label, r.rate(), r.accepted, r.rejected, r.elapsed.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond),
				r.redisCPUPer(), usPer(r.selfCPU, r.accepted), r.busy, r.others)
		}
	}
	report(out, c, b.cl, per)
	return nil
}

// bench is a cluster, and a loopback HTTP server whose handler each round
// replaces, shared by the rounds.
type bench struct {
	c      config
	cl     *benchkit.Cluster
	admin  []*redis.Client // one per primary, for INFO, FLUSHALL and XLEN
	preset hookguard.Verifier
	sw     *switcher
	ln     *countingListener
	srv    *httptest.Server
	client *http.Client
}

func newBench(ctx context.Context, c config) (*bench, error) {
	preset, err := benchmarks.Preset(benchmarks.Stripe)
	if err != nil {
		return nil, err
	}
	cl, err := benchkit.StartCluster(ctx, "cluster-bench-", c.primaries, c.pin)
	if err != nil {
		return nil, err
	}
	b := &bench{c: c, cl: cl, preset: preset, sw: &switcher{}}
	for _, a := range cl.Addrs() {
		b.admin = append(b.admin, redis.NewClient(&redis.Options{Addr: a}))
	}
	b.srv = httptest.NewUnstartedServer(b.sw)
	b.ln = &countingListener{Listener: b.srv.Listener}
	b.srv.Listener = b.ln
	b.srv.Start()
	b.client = &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency, MaxConnsPerHost: c.concurrency, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
	return b, nil
}

func (b *bench) close() {
	b.client.CloseIdleConnections()
	b.srv.Close()
	for _, a := range b.admin {
		_ = a.Close()
	}
	b.cl.Stop()
}

func (b *bench) logf(format string, args ...any) {
	if !b.c.quiet {
		fmt.Fprintf(os.Stderr, format, args...)
	}
}

// rewriteAOF rewrites every primary's append-only file (emptied by
// FLUSHALL, it becomes nearly nothing) and waits, up to 20 s, until the
// rewrites are done: a round then starts far below the size at which
// Redis rewrites the file by itself, so that its growth is the round's
// writes and no rewrite child competes for the CPUs during the round.
func (b *bench) rewriteAOF(ctx context.Context) error {
	for _, a := range b.admin {
		if err := a.BgRewriteAOF(ctx).Err(); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range b.admin {
		for {
			txt, err := a.Info(ctx, "persistence").Result()
			if err != nil {
				return err
			}
			if strings.Contains(txt, "aof_rewrite_in_progress:0") && strings.Contains(txt, "aof_rewrite_scheduled:0") {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("append-only file rewrite not done after 20s")
			}
			time.Sleep(10 * time.Millisecond) // the rewrite runs in a child of the server: no event to wait on
		}
	}
	return nil
}

// shardFig is one shard of a round: where it lives and what it took in.
type shardFig struct {
	rediskit.Shard
	primary    int   // index of the primary that serves it
	deliveries int64 // XLEN of its stream once every delivery was handled
}

// nodeFig is what one primary spent in a round.
type nodeFig struct {
	cpu           time.Duration // INFO cpu: used_cpu_user + used_cpu_sys
	cmdUsec       int64         // INFO commandstats: the commands the queue's client sent (scripts include what they ran)
	netIn, netOut int64         // INFO stats: total_net_input_bytes, total_net_output_bytes
	aof           int64         // INFO persistence: aof_current_size; -1 when a rewrite shrank the file
	roundTrips    int64         // commands and pipelines the queue's client sent to it
	deliveries    int64         // taken in on its shards
	shards        int           // how many shards it serves
	cmds          map[string]cmdDelta
}

// cmdDelta is one command's calls and time on one primary in a round,
// and how many of the calls the queue's client sent itself (the others
// ran inside scripts).
type cmdDelta struct{ calls, usec, direct int64 }

// result is one round.
type result struct {
	shards                            []shardFig
	nodes                             []nodeFig
	sent, accepted, rejected, handled int64
	elapsed                           time.Duration // sending
	caughtUp                          time.Duration // from the start of sending until every accepted delivery was handled
	window                            time.Duration // the whole measured window: sending, catching up, trim, shutdown
	selfCPU                           time.Duration
	httpIn, httpOut                   int64
	busy, others                      float64 // machine CPU use in the window, in cores
}

func (r result) rate() float64 { return float64(r.accepted) / r.elapsed.Seconds() }

func (r result) redisCPUPer() float64 {
	var t time.Duration
	for _, n := range r.nodes {
		t += n.cpu
	}
	return usPer(t, r.accepted)
}

// round runs one round with a queue of n shards and the given number of
// deliveries.
func (b *bench) round(ctx context.Context, n, deliveries int) (result, error) {
	var r result
	if err := b.cl.FlushAll(ctx); err != nil {
		return r, err
	}
	if err := b.rewriteAOF(ctx); err != nil {
		return r, err
	}
	ds, err := benchmarks.Batch(benchmarks.Stripe, b.c.size, deliveries, time.Now(), false)
	if err != nil {
		return r, err
	}
	runtime.GC() // the previous round's garbage is not this round's work

	sent := newSentByNode()
	cc := b.cl.Client(&redis.ClusterOptions{PoolSize: b.c.concurrency + b.c.workers + 8})
	defer cc.Close()
	cc.OnNewNode(func(c *redis.Client) { c.AddHook(sent.hook(c.Options().Addr)) })
	handled := new(atomic.Int64)
	q, err := rediskit.NewQueue(ctx, cc, benchkit.Counter(handled), rediskit.WithShards(n), rediskit.WithName("bench"),
		rediskit.WithWorkers(b.c.workers), rediskit.WithTrim(0, 0), rediskit.WithLogger(quiet))
	if err != nil {
		return r, err
	}
	rcv, err := hookguard.New(b.preset, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()),
		hookguard.WithMaxBodySize(1<<20), hookguard.WithLogger(quiet))
	if err != nil {
		return r, errors.Join(err, q.Shutdown(ctx))
	}
	stopped := false
	stop := func() error {
		stopped = true
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(rcv.Shutdown(sctx), q.Shutdown(sctx))
	}
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()
	for _, s := range q.Shards() {
		m, err := cc.MasterForKey(ctx, s.Stream)
		if err != nil {
			return r, fmt.Errorf("primary of shard %d: %w", s.Index, err)
		}
		p := b.cl.Index(m.Options().Addr)
		if p < 0 {
			return r, fmt.Errorf("shard %d is served by %s, which is none of the cluster's primaries", s.Index, m.Options().Addr)
		}
		r.shards = append(r.shards, shardFig{Shard: s, primary: p})
	}
	var h http.Handler = rcv
	b.sw.h.Store(&h)

	s0, err := b.snap(ctx, sent)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	send := b.overHTTP
	if b.c.inProcess {
		send = inProcess(rcv)
	}
	r.sent, r.accepted, r.rejected, r.elapsed, err = drive(ctx, send, ds, b.c.concurrency, b.c.rate)
	if err != nil {
		return r, err
	}
	if err := waitHandled(ctx, handled, r.accepted, b.c.catchup); err != nil {
		return r, err
	}
	r.caughtUp = time.Since(t0)
	r.handled = handled.Load()
	for i := range r.shards {
		s := &r.shards[i]
		if s.deliveries, err = b.admin[s.primary].XLen(ctx, s.Stream).Result(); err != nil {
			return r, fmt.Errorf("XLEN of shard %d: %w", s.Index, err)
		}
	}
	if _, err := q.Trim(ctx); err != nil {
		return r, err
	}
	if err := stop(); err != nil {
		return r, err
	}
	s1, err := b.snap(ctx, sent)
	if err != nil {
		return r, err
	}
	r.window = time.Since(t0)
	r.handled = max(r.handled, handled.Load())
	r.selfCPU = s1.self - s0.self
	r.httpIn, r.httpOut = s1.httpIn-s0.httpIn, s1.httpOut-s0.httpOut
	r.nodes = make([]nodeFig, len(b.admin))
	var redisCPU time.Duration
	for i := range r.nodes {
		r.nodes[i] = s1.nodes[i].minus(s0.nodes[i], s0.sent[b.cl.Primaries[i].Addr], s1.sent[b.cl.Primaries[i].Addr])
		redisCPU += r.nodes[i].cpu
	}
	for _, s := range r.shards {
		r.nodes[s.primary].deliveries += s.deliveries
		r.nodes[s.primary].shards++
	}
	if s1.total > s0.total {
		r.busy = float64(s1.busy-s0.busy) / float64(s1.total-s0.total) * float64(runtime.NumCPU())
		r.others = max(0, r.busy-(r.selfCPU+redisCPU).Seconds()/r.window.Seconds())
	}
	return r, nil
}

// snapshot is what the primaries and this process say at one moment.
type snapshot struct {
	nodes           []info
	sent            map[string]sentCounts // by primary address
	self            time.Duration
	httpIn, httpOut int64
	busy, total     int64 // machine CPU ticks
}

func (b *bench) snap(ctx context.Context, sent *sentByNode) (snapshot, error) {
	s := snapshot{sent: sent.snapshot()}
	for _, a := range b.admin {
		txt, err := a.Info(ctx, "cpu", "commandstats", "stats", "persistence").Result()
		if err != nil {
			return s, err
		}
		s.nodes = append(s.nodes, parseInfo(txt))
	}
	s.self = selfCPU()
	s.httpIn, s.httpOut = b.ln.in.Load(), b.ln.out.Load()
	s.busy, s.total = benchkit.MachineCPU()
	return s, nil
}

// info is what one primary's INFO says.
type info struct {
	cmds          map[string]cmdStat // by command name, as Redis names them ("xgroup|create")
	cpu           time.Duration
	netIn, netOut int64
	aof           int64
}

type cmdStat struct{ calls, usec int64 }

func parseInfo(txt string) info {
	in := info{cmds: map[string]cmdStat{}}
	var cpu float64
	for line := range strings.SplitSeq(txt, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "cmdstat_"):
			var cs cmdStat
			for kv := range strings.SplitSeq(v, ",") {
				f, val, _ := strings.Cut(kv, "=")
				switch f {
				case "calls":
					cs.calls, _ = strconv.ParseInt(val, 10, 64)
				case "usec":
					cs.usec, _ = strconv.ParseInt(val, 10, 64)
				}
			}
			in.cmds[strings.TrimPrefix(k, "cmdstat_")] = cs
		case k == "used_cpu_user" || k == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			cpu += f
		case k == "total_net_input_bytes":
			in.netIn, _ = strconv.ParseInt(v, 10, 64)
		case k == "total_net_output_bytes":
			in.netOut, _ = strconv.ParseInt(v, 10, 64)
		case k == "aof_current_size":
			in.aof, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	in.cpu = time.Duration(cpu * float64(time.Second))
	return in
}

// adminCmd reports whether Redis's command name is one this program, or
// the cluster client's discovery of the cluster, sends, rather than the
// queue.
func adminCmd(name string) bool {
	switch name {
	case "info", "flushall", "ping", "xlen", "hello", "client|setinfo", "readonly", "command", "command|docs":
		return true
	}
	return strings.HasPrefix(name, "cluster|")
}

// minus returns what a primary spent between a and in (b is this
// snapshot, a the earlier one), counting, in the command time, only the
// commands the queue's client sent itself (a script's time includes the
// commands it ran, which Redis also lists under their own names).
func (b info) minus(a info, sentA, sentB sentCounts) nodeFig {
	f := nodeFig{cpu: b.cpu - a.cpu, netIn: b.netIn - a.netIn, netOut: b.netOut - a.netOut, aof: b.aof - a.aof,
		roundTrips: sentB.roundTrips - sentA.roundTrips}
	if f.aof < 0 {
		f.aof = -1
	}
	for name, s := range b.cmds {
		if adminCmd(name) {
			continue
		}
		calls, usec := s.calls-a.cmds[name].calls, s.usec-a.cmds[name].usec
		if calls <= 0 {
			continue
		}
		base, _, _ := strings.Cut(name, "|") // go-redis names "xgroup|create" "xgroup"
		direct := sentB.cmds[base] - sentA.cmds[base]
		if f.cmds == nil {
			f.cmds = map[string]cmdDelta{}
		}
		f.cmds[name] = cmdDelta{calls, usec, min(direct, calls)}
		switch {
		case direct >= calls:
			f.cmdUsec += usec
		case direct > 0:
			f.cmdUsec += usec * direct / calls
		}
	}
	return f
}

// sentByNode counts, per node address, the commands (by name) and round
// trips the queue's cluster client sent to it.
type sentByNode struct {
	mu sync.Mutex
	n  map[string]sentCounts
}

type sentCounts struct {
	cmds       map[string]int64
	roundTrips int64
}

func newSentByNode() *sentByNode { return &sentByNode{n: map[string]sentCounts{}} }

func (s *sentByNode) add(addr string, cmds ...redis.Cmder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.n[addr]
	if !ok {
		c = sentCounts{cmds: map[string]int64{}}
	}
	c.roundTrips++
	for _, cmd := range cmds {
		c.cmds[strings.ToLower(cmd.Name())]++
	}
	s.n[addr] = c
}

func (s *sentByNode) snapshot() map[string]sentCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]sentCounts, len(s.n))
	for a, c := range s.n {
		out[a] = sentCounts{cmds: maps.Clone(c.cmds), roundTrips: c.roundTrips}
	}
	return out
}

// nodeHook counts what one node's client sends.
type nodeHook struct {
	s    *sentByNode
	addr string
}

func (s *sentByNode) hook(addr string) redis.Hook { return nodeHook{s, addr} }

func (nodeHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.s.add(h.addr, cmd)
		return next(ctx, cmd)
	}
}
func (h nodeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.s.add(h.addr, cmds...)
		return next(ctx, cmds)
	}
}

// switcher serves with the current round's receiver.
type switcher struct{ h atomic.Pointer[http.Handler] }

func (s *switcher) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// countingListener counts the bytes its connections read and write: the
// HTTP traffic of the deliveries, headers included.
type countingListener struct {
	net.Listener
	in, out atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.out.Add(int64(n))
	return n, err
}

// sender sends one delivery and reports whether it was acknowledged (a
// 200 that is not a duplicate); an error ends the round.
type sender func(ctx context.Context, d benchmarks.Delivery) (bool, error)

// overHTTP posts d to the loopback server.
func (b *bench) overHTTP(ctx context.Context, d benchmarks.Delivery) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.srv.URL+"/webhooks", bytes.NewReader(d.Body))
	if err != nil {
		return false, err
	}
	req.Header = d.Header.Clone()
	resp, err := b.client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK && resp.Header.Get(hookguard.DuplicateHeader) == "", nil
}

// inProcess hands d to h's ServeHTTP directly.
func inProcess(h http.Handler) sender {
	return func(ctx context.Context, d benchmarks.Delivery) (bool, error) {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhooks", bytes.NewReader(d.Body))
		req.Header = d.Header.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code == http.StatusOK && w.Header().Get(hookguard.DuplicateHeader) == "", nil
	}
}

// drive sends every delivery once from senders goroutines, delivery i
// not before i/rate seconds from the start when rate is set. Any answer
// but an acknowledgement is counted as rejected; an error ends the round.
func drive(ctx context.Context, send sender, ds []benchmarks.Delivery, senders int, rate float64) (sent, accepted, rejected int64, elapsed time.Duration, err error) {
	var next, acc, rej atomic.Int64
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
				if rate > 0 {
					at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(at); d > 0 {
						time.Sleep(d) // pacing the load, not waiting for an event
					}
				}
				ok, err := send(ctx, ds[i])
				if err != nil {
					errs[g] = err
					return
				}
				if ok {
					acc.Add(1)
				} else {
					rej.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, 0, elapsed, err
	}
	return acc.Load() + rej.Load(), acc.Load(), rej.Load(), elapsed, ctx.Err()
}

func waitHandled(ctx context.Context, handled *atomic.Int64, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for handled.Load() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d accepted deliveries handled within %v", handled.Load(), want, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond): // polling a counter the workers bump
		}
	}
	return nil
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func usPer(d time.Duration, n int64) float64 {
	return float64(d.Nanoseconds()) / 1e3 / float64(max(1, n))
}

func per(x, n int64) float64 { return float64(x) / float64(max(1, n)) }

// med is the median over the rounds of f.
func med(rs []result, f func(result) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	return benchkit.Median(xs)
}

// figures are one shard count's medians over its rounds, which the
// tables and the projection print.
type figures struct {
	shards              int
	rate, redisCPU, cmd float64 // acked/s; µs per delivery, summed over the primaries
	self                float64 // receiver process µs per delivery
	netRedis, http, aof float64 // bytes per delivery
	aofOK               bool    // no rewrite shrank the file in any round
	busiestShare        float64 // the busiest primary's share of the Redis CPU
	busiest             float64 // the busiest primary's CPU use over the round, in cores
	roundTrips          float64 // per delivery, to all primaries
	caughtUp            time.Duration
	rejected            int64
	others              float64
}

func summarize(n int, rs []result) figures {
	f := figures{shards: n, aofOK: true}
	f.rate = med(rs, result.rate)
	f.redisCPU = med(rs, result.redisCPUPer)
	f.cmd = med(rs, func(r result) float64 {
		var t int64
		for _, nd := range r.nodes {
			t += nd.cmdUsec
		}
		return per(t, r.accepted)
	})
	f.self = med(rs, func(r result) float64 { return usPer(r.selfCPU, r.accepted) })
	f.netRedis = med(rs, func(r result) float64 {
		var t int64
		for _, nd := range r.nodes {
			t += nd.netIn + nd.netOut
		}
		return per(t, r.accepted)
	})
	f.http = med(rs, func(r result) float64 { return per(r.httpIn+r.httpOut, r.accepted) })
	f.aof = med(rs, func(r result) float64 {
		var t int64
		for _, nd := range r.nodes {
			if nd.aof < 0 {
				f.aofOK = false
			}
			t += max(0, nd.aof)
		}
		return per(t, r.accepted)
	})
	f.busiestShare = med(rs, func(r result) float64 {
		var t, m time.Duration
		for _, nd := range r.nodes {
			t += nd.cpu
			m = max(m, nd.cpu)
		}
		return float64(m) / float64(max(1, t))
	})
	f.busiest = med(rs, func(r result) float64 {
		var m time.Duration
		for _, nd := range r.nodes {
			m = max(m, nd.cpu)
		}
		return m.Seconds() / r.caughtUp.Seconds()
	})
	f.roundTrips = med(rs, func(r result) float64 {
		var t int64
		for _, nd := range r.nodes {
			t += nd.roundTrips
		}
		return per(t, r.accepted)
	})
	f.others = med(rs, func(r result) float64 { return r.others })
	for _, r := range rs {
		f.caughtUp = max(f.caughtUp, r.caughtUp)
		f.rejected += r.rejected
	}
	return f
}

func report(w io.Writer, c config, cl *benchkit.Cluster, runs [][]result) {
	pin := "not pinned to CPUs"
	if slices.ContainsFunc(cl.CPUs, func(s string) bool { return s != "" }) {
		pin = "primaries pinned with taskset to CPUs " + strings.Join(cl.CPUs, ", ")
		if c.primaries > runtime.NumCPU() {
			pin += fmt.Sprintf(" (%d primaries on %d CPUs: some share one)", c.primaries, runtime.NumCPU())
		}
	} else if c.pin {
		pin = "not pinned (taskset not found)"
	}
	how := "over loopback HTTP"
	if c.inProcess {
		how = "handed in process to the receiver's ServeHTTP (no HTTP stack)"
	}
	if c.rate > 0 {
		how += fmt.Sprintf(", paced to at most %.0f a second", c.rate)
	}
	fmt.Fprintf(w, "Sharded Redis queue on a local Redis Cluster: %s, %s on %d CPUs (shared by the primaries, the receiver and the senders), %d primaries (%s; appendfsync everysec, no replicas), %d distinct %s Stripe deliveries per round from %d senders %s, %d workers, %d rounds per shard count after a warm-up round, medians over the rounds.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), c.primaries, pin, c.deliveries, benchmarks.SizeName(c.size), c.concurrency, how, c.workers, c.rounds)

	fmt.Fprintln(w, "#### Where the shards live")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| shards | shard | hash tag | slot | primary (its slots) | deliveries taken in (median) |")
	fmt.Fprintln(w, "| ---: | ---: | --- | ---: | --- | ---: |")
	for k, n := range c.shards {
		rs := runs[k]
		for i, s := range rs[0].shards {
			d := med(rs, func(r result) float64 { return float64(r.shards[i].deliveries) })
			fmt.Fprintf(w, "| %d | %d | `{%s}` | %d | %s | %.0f (%.0f%%) |\n", n, s.Index, s.Tag, s.Slot, primaryName(cl, s.primary), d, 100*d/float64(c.deliveries))
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "#### Per primary")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per delivery of the whole run unless it says otherwise; CPU is Redis's INFO cpu (user+sys, all its threads), command time INFO commandstats (the queue's commands, scripts including what they run); CPU busy is its CPU over the time from the first delivery sent to the last one handled; net is bytes in+out on its client connections; AOF is the growth of its append-only file.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| shards | primary | shards on it | deliveries taken in | Redis CPU, µs per delivery it took in | Redis CPU, µs per delivery | command time, µs per delivery | CPU busy (cores) | round trips per delivery | net bytes per delivery | AOF bytes per delivery |")
	fmt.Fprintln(w, "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	figs := make([]figures, len(c.shards))
	for k, n := range c.shards {
		rs := runs[k]
		figs[k] = summarize(n, rs)
		for i := range c.primaries {
			nd := func(f func(nodeFig, result) float64) float64 {
				return med(rs, func(r result) float64 { return f(r.nodes[i], r) })
			}
			taken := nd(func(x nodeFig, _ result) float64 { return float64(x.deliveries) })
			own := "—"
			if taken > 0 {
				own = fmt.Sprintf("%.1f", nd(func(x nodeFig, _ result) float64 { return usPer(x.cpu, x.deliveries) }))
			}
			fmt.Fprintf(w, "| %d | %s | %d | %.0f (%.0f%%) | %s | %.1f | %.1f | %.2f | %.2f | %.0f | %s |\n", n, primaryName(cl, i), rs[0].nodes[i].shards,
				taken, 100*taken/float64(c.deliveries), own,
				nd(func(x nodeFig, r result) float64 { return usPer(x.cpu, r.accepted) }),
				nd(func(x nodeFig, r result) float64 { return per(x.cmdUsec, r.accepted) }),
				nd(func(x nodeFig, r result) float64 { return x.cpu.Seconds() / r.caughtUp.Seconds() }),
				nd(func(x nodeFig, r result) float64 { return per(x.roundTrips, r.accepted) }),
				nd(func(x nodeFig, r result) float64 { return per(x.netIn+x.netOut, r.accepted) }),
				aofCell(nd(func(x nodeFig, r result) float64 { return per(max(0, x.aof), r.accepted) }), rs, i))
		}
		f := figs[k]
		fmt.Fprintf(w, "| %d | **all** | %d | %.0f | | **%.1f** | **%.1f** | | %.2f | %.0f | %s |\n", n, n,
			med(rs, func(r result) float64 { return float64(r.accepted) }), f.redisCPU, f.cmd, f.roundTrips, f.netRedis, aofCell(f.aof, rs, -1))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "#### Overall")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| shards | acked/s (median) | range | rejected | all handled within | Redis CPU, µs per delivery (all primaries) | busiest primary's share of it | busiest primary busy (cores) | receiver process CPU, µs per delivery | HTTP bytes per delivery | other processes (cores) |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for k, f := range figs {
		rates := make([]float64, len(runs[k]))
		for i, r := range runs[k] {
			rates[i] = r.rate()
		}
		fmt.Fprintf(w, "| %d | %.0f | %.0f–%.0f | %d | %v | %.1f | %.0f%% | %.2f | %.1f | %s | %.2f |\n", f.shards, f.rate, slices.Min(rates), slices.Max(rates),
			f.rejected, f.caughtUp.Round(time.Millisecond), f.redisCPU, 100*f.busiestShare, f.busiest, f.self, httpCell(c, f.http), f.others)
	}
	fmt.Fprintln(w)
	if c.inProcess {
		fmt.Fprintln(w, "The receiver process's CPU includes the queue's workers and the senders' goroutines, which run in the same process, but no HTTP stack.")
	} else {
		fmt.Fprintln(w, "The receiver process's CPU includes the queue's workers and the senders' HTTP client, which run in the same process: an upper bound for the receiver alone.")
	}
	fmt.Fprintln(w)
	if c.commands {
		for k, n := range c.shards {
			writeCommands(w, n, runs[k])
		}
	}

	// The projection rests on the run whose shards match the primaries
	// (one shard per primary), else on the one with most shards.
	base := slices.IndexFunc(figs, func(f figures) bool { return f.shards == c.primaries })
	if base < 0 {
		base = 0
		for k, f := range figs {
			if f.shards > figs[base].shards {
				base = k
			}
		}
	}
	writeProjection(w, c, figs, base)
}

func httpCell(c config, v float64) string {
	if c.inProcess {
		return "— (in process)"
	}
	return fmt.Sprintf("%.0f", v)
}

// writeCommands prints what the queue's commands cost over all rounds
// and primaries of one shard count.
func writeCommands(w io.Writer, n int, rs []result) {
	sum := map[string]cmdDelta{}
	var deliveries int64
	for _, r := range rs {
		deliveries += r.accepted
		for _, nd := range r.nodes {
			for name, d := range nd.cmds {
				s := sum[name]
				s.calls += d.calls
				s.usec += d.usec
				s.direct += d.direct
				sum[name] = s
			}
		}
	}
	names := slices.Collect(maps.Keys(sum))
	sort.Slice(names, func(i, j int) bool { return sum[names[i]].usec > sum[names[j]].usec })
	fmt.Fprintf(w, "#### Commands, shards=%d (all primaries, all rounds; a command a script runs is also inside the script's time)\n\n", n)
	fmt.Fprintln(w, "| command | calls per delivery | µs per call | µs per delivery |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: |")
	for _, name := range names {
		d := sum[name]
		note := ""
		switch {
		case d.direct == 0:
			note = " (inside scripts)"
		case d.direct < d.calls:
			note = fmt.Sprintf(" (%.0f%% inside scripts)", 100*float64(d.calls-d.direct)/float64(d.calls))
		}
		fmt.Fprintf(w, "| %s%s | %.3f | %.2f | %.2f |\n", name, note, per(d.calls, deliveries), per(d.usec, d.calls), per(d.usec, deliveries))
	}
	fmt.Fprintln(w)
}

func aofCell(v float64, rs []result, node int) string {
	for _, r := range rs {
		for i, nd := range r.nodes {
			if (node < 0 || i == node) && nd.aof < 0 {
				return "n/a (rewritten)"
			}
		}
	}
	return fmt.Sprintf("%.0f", v)
}

func primaryName(cl *benchkit.Cluster, i int) string {
	r := cl.Ranges[i]
	return fmt.Sprintf("%d (%d–%d)", i+1, r[0], r[1])
}

// projection is the arithmetic of the projection, apart so that it can
// be checked.
type projection struct {
	perPrimary   float64 // deliveries/s one primary sustains at the target, balanced
	imbalance    float64 // the busiest primary's load over the mean (1: even)
	primaries    []int   // for each of targets
	receiverCore []float64
	redisGbit    []float64 // client traffic of all primaries together
	httpGbit     []float64
	aofMBs       []float64 // append-only file writes, all primaries together
}

var targets = []float64{10_000, 100_000}

func project(c config, f figures) projection {
	// The shards spread over min(shards, primaries) primaries: the
	// busiest one's share times that count is 1 when they are even.
	p := projection{imbalance: max(1, f.busiestShare*float64(min(f.shards, c.primaries)))}
	p.perPrimary = c.util * 1e6 / f.redisCPU
	for _, t := range targets {
		p.primaries = append(p.primaries, int(math.Ceil(t*f.redisCPU*p.imbalance/(c.util*1e6))))
		p.receiverCore = append(p.receiverCore, t*f.self/1e6/c.util)
		p.redisGbit = append(p.redisGbit, t*f.netRedis*8/1e9)
		p.httpGbit = append(p.httpGbit, t*f.http*8/1e9)
		p.aofMBs = append(p.aofMBs, t*f.aof/1e6)
	}
	return p
}

func writeProjection(w io.Writer, c config, figs []figures, base int) {
	f := figs[base]
	p := project(c, f)
	fmt.Fprintln(w, "#### Projection")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "C is the Redis CPU per delivery, summed over the primaries; a primary runs its commands on one core, kept at u = %.0f%% busy; "+
		"b is the busiest primary's load over the mean (1: even, measured). N primaries sustain N × u × 10⁶ / (C × b) deliveries a second.\n\n", 100*c.util)
	fmt.Fprintln(w, "| from the run with | C, µs per delivery | b | busiest primary busy (cores) | one primary sustains (/s) | primaries for 10,000/s | for 100,000/s |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for k, g := range figs {
		pg := project(c, g)
		label := fmt.Sprintf("shards=%d on %d primaries", g.shards, c.primaries)
		if k == base {
			label = "**" + label + "**"
		}
		fmt.Fprintf(w, "| %s | %.1f | %.2f | %.2f | %.0f | %d | %d |\n", label, g.redisCPU, pg.imbalance, g.busiest, pg.perPrimary, pg.primaries[0], pg.primaries[1])
	}
	fmt.Fprintln(w)
	if f.busiest < c.util {
		fmt.Fprintf(w, "The figures in bold rest on the %d-shard run, whose busiest primary was %.2f cores busy, below u: a busier primary serves more commands "+
			"per event-loop wake-up, read and write (and the queue's readers find more entries per read), so its C is lower and these primary counts are upper bounds. "+
			"Measure C at the target load before sizing a cluster.\n\n", f.shards, f.busiest)
	}
	fmt.Fprintf(w, "The other limits, from the %d-shard run, at %.0f%% CPU:\n\n", f.shards, 100*c.util)
	fmt.Fprintln(w, "```")
	for i, t := range targets {
		fmt.Fprintf(w, "%7.0f deliveries/s: %d primaries; receiver process %.1f µs per delivery -> %.1f cores\n",
			t, p.primaries[i], f.self, p.receiverCore[i])
		httpNet := fmt.Sprintf("HTTP %.0f B -> %.2f Gbit/s in and out of the receivers", f.http, p.httpGbit[i])
		if c.inProcess {
			httpNet = "HTTP not measured (in process)"
		}
		fmt.Fprintf(w, "%7s network: Redis clients %.0f B per delivery -> %.2f Gbit/s over all primaries (%.2f each); %s\n",
			"", f.netRedis, p.redisGbit[i], p.redisGbit[i]/float64(max(1, p.primaries[i])), httpNet)
		aof := fmt.Sprintf("%.0f B per delivery -> %.1f MB/s over all primaries (%.1f MB/s each)", f.aof, p.aofMBs[i], p.aofMBs[i]/float64(max(1, p.primaries[i])))
		if !f.aofOK {
			aof = "not measured (a rewrite shrank the file during a round)"
		}
		fmt.Fprintf(w, "%7s AOF: %s; appendfsync everysec: 1 fsync a second per primary, whatever the rate\n", "", aof)
	}
	fmt.Fprintln(w, "```")
}
