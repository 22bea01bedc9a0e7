// Command load is a bounded loopback load test: a client and a server on
// 127.0.0.1, in paired rounds, compare hookguard's Receiver (verify,
// dedupe in memory, enqueue, 200) with a bare handler that reads the body
// with io.ReadAll and answers 200, and with two handlers that bound what
// any receiver can reach on the machine: one that reads the body into a
// buffer sized from Content-Length, and one that also verifies it with the
// preset (no dedupe, no header copy, no queue). hookguard's Middleware
// (all of that but the hand-off to the queue's workers) runs too. Each round runs every
// handler, in rotating order, for the same duration and the same
// concurrency; every request is a new, distinct, validly signed delivery.
// It prints one markdown table: medians over the rounds of requests per
// second, p99 latency, and their ratios.
//
// Run it from the benchmarks directory:
//
//	go run ./cmd/load
//	go run ./cmd/load -sizes 1,16,256 -rounds 5 -duration 1s -conc 8
//
// Every bound is a flag: duration per handler per round, client
// goroutines, and requests per run (deliveries are signed ahead of time).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookguard/hookguard/benchmarks"
	"github.com/hookguard/hookguard/benchmarks/internal/benchkit"
)

type config struct {
	sizes    []int
	rounds   int
	duration time.Duration
	conc     int
	maxReqs  int
	scheme   benchmarks.Scheme
}

