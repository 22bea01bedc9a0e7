package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// Server timeouts. Senders give up after 3 to 30 seconds, so a request
// that takes longer than these is not worth finishing.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// runServe implements "hookguard serve".
func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("serve", "serve [--addr HOST:PORT] --secret PROVIDER=SECRET [--secret PROVIDER=SECRET]... [--max-body BYTES] [--tolerance DURATION] [--redis URL]")
	fs.extra = func(w io.Writer) {
		fmt.Fprint(w, "Each provider given with --secret is received on POST /webhooks/{provider}; repeat\n--secret for the same provider to add rotation secrets (the first is the primary).\nEvery handled event is printed to standard output as one JSON line; logs go to\nstandard error. SIGINT or SIGTERM shut the server down gracefully.\n\n")
		inspectorUsage(w)
		providerList(w)
	}
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on; port 0 picks a free port")
	var secretArgs listFlag
	fs.Var(&secretArgs, "secret", "`PROVIDER=SECRET`; repeat for more providers and for rotation secrets")
	var schemeArgs listFlag
	fs.Var(&schemeArgs, "scheme", "`FILE` describing a custom scheme in JSON, received like a provider under its name; give its secret as --secret NAME=SECRET; repeatable")
	maxBody := fs.Int64("max-body", 0, "largest accepted body in `BYTES` (default: the library's)")
	tolerance := fs.String("tolerance", "", "allowed clock difference in each direction, a `DURATION` such as 5m (default: each provider's)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "how long to wait, a `DURATION`, for requests and queued events on shutdown")
	noUI := fs.Bool("no-ui", false, "do not serve the inspector page at / (the metrics stay at /metrics)")
	redisURL := fs.String("redis", "", "Redis `URL` such as redis://127.0.0.1:6379/0: dedupe and a durable queue shared with other serve processes")
	if code, ok := fs.parse(e, args); !ok {
		return code
	}
	schemes, err := readSchemes(e, schemeArgs)
	if err != nil {
		return fs.fail(e, err)
	}
	specs, err := parseProviderSecrets(secretArgs, schemeNames(schemes)...)
	if err != nil {
		return fs.fail(e, err)
	}
	if err := checkSchemeSecrets(specs, schemes); err != nil {
		return fs.fail(e, err)
	}
	if *maxBody < 0 {
		return fs.fail(e, fmt.Errorf("--max-body %d must not be negative", *maxBody))
	}
	if *shutdownTimeout <= 0 {
		return fs.fail(e, fmt.Errorf("--shutdown-timeout %s must be positive", *shutdownTimeout))
	}
	var popts []providers.Option
	if *tolerance != "" {
		d, err := parseTolerance(*tolerance)
		if err != nil {
			return fs.fail(e, fmt.Errorf("--tolerance: %w", err))
		}
		popts = append(popts, providers.WithTolerance(d, d))
	}
	provs := make([]providers.Provider, 0, len(specs))
	for _, s := range specs {
		p, err := providerFor(s, schemes, popts...)
		if err != nil {
			return fs.fail(e, err)
		}
		provs = append(provs, p)
	}

	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	stats := &counters{}
	obs, err := newObserver(!*noUI, provs) // metrics at /metrics, the inspector at / (inspector_metrics.go)
	if err != nil {
		return fs.fail(e, err)
	}
	defer obs.shutdown()
	hooks := obs.hooks(stats.hooks())
	out := &jsonLines{w: e.stdout}
	handler := hookguard.HandlerFunc(func(_ context.Context, ev hookguard.Event) error {
		return out.write(eventLine{
			Provider:   ev.Provider,
			ID:         ev.ID,
			Type:       ev.Type,
			Attempt:    ev.Attempt,
			ReceivedAt: ev.ReceivedAt.UTC(),
		})
	})
	ropts := []hookguard.Option{hookguard.WithLogger(logger), hookguard.WithHooks(hooks)}
	if *maxBody > 0 {
		ropts = append(ropts, hookguard.WithMaxBodySize(*maxBody))
	}
	// --redis: dedupe and queue in Redis, shared by every serve process
	// given the same URL (serve_redis.go).
	var h hookguard.Handler = handler
	var backend *redisBackend
	if *redisURL != "" {
		if backend, err = newRedisBackend(ctx, *redisURL, handler, logger, hooks); err != nil {
			return fs.fail(e, err)
		}
		ropts, h = append(ropts, backend.options()...), nil
	}
	set, err := newReceiverSet(provs, h, logger, ropts...)
	if err != nil {
		backend.shutdown(*shutdownTimeout, logger)
		return fs.fail(e, err)
	}
	set.backend = backend

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		shutdownReceivers(set, *shutdownTimeout, logger)
		fmt.Fprintf(e.stderr, "hookguard serve: %v\n", err)
		return exitFail
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := newHTTPServer(obs.mount(set), logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "url", "http://"+ln.Addr().String()+"/webhooks/{provider}", "providers", strings.Join(set.names, ","))
	obs.logStart(logger, ln.Addr())
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}

	code := exitOK
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", shutdownTimeout.String())
	case err := <-errc:
		logger.Error("server failed", "err", err)
		code = exitFail
		errc <- nil // Serve has returned: let the wait below pass
	}
	stop() // a second signal now kills the process at once
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Error("http shutdown incomplete", "err", err)
		code = exitFail
	}
	<-errc
	if err := set.Shutdown(sctx); err != nil {
		logger.Error("receiver shutdown incomplete: queued events were not all handled", "err", err)
		code = exitFail
	}
	fmt.Fprintf(e.stderr, "hookguard serve: %s\n", stats)
	return code
}

