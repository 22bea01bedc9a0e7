// Command backends measures hookguard's queue backends side by side, in
// one run, at one body size (1 KiB by default): the Receiver's own
// in-memory queue and store, rediskit's Redis queue with its store, and
// riverkit's Postgres queue with its store, with synchronous_commit on and
// off. Each backend takes distinct, validly signed Stripe deliveries from
// concurrent senders over loopback HTTP for a fixed time per round; rounds
// rotate the order of the backends, and a warm-up round is not counted.
// The handlers do nothing but count, so what is measured is intake (verify,
// dedupe, store, acknowledge) and whether the queue's workers keep up.
//
// The command starts its own servers and stops them at the end: a
// redis-server (append-only file on, fsync every second, no snapshots) and
// a PostgreSQL cluster with fsync on, as in production. It needs
// redis-server on PATH (or in $REDIS_SERVER) and the PostgreSQL binaries
// (on PATH, in $PG_BINDIR or in /usr/lib/postgresql/*/bin); run as root,
// PostgreSQL runs as the postgres OS user.
//
// Run it from the benchmarks directory:
//
//	go run ./cmd/backends
//	go run ./cmd/backends -senders 64 -rounds 5 -backends pg-sync -pool 16 -pg-workers 100
//
// It prints two markdown tables: per backend, the median over the rounds
// of acknowledged deliveries per second, its ratio to the in-memory
// backend, the round trips to the backend per accepted delivery (intake
// only, and everything the process sent, workers included), whether the
// handlers kept up, and the CPU the receiver process and the server spent
// per delivery; then, for Postgres, commits, WAL syncs and WAL bytes per
// delivery. Per-round figures, with the machine's CPU use by other
// processes (a measure of noise), go to standard error.
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
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/benchmarks"
	"github.com/hookguard/hookguard/benchmarks/internal/benchkit"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/riverkit"
)

type config struct {
	backends       []string
	size           int
	senders        int
	duration       time.Duration
	rounds         int
	maxReqs        int
	catchup        time.Duration
	pool           int
	pgWorkers      int
	redisWorkers   int
	fetchCooldown  time.Duration
	commitDelay    int
	commitSiblings int
	sharedBuffers  string
	dropArgsIndex  bool
}

var allBackends = []string{"memory", "redis", "pg-sync", "pg-async"}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func main() {
	var c config
	list := flag.String("backends", strings.Join(allBackends, ","), "backends to run, comma-separated: "+strings.Join(allBackends, ", ")+" (memory, when given, is the base of the ratios)")
	kib := flag.Int("kib", 1, "body size in KiB")
	flag.IntVar(&c.senders, "senders", 32, "concurrent senders (client connections), 1 to 512")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "how long each backend takes deliveries in each round (at most 60s)")
	flag.IntVar(&c.rounds, "rounds", 3, "counted rounds (medians are reported); a warm-up round comes first")
	flag.IntVar(&c.maxReqs, "max", 120000, "deliveries signed ahead for each backend's warm-up round; later rounds sign 3 times what the backend took in its previous round")
	flag.DurationVar(&c.catchup, "catchup", 30*time.Second, "how long to wait after a round for the handlers to handle every accepted event")
	flag.IntVar(&c.pool, "pool", 0, "Postgres pool size (pgxpool MaxConns; 0: pgxpool's default, max(4, CPUs))")
	flag.IntVar(&c.pgWorkers, "pg-workers", riverkit.DefaultWorkers, "riverkit.WithWorkers: River workers of the Postgres queue")
	flag.IntVar(&c.redisWorkers, "redis-workers", rediskit.DefaultWorkers, "rediskit.WithWorkers: workers of the Redis queue")
	flag.DurationVar(&c.fetchCooldown, "fetch-cooldown", 0, "River's FetchCooldown, through riverkit.WithRiverConfig (0: River's default, "+river.FetchCooldownDefault.String()+")")
	flag.IntVar(&c.commitDelay, "commit-delay", 0, "Postgres commit_delay in microseconds, set on the queue's connections (0: off, the default)")
	flag.IntVar(&c.commitSiblings, "commit-siblings", 5, "Postgres commit_siblings, set on the queue's connections")
	flag.StringVar(&c.sharedBuffers, "shared-buffers", "128MB", "Postgres shared_buffers")
	flag.BoolVar(&c.dropArgsIndex, "drop-args-index", false, "diagnostic, never for production: drop River's GIN index on river_job.args, to measure what indexing the event body costs")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	c.size = *kib << 10
	for _, b := range strings.Split(*list, ",") {
		b = strings.TrimSpace(b)
		if !slices.Contains(allBackends, b) {
			fail(fmt.Errorf("unknown backend %q: want %s", b, strings.Join(allBackends, ", ")))
		}
		if !slices.Contains(c.backends, b) {
			c.backends = append(c.backends, b)
		}
	}
	switch {
	case *kib < 1 || *kib > 1024, c.senders < 1 || c.senders > 512, c.duration <= 0 || c.duration > time.Minute,
		c.rounds < 1 || c.rounds > 50, c.maxReqs < 1000 || c.maxReqs > 1_000_000, c.catchup < 0, c.pool < 0,
		c.pgWorkers < 1, c.redisWorkers < 1, c.fetchCooldown < 0, c.commitDelay < 0 || c.commitDelay > 100000,
		c.commitSiblings < 0 || c.commitSiblings > 1000:
		fail(errors.New("a flag is out of range; see -help"))
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	pprof.StopCPUProfile()
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "backends:", err)
	os.Exit(1)
}