func main() {
	var c config
	sizes := flag.String("sizes", "1,16,256", "body sizes in KiB, comma-separated")
	flag.IntVar(&c.rounds, "rounds", 5, "paired rounds per size (medians are reported)")
	flag.DurationVar(&c.duration, "duration", time.Second, "how long each handler runs in each round (at most 30s)")
	flag.IntVar(&c.conc, "conc", 8, "concurrent client connections (at most 256)")
	flag.IntVar(&c.maxReqs, "max", 60000, "deliveries signed per size (fewer for large bodies: at most 2 GiB hashed); a run stops early when it used them all (at most 1,000,000)")
	scheme := flag.String("scheme", string(benchmarks.Standard), "signature scheme: standardwebhooks, svix or github (the event ID travels in a header; github needs a body per delivery, see -max)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (client and server) to this file")
	flag.Parse()
	c.scheme = benchmarks.Scheme(*scheme)
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			fail(fmt.Errorf("bad size %q: want KiB between 1 and 1024", f))
		}
		c.sizes = append(c.sizes, n<<10)
	}
	switch {
	case c.rounds < 1, c.duration <= 0 || c.duration > 30*time.Second, c.conc < 1 || c.conc > 256, c.maxReqs < 100 || c.maxReqs > 1_000_000:
		fail(errors.New("a bound is out of range; see -help"))
	case c.scheme == benchmarks.Stripe:
		fail(errors.New("stripe carries its event ID in the body: use a header-ID scheme, which needs one body for all deliveries"))
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
	if err := run(c); err != nil {
		pprof.StopCPUProfile()
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}

// result is one handler's numbers in one round.
type result struct {
	rps float64
	p99 time.Duration
}

func run(c config) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var current atomic.Pointer[http.Handler]
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(*current.Load()).ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	url := "http://" + ln.Addr().String() + "/webhooks"
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: c.conc, MaxConnsPerHost: c.conc, DisableCompression: true},
		Timeout:   10 * time.Second,
	}
	defer client.CloseIdleConnections()
	preset, err := benchmarks.Preset(c.scheme)
	if err != nil {
		return err
	}
	// The handlers of each round, bare first: every ratio is to it. The
	// next two bound what any receiver can reach here: reading into a
	// buffer sized from Content-Length, then that plus one verification
	// (no dedupe, no header copy, no queue). hookguard's Middleware does
	// all the Receiver does but the hand-off to the queue's workers.
	names := []string{"bare", "sized read", "sized read + verify", "middleware", "hookguard"}
	fixed := []http.Handler{benchmarks.Bare(), benchmarks.SizedRead(), benchmarks.SizedVerify(preset)}
	const mwi = 3 // the middleware's index in names

	fmt.Printf("Loopback load, %s, %s on %d CPUs, scheme %s, %d client connections, %d paired rounds of %v per handler; medians over the rounds.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), c.scheme, c.conc, c.rounds, c.duration)
	fmt.Println("| body | bare req/s | sized read ÷ bare | sized read + verify ÷ bare | middleware ÷ bare | hookguard req/s | hookguard ÷ bare | hookguard ÷ sized read + verify | bare p99 | middleware p99 ÷ bare | hookguard p99 | hookguard p99 ÷ bare |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, size := range c.sizes {
		// Signing costs one HMAC pass over the body each: cap it at 2 GiB
		// hashed per size. Standard Webhooks and Svix sign the ID and a
		// timestamp with the body, so one body serves every delivery.
		// GitHub signs the body alone, and hookguard drops a second
		// delivery of the same signed bytes as a replay: each needs its
		// own body, so hold at most 512 MiB of them.
		n := min(c.maxReqs, (2<<30)/size)
		sameBody := c.scheme != benchmarks.GitHub
		if !sameBody {
			n = min(n, (512<<20)/size)
		}
		fmt.Fprintf(os.Stderr, "load: signing %d deliveries of %s\n", n, benchmarks.SizeName(size))
		ds, err := benchmarks.Batch(c.scheme, size, n, time.Now(), sameBody)
		if err != nil {
			return err
		}
		// per[i] holds handler i's result in each counted round.
		per := make([][]result, len(names))
		ratio := func(i, base int) []float64 {
			out := make([]float64, len(per[i]))
			for k := range out {
				out[k] = per[i][k].rps / per[base][k].rps
			}
			return out
		}
		for round := range c.rounds + 1 { // round 0 warms up and is not counted
			// A new store and queue each round: every round sends the
			// same deliveries.
			recv, err := benchmarks.NewReceiver(c.scheme, 1<<16)
			if err != nil {
				return err
			}
			mw, err := benchmarks.NewMiddleware(c.scheme)
			if err != nil {
				return err
			}
			hs := append(slices.Clone(fixed), mw, http.Handler(recv))
			// Rotate the order each round, so that no handler always runs
			// first or right after another one.
			order := make([]int, len(hs))
			for i := range order {
				order[i] = (i + round) % len(hs)
			}
			res := make([]result, len(hs))
			for _, i := range order {
				h := hs[i]
				current.Store(&h)
				r, err := drive(client, url, ds, c)
				if err != nil {
					return fmt.Errorf("%s, %s, round %d: %w", benchmarks.SizeName(size), names[i], round, err)
				}
				res[i] = r
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = recv.Shutdown(ctx)
			cancel()
			if err != nil {
				return err
			}
			if round == 0 {
				continue
			}
			msg := ""
			for i, r := range res {
				per[i] = append(per[i], r)
				msg += fmt.Sprintf(", %s %.0f req/s p99 %v", names[i], r.rps, r.p99.Round(time.Microsecond))
			}
			fmt.Fprintf(os.Stderr, "load: %s round %d%s\n", benchmarks.SizeName(size), round, msg)
		}
		hg := len(names) - 1
		p99 := func(i int) []float64 {
			out := make([]float64, len(per[i]))
			for k := range out {
				out[k] = float64(per[i][k].p99) / float64(per[0][k].p99)
			}
			return out
		}
		fmt.Printf("| %s | %.0f | %.2fx | %.2fx | %.2fx | %.0f | **%.2fx** | %.2fx | %v | %.2fx | %v | **%.2fx** |\n", benchmarks.SizeName(size),
			benchkit.Median(rpsOf(per[0])), benchkit.Median(ratio(1, 0)), benchkit.Median(ratio(2, 0)), benchkit.Median(ratio(mwi, 0)),
			benchkit.Median(rpsOf(per[hg])), benchkit.Median(ratio(hg, 0)), benchkit.Median(ratio(hg, 2)),
			time.Duration(benchkit.Median(p99Of(per[0]))).Round(time.Microsecond), benchkit.Median(p99(mwi)),
			time.Duration(benchkit.Median(p99Of(per[hg]))).Round(time.Microsecond), benchkit.Median(p99(hg)))
	}
	return nil
}

// drive sends deliveries from c.conc goroutines for c.duration, or until
// every delivery was sent once, and measures throughput and latency.
func drive(client *http.Client, url string, ds []benchmarks.Delivery, c config) (result, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	lats := make([][]time.Duration, c.conc)
	errs := make([]error, c.conc)
	start := time.Now()
	deadline := start.Add(c.duration)
	for g := range c.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(ds)) {
					return
				}
				d := ds[i]
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.Body))
				if err != nil {
					errs[g] = err
					return
				}
				req.Header = d.Header.Clone()
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs[g] = err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				lats[g] = append(lats[g], time.Since(t0))
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Hookguard-Duplicate") != "" {
					errs[g] = fmt.Errorf("status %d (duplicate %q)", resp.StatusCode, resp.Header.Get("Hookguard-Duplicate"))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(all)
	return result{
		rps: float64(len(all)) / elapsed.Seconds(),
		p99: all[min(len(all)-1, len(all)*99/100)],
	}, nil
}

func rpsOf(rs []result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.rps
	}
	return out
}

func p99Of(rs []result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = float64(r.p99)
	}
	return out
}
