// Command ratios runs the comparison benchmarks of this module several
// times, interleaved (each count is a full pass over every benchmark, so
// machine noise spreads over all of them alike), and prints one markdown
// table of ratios of medians: hookguard against the floors measured in the
// same run and against each peer.
//
// Run it from the benchmarks directory:
//
//	go run ./cmd/ratios                   # 5 counts
//	go run ./cmd/ratios -count 7 -benchtime 300ms
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/benchmarks"
	"github.com/hookguard/hookguard/benchmarks/internal/benchkit"
)

func main() {
	count := flag.Int("count", 5, "passes over the benchmarks; the table shows medians (at least 5 for the README)")
	benchtime := flag.String("benchtime", "200ms", "go test -benchtime of each benchmark in each pass")
	bench := flag.String("bench", ".", "go test -bench pattern")
	raw := flag.String("raw", "", "also write the raw go test output to this file")
	from := flag.String("from", "", "render the table from this raw output (of -raw, or of go test -count N) instead of running")
	flag.Parse()
	if *count < 1 {
		fmt.Fprintln(os.Stderr, "ratios: -count must be at least 1")
		os.Exit(2)
	}
	if *from != "" {
		out, err := os.ReadFile(*from)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(1)
		}
		res := results{}
		cpu := parse(out, res)
		render(os.Stdout, res, cpu, passes(res))
		return
	}
	res, cpu, out, err := runAll(*count, *benchtime, *bench)
	if *raw != "" {
		if werr := os.WriteFile(*raw, out, 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "ratios:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	render(os.Stdout, res, cpu, *count)
}

// sample is one benchmark line.
type sample struct{ ns, allocs float64 }

// results maps a benchmark name (without "Benchmark" and the -N suffix) to
// its samples, one per pass.
type results map[string][]sample

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s([\d.]+) allocs/op)?`)

// runAll runs go test once per pass, so that the passes interleave.
func runAll(count int, benchtime, bench string) (results, string, []byte, error) {
	res := results{}
	cpu := ""
	var all bytes.Buffer
	for i := range count {
		fmt.Fprintf(os.Stderr, "ratios: pass %d of %d\n", i+1, count)
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", bench, "-benchmem", "-count", "1", "-benchtime", benchtime, ".")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		all.Write(out)
		if err != nil {
			return res, cpu, all.Bytes(), fmt.Errorf("go test: %w", err)
		}
		if c := parse(out, res); c != "" {
			cpu = c
		}
	}
	return res, cpu, all.Bytes(), nil
}

// parse adds the benchmark lines of out to res and returns the CPU that
// go test reported.
func parse(out []byte, res results) (cpu string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		t := sc.Text()
		if c, ok := strings.CutPrefix(t, "cpu: "); ok {
			cpu = c
		}
		m := line.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		allocs, _ := strconv.ParseFloat(m[3], 64)
		res[m[1]] = append(res[m[1]], sample{ns, allocs})
	}
	return cpu
}

// passes returns the fewest samples any benchmark has.
func passes(r results) int {
	n := 0
	for _, ss := range r {
		if n == 0 || len(ss) < n {
			n = len(ss)
		}
	}
	return n
}

// med returns the median ns/op and allocs/op of a benchmark, and whether it ran.
func (r results) med(name string) (ns, allocs float64, ok bool) {
	ss, ok := r[name]
	if !ok {
		return 0, 0, false
	}
	var n, a []float64
	for _, s := range ss {
		n = append(n, s.ns)
		a = append(a, s.allocs)
	}
	return benchkit.Median(n), benchkit.Median(a), true
}

func render(w io.Writer, r results, cpu string, count int) {
	fmt.Fprintf(w, "Measured %s with %s on %s (GOMAXPROCS %d), medians of %d interleaved passes.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), cpu, runtime.GOMAXPROCS(0), count)

	fmt.Fprintln(w, "| scheme | size | hookguard ns/op | allocs | ÷ pooled HMAC | ÷ SHA-256 | ÷ peer (peer ns/op, allocs) |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | --- |")
	for _, s := range benchmarks.Schemes {
		for _, n := range benchmarks.Sizes {
			size := benchmarks.SizeName(n)
			hg, ha, ok := r.med("Verify/" + string(s) + "/" + size + "/hookguard")
			if !ok {
				continue
			}
			pooled, _, _ := r.med("Baseline/all/" + size + "/hmac-pooled")
			sha, _, _ := r.med("Baseline/all/" + size + "/sha256")
			var peers []string
			for _, p := range peerNames(r, "Verify/"+string(s)+"/"+size+"/") {
				pn, pa, _ := r.med("Verify/" + string(s) + "/" + size + "/" + p)
				peers = append(peers, fmt.Sprintf("%s **%s** (%s, %.0f)", p, ratio(hg, pn), ns(pn), pa))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.0f | %s | %s | %s |\n", s, size, ns(hg), ha, ratio(hg, pooled), ratio(hg, sha), strings.Join(peers, "; "))
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Whole handlers at 1 KiB, a new event every iteration. hookguard: Receiver (read, verify, dedupe in memory, enqueue into its MemoryQueue, 200); middleware: Middleware with a memory store around a handler that answers 200 (no queue); verify-only: the preset's Verify in the peers' handler shape (body read into a buffer sized from Content-Length). Peers: the peer's verify call inside the bare handler.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scheme | bare ns/op | hookguard ns/op | allocs | ÷ bare | ÷ peer handler (peer ns/op, allocs) | middleware ns/op | allocs | ÷ bare | ÷ peer handler | verify-only ns/op | ÷ peer handler |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | --- |")
	for _, s := range benchmarks.Schemes {
		prefix := "ServeHTTP/" + string(s) + "/1KiB/"
		hg, ha, ok := r.med(prefix + "hookguard")
		if !ok {
			continue
		}
		bare, _, _ := r.med(prefix + "bare")
		mw, ma, _ := r.med(prefix + "hookguard-middleware")
		vo, _, _ := r.med(prefix + "hookguard-verify")
		var peers, mpeers, vpeers []string
		for _, p := range peerNames(r, prefix) {
			if p == "bare" || strings.HasPrefix(p, "hookguard") {
				continue
			}
			pn, pa, _ := r.med(prefix + p)
			peers = append(peers, fmt.Sprintf("%s **%s** (%s, %.0f)", p, ratio(hg, pn), ns(pn), pa))
			mpeers = append(mpeers, fmt.Sprintf("%s **%s**", p, ratio(mw, pn)))
			vpeers = append(vpeers, fmt.Sprintf("%s **%s**", p, ratio(vo, pn)))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %s | %s | %s | %.0f | %s | %s | %s | %s |\n", s, ns(bare), ns(hg), ha, ratio(hg, bare), strings.Join(peers, "; "),
			ns(mw), ma, ratio(mw, bare), strings.Join(mpeers, "; "), ns(vo), strings.Join(vpeers, "; "))
	}
}

// peerNames lists the implementations measured under prefix other than
// hookguard, in a stable order.
func peerNames(r results, prefix string) []string {
	var out []string
	for name := range r {
		if rest, ok := strings.CutPrefix(name, prefix); ok && rest != "hookguard" && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func ns(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1f µs", v/1e3)
	default:
		return fmt.Sprintf("%.0f ns", v)
	}
}