// instance is one backend's receiver for one round.
type instance struct {
	h        http.Handler
	handled  *atomic.Int64
	ingestRT *atomic.Int64 // round trips sent while taking a delivery in; nil: none (memory)
	allRT    *atomic.Int64 // every round trip the process sent to the backend
	stop     func(ctx context.Context) error
}

// backend builds a fresh instance for each round.
type backend struct {
	name      string
	start     func(ctx context.Context) (*instance, error)
	serverCPU func() (time.Duration, bool) // the server's CPU time so far; nil: no server
	pg        *pgtest.Server               // for WAL and commit counts
}

// sample is one backend's figures in one round.
type sample struct {
	sent, accepted, rejected int64
	elapsed                  time.Duration
	handledInWindow          int64
	caughtUp                 time.Duration // -1: not within -catchup
	handled                  int64
	ingestRT, allRT          int64
	selfCPU, srvCPU          time.Duration
	srvOK                    bool
	busy, others             float64 // machine CPU use in the window, in cores
	wal                      walSnap
	hasWAL                   bool
}

func (s sample) rate() float64 { return float64(s.accepted) / s.elapsed.Seconds() }

func run(ctx context.Context, c config) error {
	preset, err := benchmarks.Preset(benchmarks.Stripe)
	if err != nil {
		return err
	}
	var bs []*backend
	var cleanups []func()
	defer func() {
		for _, f := range slices.Backward(cleanups) {
			f()
		}
	}()
	needPG := slices.Contains(c.backends, "pg-sync") || slices.Contains(c.backends, "pg-async")
	var pg *pgtest.Server
	if needPG {
		var stopPG func() error
		pg, stopPG, err = pgtest.Run(pgtest.WithFsync(true),
			pgtest.WithSetting("shared_buffers", c.sharedBuffers),
			pgtest.WithSetting("max_connections", "600"),
			pgtest.WithSetting("track_wal_io_timing", "on"))
		if err != nil {
			return err
		}
		cleanups = append(cleanups, func() {
			if err := stopPG(); err != nil {
				fmt.Fprintln(os.Stderr, "backends: stop postgres:", err)
			}
		})
		if err := riverkit.Migrate(ctx, pg.Pool()); err != nil {
			return err
		}
		if c.dropArgsIndex {
			if _, err := pg.Pool().Exec(ctx, "DROP INDEX river_job_args_index"); err != nil {
				return err
			}
		}
	}
	var rs *benchkit.RedisServer
	if slices.Contains(c.backends, "redis") {
		rs, err = benchkit.StartRedis(ctx, "backends-redis-", "")
		if err != nil {
			return err
		}
		cleanups = append(cleanups, rs.Stop)
	}
	for _, name := range c.backends {
		switch name {
		case "memory":
			bs = append(bs, &backend{name: name, start: func(context.Context) (*instance, error) {
				handled := new(atomic.Int64)
				r, err := hookguard.New(preset, benchkit.Counter(handled), hookguard.WithMaxBodySize(1<<20), hookguard.WithLogger(quiet))
				if err != nil {
					return nil, err
				}
				return &instance{h: r, handled: handled, stop: r.Shutdown}, nil
			}})
		case "redis":
			bs = append(bs, &backend{name: name, serverCPU: func() (time.Duration, bool) { return procCPU(rs.PID(), false) },
				start: func(ctx context.Context) (*instance, error) { return startRedisInstance(ctx, c, rs, preset) }})
		case "pg-sync", "pg-async":
			syncOn := name == "pg-sync"
			bs = append(bs, &backend{name: name, pg: pg, serverCPU: func() (time.Duration, bool) { return procCPU(pg.PID(), true) },
				start: func(ctx context.Context) (*instance, error) { return startPGInstance(ctx, c, pg, preset, name, syncOn) }})
		}
	}

	srvHandler := &switcher{}
	srv := httptest.NewServer(srvHandler)
	defer srv.Close()
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: c.senders, MaxConnsPerHost: c.senders, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
	defer client.CloseIdleConnections()

	fmt.Printf("Queue backends, %s, %s on %d CPUs, %s Stripe deliveries, %d senders, %d rounds of %v per backend (after a warm-up round), medians over the rounds.\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), benchmarks.SizeName(c.size), c.senders, c.rounds, c.duration)
	fmt.Printf("Postgres: fsync on, shared_buffers %s, pool %s, %d River workers, fetch cooldown %v, commit_delay %dµs (siblings %d), each round on emptied tables after a CHECKPOINT%s. Redis: appendfsync everysec, %d workers. Memory: hookguard.New's defaults.\n\n",
		c.sharedBuffers, poolName(c.pool), c.pgWorkers, cmpDur(c.fetchCooldown, river.FetchCooldownDefault), c.commitDelay, c.commitSiblings, map[bool]string{true: ", River's GIN index on args DROPPED (diagnostic)"}[c.dropArgsIndex], c.redisWorkers)

	per := make([][]sample, len(bs))
	last := make([]int64, len(bs))
	for round := range c.rounds + 1 {
		for k := range bs {
			i := (k + round) % len(bs)
			b := bs[i]
			n := c.maxReqs
			if round > 0 {
				n = min(c.maxReqs, 3*int(last[i])+2000)
			}
			s, err := runRound(ctx, c, b, srvHandler, client, srv.URL+"/webhooks", n)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", b.name, round, err)
			}
			last[i] = s.accepted
			label := "warm-up"
			if round > 0 {
				label = "round " + strconv.Itoa(round)
				per[i] = append(per[i], s)
			}
			fmt.Fprintf(os.Stderr, "backends: %-8s %-8s %7.0f acked/s (%d sent, %d rejected, %v), handled in window %d, caught up %s, intake RT %.2f, all RT %.2f, CPU self %.2f server %.2f cores, others %.2f cores\n",
				b.name, label, s.rate(), s.sent, s.rejected, s.elapsed.Round(time.Millisecond), s.handledInWindow, caughtUp(s),
				perDelivery(s.ingestRT, s), perDelivery(s.allRT, s), cores(s.selfCPU, s), cores(s.srvCPU, s), s.others)
		}
	}
	printTables(c, bs, per)
	return nil
}

