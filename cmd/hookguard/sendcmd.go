package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/sign"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// Bounds of "hookguard send".
const (
	maxSendCount       = 100_000
	maxSendConcurrency = 64
	defaultSendTimeout = 10 * time.Second
)

// runSend implements "hookguard send".
func runSend(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("send", "send --provider NAME|--scheme FILE --secret-file PATH|--secret-env VAR|--secret SECRET [--fixture NAME | --body FILE] [--event TYPE] [--count N] [--concurrency C] [--duplicates FRACTION] [--tamper KIND] [--cacert FILE|--insecure] URL\n       hookguard send --list")
	fs.extra = func(w io.Writer) {
		fmt.Fprint(w, `send signs a fixture (or a file) as the provider would and POSTs it to URL, a running
receiver. With --count N it sends N copies, each with a fresh event ID (a random ID
header, or for schemes that read the ID from the body, such as Stripe and Slack, a
new value written into the body's top-level ID field before signing), except the
fraction --duplicates, which resend an earlier copy unchanged after all fresh copies
were answered. It prints a histogram of the status codes and, for N > 1, latency
p50/p99. It never follows redirects, and exits 1 when any answer was not 2xx.

An https:// URL is verified against the system's CAs, or with --cacert FILE
against only the CAs in FILE (a private CA). A certificate that does not verify
fails the request with what to fix; --insecure skips verification, with a warning.

Tamper kinds: `+strings.Join(sign.TamperNames()[1:], ", ")+`.
`)
		fmt.Fprintln(w)
		providerList(w)
	}
	list := fs.Bool("list", false, "print the embedded fixtures, one a line: PROVIDER/EVENT, a description and the published source it was written from; then exit")
	pf := addProviderFlags(fs)
	secretArgs := addSecretFlags(fs, false, "the receiver's signing secret (for asymmetric schemes, the private key)")
	fixture := fs.String("fixture", "", "fixture `NAME` to send, PROVIDER/EVENT or EVENT (default: the provider's first)")
	bodyPath := fs.String("body", "", "`FILE` holding the body to send instead of a fixture; - reads standard input")
	event := fs.String("event", "", "event `TYPE` for schemes that carry it in a header (default: the fixture's)")
	contentType := fs.String("content-type", "", "media `TYPE` of --body (default application/json)")
	count := fs.Int("count", 1, "send `N` requests (at most 100000)")
	concurrency := fs.Int("concurrency", 1, "send at most `C` requests at a time (at most 64)")
	duplicates := fs.Float64("duplicates", 0, "`FRACTION` of the requests, in [0, 1), that resend an earlier copy")
	tamperName := fs.String("tamper", "none", "spoil every request: `KIND` is one of "+strings.Join(sign.TamperNames(), ", "))
	timeout := fs.Duration("timeout", defaultSendTimeout, "give up on one request after `DURATION`")
	caCert := fs.String("cacert", "", "PEM `FILE` of the CA (or CAs) that signed the receiver's certificate, for an https:// URL served with a private CA; only these are trusted, not the system's")
	insecure := fs.Bool("insecure", false, "do not verify the receiver's certificate at all: anyone on the path can impersonate the receiver and read every payload sent; for local use only, prefer --cacert")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.usage(e.stdout)
			return exitOK
		}
		return fs.fail(e, err)
	}
	if *list {
		if fs.NArg() > 0 {
			return fs.fail(e, errors.New("--list takes no URL"))
		}
		return printFixtureList(e.stdout)
	}
	if fs.NArg() != 1 {
		return fs.fail(e, fmt.Errorf("want exactly one URL after the flags, got %d arguments; every value needs its flag, as in --secret VALUE", fs.NArg()))
	}
	target, err := parseTargetURL(fs.Arg(0))
	if err != nil {
		return fs.fail(e, err)
	}
	if err := pf.check(); err != nil {
		return fs.fail(e, err)
	}
	secret, err := singleSecret(e, *secretArgs)
	if err != nil {
		return fs.fail(e, err)
	}
	switch {
	case *count < 1 || *count > maxSendCount:
		return fs.fail(e, fmt.Errorf("--count %d is out of range: 1 to %d", *count, maxSendCount))
	case *concurrency < 1 || *concurrency > maxSendConcurrency:
		return fs.fail(e, fmt.Errorf("--concurrency %d is out of range: 1 to %d", *concurrency, maxSendConcurrency))
	case !(*duplicates >= 0 && *duplicates < 1):
		return fs.fail(e, fmt.Errorf("--duplicates %v is out of range: a fraction in [0, 1)", *duplicates))
	case *timeout <= 0:
		return fs.fail(e, fmt.Errorf("--timeout %v must be positive", *timeout))
	case *fixture != "" && *bodyPath != "":
		return fs.fail(e, errors.New("give --fixture or --body, not both"))
	}
	tlsConf, err := clientTLSConfig(*caCert, *insecure)
	if err != nil {
		return fs.fail(e, err)
	}
	if (*caCert != "" || *insecure) && !strings.HasPrefix(target, "https://") {
		return fs.fail(e, fmt.Errorf("--cacert and --insecure apply to https:// URLs; %s is plain HTTP", target))
	}
	if *insecure {
		fmt.Fprintln(e.stderr, "hookguard send: warning: --insecure: the receiver's certificate is not verified, so anyone on the path can impersonate it and read what is sent; use --cacert FILE instead outside local tests")
	}
	tamper, err := sign.ParseTamper(*tamperName)
	if err != nil {
		return fs.fail(e, fmt.Errorf("--tamper: %w", err))
	}
	p, err := pf.provider(e, secret)
	if err != nil {
		return fs.fail(e, err)
	}
	if !tamper.Applies(p) {
		return fs.fail(e, fmt.Errorf("--tamper %s: %s signs no timestamp, so an old request is still valid", tamper, p.Name()))
	}

	plan := sendPlan{p: p, url: target, tlsConf: tlsConf, count: *count, concurrency: min(*concurrency, *count), timeout: *timeout, tamper: tamper}
	plan.spec.URL = target
	if *bodyPath != "" {
		body, err := e.readInput(*bodyPath, maxBodySize)
		if err != nil {
			return fs.fail(e, fmt.Errorf("--body: %w", err))
		}
		plan.spec.Body, plan.what = body, *bodyPath
		plan.spec.ContentType = *contentType
	} else {
		f, err := pickFixture(p.Name(), *fixture)
		if err != nil {
			return fs.fail(e, fmt.Errorf("--fixture: %w", err))
		}
		plan.spec.Body, plan.spec.Type, plan.spec.ContentType, plan.spec.Header = f.Body, f.Type, f.ContentType, f.Header
		plan.what = f.Name
		if *contentType != "" {
			plan.spec.ContentType = *contentType
		}
	}
	if *event != "" {
		plan.spec.Type = *event
	}
	plan.dups = int(math.Round(*duplicates * float64(*count)))
	plan.dups = min(plan.dups, *count-1)

	if err := plan.prepare(e.stderr); err != nil {
		fmt.Fprintf(e.stderr, "hookguard send: %v\n", err)
		return exitFail
	}
	sum := plan.run(ctx)
	sum.print(e.stdout, plan)
	if !sum.allOK() {
		return exitFail
	}
	return exitOK
}