// shutdownReceivers stops set's queues when serve fails before it starts.
func shutdownReceivers(set *receiverSet, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := set.Shutdown(ctx); err != nil {
		logger.Error("receiver shutdown incomplete", "err", err)
	}
}

// newHTTPServer returns a server for h with timeouts sized for webhooks.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// providerSpec is one provider given to serve, with its secrets in order.
type providerSpec struct {
	name    string
	secrets []string
}

func (s providerSpec) provider(opts ...providers.Option) (providers.Provider, error) {
	all := make([]providers.Option, 0, len(s.secrets)-1+len(opts))
	for _, sec := range s.secrets[1:] {
		all = append(all, providers.WithSecret(sec))
	}
	return providers.New(s.name, s.secrets[0], append(all, opts...)...)
}

// parseProviderSecrets groups PROVIDER=SECRET arguments by provider, in
// the order the providers first appear. Errors name an argument by its
// position, never by its value.
func parseProviderSecrets(args []string, schemeNames ...string) ([]providerSpec, error) {
	if len(args) == 0 {
		return nil, errors.New("at least one --secret PROVIDER=SECRET is required")
	}
	var specs []providerSpec
	for i, a := range args {
		name, secret, ok := strings.Cut(a, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || secret == "" {
			return nil, fmt.Errorf("--secret %d: want PROVIDER=SECRET, as in --secret stripe=whsec_xxx", i+1)
		}
		if !slices.Contains(providers.Names(), name) && !slices.Contains(schemeNames, name) {
			return nil, fmt.Errorf("--secret %d: unknown provider %q; use one of %s", i+1, name, strings.Join(providers.Names(), ", "))
		}
		j := slices.IndexFunc(specs, func(s providerSpec) bool { return s.name == name })
		if j < 0 {
			specs = append(specs, providerSpec{name: name})
			j = len(specs) - 1
		}
		specs[j].secrets = append(specs[j].secrets, secret)
	}
	return specs, nil
}

// receiverSet routes POST /webhooks/{provider} to one [hookguard.Receiver]
// per provider.
type receiverSet struct {
	mux       *http.ServeMux
	receivers map[string]*hookguard.Receiver
	names     []string
	backend   *redisBackend // --redis; shut down after the receivers
}

// newReceiverSet builds a Receiver for each provider, all sharing h and
// opts. Requests that reach no receiver are answered 404 or 405 and logged
// to logger, so that every request gets one log line (the receivers log
// theirs). On error, the receivers already built are shut down.
func newReceiverSet(provs []providers.Provider, h hookguard.Handler, logger *slog.Logger, opts ...hookguard.Option) (*receiverSet, error) {
	s := &receiverSet{mux: http.NewServeMux(), receivers: make(map[string]*hookguard.Receiver, len(provs))}
	for _, p := range provs {
		r, err := hookguard.New(p, h, opts...)
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.Shutdown(ctx)
			cancel()
			return nil, fmt.Errorf("%s receiver: %w", p.Name(), err)
		}
		s.receivers[p.Name()] = r
		s.names = append(s.names, p.Name())
	}
	s.mux.HandleFunc("POST /webhooks/{provider}", func(w http.ResponseWriter, r *http.Request) {
		if rc, ok := s.receivers[r.PathValue("provider")]; ok {
			rc.ServeHTTP(w, r)
			return
		}
		s.miss(w, r, logger, http.StatusNotFound)
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusNotFound
		if _, ok := s.receivers[strings.TrimPrefix(r.URL.Path, "/webhooks/")]; ok {
			w.Header().Set("Allow", http.MethodPost)
			status = http.StatusMethodNotAllowed
		}
		s.miss(w, r, logger, status)
	})
	return s, nil
}