func poolName(n int) string {
	if n == 0 {
		return "pgxpool default (" + strconv.Itoa(max(4, runtime.NumCPU())) + ")"
	}
	return strconv.Itoa(n)
}

func cmpDur(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func caughtUp(s sample) string {
	if s.caughtUp < 0 {
		return fmt.Sprintf("NO (%d of %d handled)", s.handled, s.accepted)
	}
	return s.caughtUp.Round(time.Millisecond).String() + " after"
}

func perDelivery(n int64, s sample) float64 {
	if s.accepted == 0 {
		return 0
	}
	return float64(n) / float64(s.accepted)
}

func cores(d time.Duration, s sample) float64 { return d.Seconds() / s.elapsed.Seconds() }

// switcher serves with the current round's handler, marking each
// request's context so that the round trips sent while taking it in are
// counted as intake.
type switcher struct{ h atomic.Pointer[http.Handler] }

type intake struct{}

func (s *switcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), intake{}, true)))
}

// trips counts round trips to a backend: all of them, and those sent
// while taking a delivery in.
type trips struct{ ingest, all atomic.Int64 }

func (t *trips) count(ctx context.Context) {
	t.all.Add(1)
	if ctx.Value(intake{}) != nil {
		t.ingest.Add(1)
	}
}

// pgx: every Exec, Query and batch is one round trip.
func (t *trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.count(ctx)
	return ctx
}
func (*trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (t *trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.count(ctx)
	return ctx
}
func (*trips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (*trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// go-redis: every command and every pipeline is one round trip (a script
// whose SHA the server lacks costs two: EVALSHA, then EVAL).
func (*trips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (t *trips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		t.count(ctx)
		return next(ctx, cmd)
	}
}
func (t *trips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		t.count(ctx)
		return next(ctx, cmds)
	}
}

func startRedisInstance(ctx context.Context, c config, rs *benchkit.RedisServer, preset hookguard.Verifier) (*instance, error) {
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	t := &trips{}
	rdb.AddHook(t)
	handled := new(atomic.Int64)
	q, err := rediskit.NewQueue(ctx, rdb, benchkit.Counter(handled), rediskit.WithWorkers(c.redisWorkers), rediskit.WithLogger(quiet))
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	r, err := hookguard.New(preset, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()), hookguard.WithMaxBodySize(1<<20), hookguard.WithLogger(quiet))
	if err != nil {
		_ = q.Shutdown(ctx)
		_ = rdb.Close()
		return nil, err
	}
	return &instance{h: r, handled: handled, ingestRT: &t.ingest, allRT: &t.all, stop: func(ctx context.Context) error {
		err := errors.Join(r.Shutdown(ctx), q.Shutdown(ctx))
		return errors.Join(err, rdb.Close())
	}}, nil
}

func startPGInstance(ctx context.Context, c config, pg *pgtest.Server, preset hookguard.Verifier, name string, sync bool) (*instance, error) {
	admin := pg.Pool()
	// Every round starts from empty tables, right after a checkpoint, so
	// that full-page writes weigh the same in every round.
	if _, err := admin.Exec(ctx, "TRUNCATE river_job, "+riverkit.DefaultTable); err != nil {
		return nil, err
	}
	if _, err := admin.Exec(ctx, "CHECKPOINT"); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(pg.URL())
	if err != nil {
		return nil, err
	}
	t := &trips{}
	pc.ConnConfig.Tracer = t
	if c.pool > 0 {
		pc.MaxConns = int32(c.pool)
	}
	rp := pc.ConnConfig.RuntimeParams
	rp["synchronous_commit"] = map[bool]string{true: "on", false: "off"}[sync]
	rp["commit_delay"] = strconv.Itoa(c.commitDelay)
	rp["commit_siblings"] = strconv.Itoa(c.commitSiblings)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	handled := new(atomic.Int64)
	q, err := riverkit.NewQueue(ctx, pool, benchkit.Counter(handled),
		riverkit.WithQueue("bench_"+strings.ReplaceAll(name, "-", "_")),
		riverkit.WithWorkers(c.pgWorkers),
		riverkit.WithLogger(quiet),
		riverkit.WithMaintenance(0, 1), // measured apart: riverkit's BenchmarkExpire1M
		riverkit.WithRiverConfig(func(rc *river.Config) {
			if c.fetchCooldown > 0 {
				rc.FetchCooldown = c.fetchCooldown
				rc.FetchPollInterval = max(rc.FetchPollInterval, c.fetchCooldown, river.FetchPollIntervalDefault)
			}
		}))
	if err != nil {
		pool.Close()
		return nil, err
	}
	r, err := hookguard.New(preset, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()), hookguard.WithMaxBodySize(1<<20), hookguard.WithLogger(quiet))
	if err != nil {
		_ = q.Shutdown(ctx)
		pool.Close()
		return nil, err
	}
	return &instance{h: r, handled: handled, ingestRT: &t.ingest, allRT: &t.all, stop: func(ctx context.Context) error {
		err := errors.Join(r.Shutdown(ctx), q.Shutdown(ctx))
		pool.Close()
		// The server counts WAL and commits when a session ends (or
		// every so often): wait until the pool's sessions are gone.
		return errors.Join(err, waitSessionsGone(ctx, admin))
	}}, nil
}