// parseTargetURL checks that s is an absolute http or https URL.
func parseTargetURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("URL %q is not an absolute http:// or https:// URL", s)
	}
	return u.String(), nil
}

// pickFixture returns the fixture name names (PROVIDER/EVENT, or EVENT of
// provider), or when name is empty provider's first fixture that is not a
// handshake.
func pickFixture(provider, name string) (webhooktest.Fixture, error) {
	if name == "" {
		fs := webhooktest.Fixtures(provider)
		for _, f := range fs {
			if !isHandshakeFixture(f) {
				return f, nil
			}
		}
		return webhooktest.Fixture{}, fmt.Errorf("%s has no fixtures: pass --body FILE", provider)
	}
	if !strings.Contains(name, "/") {
		name = provider + "/" + name
	}
	f, err := webhooktest.LookupFixture(name)
	if err != nil {
		return f, err
	}
	if f.Provider != provider {
		return f, fmt.Errorf("fixture %s is a %s event; send it with --provider %s, or pass the body with --body", f.Name, f.Provider, f.Provider)
	}
	return f, nil
}

// isHandshakeFixture reports whether f is a handshake rather than an event.
func isHandshakeFixture(f webhooktest.Fixture) bool {
	return strings.Contains(f.Event, "verification") || strings.Contains(f.Event, "challenge") || f.Event == "ping"
}