// miss answers a request that reaches no receiver and logs it. The path is
// attacker-controlled: it is logged quoted and never echoed in the answer.
func (s *receiverSet) miss(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int) {
	msg := "hookguard: not found; webhooks are received with POST /webhooks/{provider} for " + strings.Join(s.names, ", ")
	if status == http.StatusMethodNotAllowed {
		msg = "hookguard: method not allowed: webhooks must be sent with POST"
	}
	http.Error(w, msg, status)
	logger.LogAttrs(r.Context(), slog.LevelWarn, "hookguard: no receiver",
		slog.String("method", r.Method),
		slog.String("path", r.URL.EscapedPath()),
		slog.Int("status", status),
		slog.String("remote", r.RemoteAddr))
}

// ServeHTTP routes r to its provider's receiver.
func (s *receiverSet) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Shutdown shuts every receiver down under one deadline, in parallel, and
// joins their errors.
func (s *receiverSet) Shutdown(ctx context.Context) error {
	errs := make([]error, len(s.names))
	var wg sync.WaitGroup
	for i, name := range s.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.receivers[name].Shutdown(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	if s.backend != nil {
		errs = append(errs, s.backend.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// eventLine is what serve prints for each handled event.
type eventLine struct {
	Provider   string    `json:"provider"`
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Attempt    int       `json:"attempt"`
	ReceivedAt time.Time `json:"received_at"`
}

// jsonLines writes values as JSON lines; it is safe for concurrent use.
type jsonLines struct {
	mu sync.Mutex
	w  io.Writer
}

func (j *jsonLines) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err = j.w.Write(b)
	return err
}

// counters counts what a receiver's hooks report; it is safe for
// concurrent use.
type counters struct {
	accepted, duplicate, rejected, handshake, handled, failed, deadLettered atomic.Int64
}

func (c *counters) hooks() hookguard.Hooks {
	return hookguard.Hooks{
		OnAccepted:  func(hookguard.Event) { c.accepted.Add(1) },
		OnDuplicate: func(hookguard.Event) { c.duplicate.Add(1) },
		OnRejected:  func(string, int, error) { c.rejected.Add(1) },
		OnHandshake: func(string) { c.handshake.Add(1) },
		OnHandled: func(_ hookguard.Event, _ int, err error, _ time.Duration) {
			if err != nil {
				c.failed.Add(1)
				return
			}
			c.handled.Add(1)
		},
		OnDeadLetter: func(hookguard.Event, error) { c.deadLettered.Add(1) },
	}
}

// String returns the counts as "key=value" pairs.
func (c *counters) String() string {
	return fmt.Sprintf("accepted=%d duplicate=%d rejected=%d handshake=%d handled=%d failed_attempts=%d dead_lettered=%d",
		c.accepted.Load(), c.duplicate.Load(), c.rejected.Load(), c.handshake.Load(),
		c.handled.Load(), c.failed.Load(), c.deadLettered.Load())
}