// waitSessionsGone waits, up to 10 s, until no client session but the
// caller's is open.
func waitSessionsGone(ctx context.Context, admin *pgxpool.Pool) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		// The admin pool's own sessions (this query's among them) stay.
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database()`).Scan(&n)
		if err != nil {
			return err
		}
		if n <= int(admin.Stat().TotalConns()) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sessions still open 10s after the pool closed", n)
		}
		time.Sleep(20 * time.Millisecond) // polling the server's view of sessions
	}
}

// runRound signs n deliveries, starts a fresh instance of b, sends for
// c.duration, waits for the handlers to catch up and collects the
// figures.
func runRound(ctx context.Context, c config, b *backend, sw *switcher, client *http.Client, url string, n int) (sample, error) {
	var s sample
	ds, err := benchmarks.Batch(benchmarks.Stripe, c.size, n, time.Now(), false)
	if err != nil {
		return s, err
	}
	runtime.GC() // the previous batch's garbage is not this round's work
	in, err := b.start(ctx)
	if err != nil {
		return s, err
	}
	stopped := false
	defer func() {
		if !stopped {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = in.stop(sctx)
			cancel()
		}
	}()
	var h http.Handler = in.h
	sw.h.Store(&h)
	var wal0 walSnap
	if b.pg != nil {
		if wal0, err = readWAL(ctx, b.pg.Pool()); err != nil {
			return s, err
		}
	}
	self0, _ := procCPU(os.Getpid(), false)
	var srv0 time.Duration
	if b.serverCPU != nil {
		srv0, _ = b.serverCPU()
	}
	busy0, total0 := benchkit.MachineCPU()

	s.sent, s.accepted, s.rejected, s.elapsed, err = drive(ctx, client, url, ds, c)
	if err != nil {
		return s, err
	}
	s.handledInWindow = in.handled.Load()
	self1, _ := procCPU(os.Getpid(), false)
	s.selfCPU = self1 - self0
	if b.serverCPU != nil {
		var srv1 time.Duration
		srv1, s.srvOK = b.serverCPU()
		s.srvCPU = srv1 - srv0
	}
	busy1, total1 := benchkit.MachineCPU()
	if total1 > total0 {
		s.busy = float64(busy1-busy0) / float64(total1-total0) * float64(runtime.NumCPU())
		s.others = max(0, s.busy-cores(s.selfCPU, s)-cores(s.srvCPU, s))
	}

	t0 := time.Now()
	s.caughtUp = -1
	for {
		if in.handled.Load() >= s.accepted {
			s.caughtUp = time.Since(t0)
			break
		}
		if time.Since(t0) > c.catchup {
			break
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(5 * time.Millisecond): // polling a counter the workers bump
		}
	}
	s.handled = in.handled.Load()
	if in.ingestRT != nil {
		s.ingestRT, s.allRT = in.ingestRT.Load(), in.allRT.Load()
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = in.stop(sctx)
	cancel()
	stopped = true
	if err != nil {
		return s, err
	}
	if b.pg != nil {
		time.Sleep(300 * time.Millisecond) // the WAL writer reports its syncs every wal_writer_delay (200ms)
		wal1, err := readWAL(ctx, b.pg.Pool())
		if err != nil {
			return s, err
		}
		s.wal, s.hasWAL = wal1.minus(wal0), true
	}
	return s, nil
}

// drive sends deliveries from c.senders goroutines for c.duration, or
// until every delivery was sent once. A 200 that is not a duplicate is an
// acknowledged delivery; any other status is counted as rejected; a
// transport error ends the round.
func drive(ctx context.Context, client *http.Client, url string, ds []benchmarks.Delivery, c config) (sent, accepted, rejected int64, elapsed time.Duration, err error) {
	var next, acc, rej atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, c.senders)
	start := time.Now()
	deadline := start.Add(c.duration)
	for g := range c.senders {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
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
				if resp.StatusCode == http.StatusOK && resp.Header.Get(hookguard.DuplicateHeader) == "" {
					acc.Add(1)
				} else {
					rej.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	if int(next.Load()) >= len(ds) {
		fmt.Fprintf(os.Stderr, "backends: all %d signed deliveries were sent before the round's end; raise -max\n", len(ds))
	}
	if err := errors.Join(errs...); err != nil {
		return 0, 0, 0, elapsed, err
	}
	return acc.Load() + rej.Load(), acc.Load(), rej.Load(), elapsed, ctx.Err()
}

// walSnap is what pg_stat_wal and pg_stat_database say at one moment.
type walSnap struct {
	records, fpi, bytes, writes, syncs, commits int64
	syncMS                                      float64
}

func (a walSnap) minus(b walSnap) walSnap {
	return walSnap{a.records - b.records, a.fpi - b.fpi, a.bytes - b.bytes, a.writes - b.writes, a.syncs - b.syncs, a.commits - b.commits, a.syncMS - b.syncMS}
}

func readWAL(ctx context.Context, pool *pgxpool.Pool) (walSnap, error) {
	var w walSnap
	err := pool.QueryRow(ctx, `SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_write, wal_sync, wal_sync_time,
	(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())
	FROM pg_stat_wal`).Scan(&w.records, &w.fpi, &w.bytes, &w.writes, &w.syncs, &w.syncMS, &w.commits)
	return w, err
}

// procCPU returns the user and system CPU time of process pid, with,
// when children is set, that of its live children and of those it has
// reaped (PostgreSQL's backends are children of the postmaster).
// It reads /proc; ok is false where there is none.
func procCPU(pid int, children bool) (time.Duration, bool) {
	f, ok := statFields(pid)
	if !ok {
		return 0, false
	}
	ticks := f.utime + f.stime
	if children {
		ticks += f.cutime + f.cstime
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			cpid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if cf, ok := statFields(cpid); ok && cf.ppid == int64(pid) {
				ticks += cf.utime + cf.stime
			}
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

type stat struct{ ppid, utime, stime, cutime, cstime int64 }

func statFields(pid int) (stat, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return stat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, state
	if len(f) < 15 {
		return stat{}, false
	}
	n := func(field int) int64 {
		v, _ := strconv.ParseInt(f[field-3], 10, 64)
		return v
	}
	return stat{ppid: n(4), utime: n(14), stime: n(15), cutime: n(16), cstime: n(17)}, true
}

func printTables(c config, bs []*backend, per [][]sample) {
	base := -1
	for i, b := range bs {
		if b.name == "memory" {
			base = i
		}
	}
	fmt.Println("| backend | acked/s (median) | range over rounds | ÷ memory | round trips per delivery: intake | all (workers too) | handled during the window | handlers caught up | CPU per delivery: receiver process | server |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
	for i, b := range bs {
		ss := per[i]
		rates := mapf(ss, sample.rate)
		ratio := "—"
		if base >= 0 {
			rs := make([]float64, len(ss))
			for k := range ss {
				rs[k] = ss[k].rate() / per[base][k].rate()
			}
			ratio = fmt.Sprintf("%.2fx", benchkit.Median(rs))
		}
		rt := func(f func(sample) int64) string {
			if b.name == "memory" {
				return "0 (in process)"
			}
			return fmt.Sprintf("%.2f", benchkit.Median(mapf(ss, func(s sample) float64 { return perDelivery(f(s), s) })))
		}
		inWindow := benchkit.Median(mapf(ss, func(s sample) float64 { return float64(s.handledInWindow) / float64(max(1, s.accepted)) }))
		caught := 0
		var worst time.Duration
		for _, s := range ss {
			if s.caughtUp >= 0 {
				caught++
				worst = max(worst, s.caughtUp)
			}
		}
		cu := fmt.Sprintf("%d of %d rounds, within %v", caught, len(ss), worst.Round(time.Millisecond))
		if caught < len(ss) {
			cu = fmt.Sprintf("**no**: %d of %d rounds within %v", caught, len(ss), c.catchup)
		}
		srv := "—"
		if b.serverCPU != nil {
			srv = fmt.Sprintf("%.0f µs", benchkit.Median(mapf(ss, func(s sample) float64 { return usPer(s.srvCPU, s) })))
		}
		fmt.Printf("| %s | %.0f | %.0f–%.0f | %s | %s | %s | %.0f%% | %s | %.0f µs | %s |\n", b.name, benchkit.Median(rates), slices.Min(rates), slices.Max(rates), ratio,
			rt(func(s sample) int64 { return s.ingestRT }), rt(func(s sample) int64 { return s.allRT }), 100*inWindow, cu,
			benchkit.Median(mapf(ss, func(s sample) float64 { return usPer(s.selfCPU, s) })), srv)
	}
	var pgs []int
	for i, b := range bs {
		if b.pg != nil {
			pgs = append(pgs, i)
		}
	}
	if len(pgs) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("| backend | commits per delivery | WAL syncs per delivery | deliveries per WAL sync | mean WAL sync | WAL bytes per delivery (full-page images) | WAL syncs/s | machine CPU busy (cores) | of which other processes |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, i := range pgs {
		ss := per[i]
		f := func(g func(s sample) float64) float64 { return benchkit.Median(mapf(ss, g)) }
		fmt.Printf("| %s | %.2f | %.3f | %.1f | %.2f ms | %.0f (%.2f) | %.0f | %.2f | %.2f |\n", bs[i].name,
			f(func(s sample) float64 { return float64(s.wal.commits) / float64(s.accepted) }),
			f(func(s sample) float64 { return float64(s.wal.syncs) / float64(s.accepted) }),
			f(func(s sample) float64 { return float64(s.accepted) / float64(max(1, s.wal.syncs)) }),
			f(func(s sample) float64 { return s.wal.syncMS / float64(max(1, s.wal.syncs)) }),
			f(func(s sample) float64 { return float64(s.wal.bytes) / float64(s.accepted) }),
			f(func(s sample) float64 { return float64(s.wal.fpi) / float64(s.accepted) }),
			f(func(s sample) float64 { return float64(s.wal.syncs) / float64(s.accepted) * s.rate() }),
			f(func(s sample) float64 { return s.busy }),
			f(func(s sample) float64 { return s.others }))
	}
}

func usPer(d time.Duration, s sample) float64 {
	return float64(d.Microseconds()) / float64(max(1, s.accepted))
}

func mapf[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}