// printFixtureList prints every embedded fixture, name first, then its
// description and, when its sidecar names one, its reference.
func printFixtureList(w io.Writer) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range webhooktest.AllFixtures() {
		if f.Reference == "" {
			fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Description)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Description, f.Reference)
	}
	if err := tw.Flush(); err != nil {
		return exitFail
	}
	return exitOK
}

// sendPlan is what "hookguard send" sends.
type sendPlan struct {
	p           providers.Provider
	url, what   string
	tlsConf     *tls.Config // nil: the system's roots
	spec        sign.Spec
	tamper      sign.Tamper
	count       int
	dups        int
	concurrency int
	timeout     time.Duration
	idPlace     sign.IDPlace
	origID      string
}

// prepare learns where the event ID lives, so that copies can get fresh
// ones, and warns when fresh IDs cannot make copies distinct.
func (s *sendPlan) prepare(stderr io.Writer) error {
	if s.count-s.dups <= 1 {
		return nil
	}
	place, err := sign.FindID(s.p, s.spec.Body, s.url, s.spec.ContentType)
	if errors.Is(err, sign.ErrNoIDField) {
		fmt.Fprintf(stderr, "hookguard send: note: %s reads the event ID from a nested body field, which send does not rewrite; every copy keeps the body's ID\n", s.p.Name())
		return nil
	}
	if err != nil {
		return err
	}
	s.idPlace = place
	switch {
	case place.Field != "":
		s.origID = place.Value
	case place.Header && !s.p.Info().Timestamped:
		fmt.Fprintf(stderr, "hookguard send: note: %s signs neither the event ID nor a timestamp, so copies differ only in an unsigned ID header; a receiver that dedupes on content (hookguard does) answers them as duplicates\n", s.p.Name())
	case !place.Header:
		fmt.Fprintf(stderr, "hookguard send: note: the body carries no event ID %s reads, so every copy is the same event\n", s.p.Name())
	}
	return nil
}

// build returns the request for fresh copy i.
func (s *sendPlan) build(i int) (*outgoing, error) {
	spec := s.spec
	spec.Header = s.spec.Header.Clone()
	if s.count-s.dups > 1 {
		switch {
		case s.idPlace.Field != "":
			body, err := sign.SetField(spec.Body, s.idPlace.Field, sign.FreshID(s.origID))
			if err != nil {
				return nil, fmt.Errorf("fresh ID for copy %d: %w", i+1, err)
			}
			spec.Body = body
		case s.idPlace.Header:
			spec.ID = "" // the preset picks a random one
		}
	}
	s.tamper.Apply(&spec, s.p)
	return buildOutgoing(s.p, spec)
}

// sendSummary collects the answers.
type sendSummary struct {
	mu        sync.Mutex
	statuses  map[string]int
	errs      map[string]int
	latencies []time.Duration
	sent      int
	lastBody  []byte // the last answer's body, printed for a single request
}

func (s *sendSummary) add(res sendResult, err error, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	if err != nil {
		s.errs[shortError(err)]++
		return
	}
	key := strconv.Itoa(res.Status)
	if res.Header.Get(hookguard.DuplicateHeader) != "" {
		key += " duplicate"
	}
	s.statuses[key]++
	s.latencies = append(s.latencies, d)
	s.lastBody = res.Body
}

// shortError is err's text on one line, bounded.
func shortError(err error) string {
	msg := escapeControls(strings.ReplaceAll(err.Error(), "\n", " "))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return msg
}

func (s *sendSummary) allOK() bool {
	if len(s.errs) > 0 {
		return false
	}
	for k := range s.statuses {
		if k[0] != '2' {
			return false
		}
	}
	return s.sent > 0
}

// run sends the fresh copies, then the duplicates, each phase with at
// most s.concurrency requests in flight.
func (s *sendPlan) run(ctx context.Context) *sendSummary {
	sum := &sendSummary{statuses: make(map[string]int), errs: make(map[string]int), latencies: make([]time.Duration, 0, s.count)}
	client := newSendClient(s.timeout, s.concurrency, s.tlsConf)
	defer client.CloseIdleConnections()
	fresh := s.count - s.dups
	reqs := make([]*outgoing, fresh)
	s.phase(ctx, client, sum, fresh, func(i int) (*outgoing, error) {
		o, err := s.build(i)
		reqs[i] = o // each i is written by one goroutine only
		return o, err
	})
	s.phase(ctx, client, sum, s.dups, func(i int) (*outgoing, error) {
		if o := reqs[i%fresh]; o != nil {
			return o, nil
		}
		return nil, errors.New("the copy to duplicate could not be built")
	})
	return sum
}

// phase sends n requests made by next with s.concurrency workers.
func (s *sendPlan) phase(ctx context.Context, client *http.Client, sum *sendSummary, n int, next func(i int) (*outgoing, error)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(s.concurrency, n) {
		wg.Go(func() {
			for i := range work {
				o, err := next(i)
				if err != nil {
					sum.add(sendResult{}, err, 0)
					continue
				}
				start := time.Now()
				res, err := send(ctx, client, o)
				sum.add(res, err, time.Since(start))
			}
		})
	}
	defer wg.Wait()
	defer close(work)
	for i := range n {
		select {
		case work <- i:
		case <-ctx.Done():
			return
		}
	}
}

// print writes the summary: one line for a single request, else a
// histogram and latency percentiles.
func (s *sendSummary) print(w io.Writer, plan sendPlan) {
	tamper := ""
	if plan.tamper != sign.None {
		tamper = ", tampered: " + plan.tamper.String()
	}
	fmt.Fprintf(w, "POST %s: %d %s request(s) of %s (%d fresh, %d duplicate%s), concurrency %d\n",
		plan.url, s.sent, plan.p.Name(), plan.what, plan.count-plan.dups, plan.dups, tamper, plan.concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range slices.Sorted(maps.Keys(s.statuses)) {
		fmt.Fprintf(tw, "  %s\t%d\n", k, s.statuses[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.errs)) {
		fmt.Fprintf(tw, "  error: %s\t%d\n", k, s.errs[k])
	}
	_ = tw.Flush()
	if plan.count == 1 && len(s.lastBody) > 0 {
		fmt.Fprintf(w, "answer: %s\n", printable(bytes.TrimSpace(s.lastBody), 512))
	}
	if plan.count > 1 && len(s.latencies) > 0 {
		slices.Sort(s.latencies)
		fmt.Fprintf(w, "latency p50 %v  p99 %v  max %v\n", percentile(s.latencies, 50), percentile(s.latencies, 99), s.latencies[len(s.latencies)-1].Round(time.Microsecond))
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1].Round(time.Microsecond)
}

// printable returns at most n bytes of b as one line, with control and
// non-ASCII bytes escaped, so a receiver's answer cannot garble a terminal.
func printable(b []byte, n int) string {
	cut := len(b) > n
	b = b[:min(len(b), n)]
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02x", c)
		}
	}
	if cut {
		sb.WriteString("...")
	}
	return sb.String()
}
