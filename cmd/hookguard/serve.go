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
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/riverkit"
	"go.opentelemetry.io/otel"
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
	fs := newFlagSet("serve", "serve [--addr HOST:PORT] [--ui-addr HOST:PORT] --secret-file PROVIDER=PATH|--secret-env PROVIDER=VAR|--secret PROVIDER=SECRET... [--public-url URL] [--verify-token PROVIDER=TOKEN]... [--signature-version V] [--shared-key ID]... [--max-body BYTES] [--tolerance DURATION] [--redis URL [--shards N] [--former-shards N] | --postgres URL [--migrate] [--table NAME]] [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR]...")
	fs.extra = serveUsage
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to receive webhooks on; port 0 picks a free port")
	uiAddr := fs.String("ui-addr", defaultUIAddr, "`HOST:PORT` of the inspector page and /metrics, a listener of their own; port 0 picks a free port (its URL is logged at start)")
	secretArgs := addSecretFlags(fs, true, "repeat for more providers and for rotation secrets, the first of a provider is its primary")
	var schemeArgs listFlag
	fs.Var(&schemeArgs, "scheme", "`FILE` describing a custom scheme in JSON, received like a provider under its name; give its secret as --secret-file NAME=PATH; repeatable")
	var verifyTokens listFlag
	fs.Var(&verifyTokens, "verify-token", "`PROVIDER=TOKEN`: the verify token typed when registering the callback URL with Meta, for meta, instagram and whatsapp; without it their GET subscription requests are refused")
	publicURL := fs.String("public-url", "", "scheme and host senders call, such as https://hooks.example.com: the `URL` that twilio, square and hubspot (and schemes signing {url}) sign, with /webhooks/{provider} appended; required for them")
	allowHostURL := fs.Bool("allow-host-url", false, "receive URL-signed providers without --public-url, rebuilding the signed URL from each request's Host header, which the sender controls (unsafe; for local testing)")
	sigVersion := fs.String("signature-version", "", "HubSpot signature `VERSION` to accept: v3 (the default, signs a timestamp), or v2 or v1 for legacy apps (replayable)")
	var sharedKeys listFlag
	fs.Var(&sharedKeys, "shared-key", "Twilio SharedKey `ID` (SK...): receive Twilio's HMAC-SHA256 signatures made with that key, whose secret is twilio's secret; repeat during a key rotation")
	maxBody := fs.Int64("max-body", 0, "largest accepted body in `BYTES` (default: the library's)")
	tolerance := fs.String("tolerance", "", "allowed clock difference in each direction, a `DURATION` such as 5m, for the providers that sign a timestamp (default: each provider's)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "how long to wait, a `DURATION`, for requests and queued events on shutdown")
	noUI := fs.Bool("no-ui", false, "do not serve the inspector page (the metrics stay at /metrics on --ui-addr)")
	tlsCert := fs.String("tls-cert", "", "PEM `FILE` of the certificate (its chain after it) to serve --addr over HTTPS with; read again when it changes; needs --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM `FILE` of the private key of --tls-cert")
	var trustedProxies listFlag
	fs.Var(&trustedProxies, "trusted-proxy", "`CIDR` or address of a TLS-terminating proxy in front of serve, whose X-Forwarded-Proto: https counts as HTTPS (for gitlab, postmark and okta, which send a shared token) and whose X-Forwarded-For is believed; list only proxies you run; repeatable")
	redisURL := fs.String("redis", "", "Redis `URL` such as redis://127.0.0.1:6379/0: dedupe and a durable queue shared with other serve processes")
	postgresURL := fs.String("postgres", "", "PostgreSQL `URL` such as postgres://USER:PASSWORD@HOST:5432/DATABASE: dedupe and a durable River queue shared with other serve processes; run \"hookguard migrate\" on it first")
	shards := fs.Int("shards", 1, "with --redis, spread the queue over `N` shards, each on its own Cluster slot (rediskit.WithShards); give every serve process the same")
	formerShards := fs.Int("former-shards", 0, "with --redis, the shard count `N` the queue had before a change of --shards, while its old shards drain (rediskit.WithFormerShards)")
	pgMigrate := fs.Bool("migrate", false, "with --postgres, create or update the schema at start, as \"hookguard migrate\" does")
	pgTable := fs.String("table", riverkit.DefaultTable, "with --postgres, the `NAME` of the dedupe table; give migrate the same")
	if code, ok := fs.parse(e, args); !ok {
		return code
	}
	schemes, err := readSchemes(e, schemeArgs)
	if err != nil {
		return fs.fail(e, err)
	}
	secrets, err := secretArgs.perProvider(e)
	if err != nil {
		return fs.fail(e, err)
	}
	specs, err := parseProviderSecrets(secrets, schemeNames(schemes)...)
	if err != nil {
		return fs.fail(e, err)
	}
	if err := checkSchemeSecrets(specs, schemes); err != nil {
		return fs.fail(e, err)
	}
	switch {
	case *tlsCert != "" && *tlsKey == "":
		return fs.fail(e, errors.New("--tls-cert needs --tls-key, the PEM file of its private key"))
	case *tlsKey != "" && *tlsCert == "":
		return fs.fail(e, errors.New("--tls-key needs --tls-cert, the PEM file of its certificate"))
	case *redisURL != "" && *postgresURL != "":
		return fs.fail(e, errors.New("--redis and --postgres both hold dedupe and the queue: give one of them"))
	case *postgresURL == "" && (*pgMigrate || *pgTable != riverkit.DefaultTable):
		return fs.fail(e, errors.New("--migrate and --table apply to --postgres only"))
	case *redisURL == "" && (*shards != 1 || *formerShards != 0):
		return fs.fail(e, errors.New("--shards and --former-shards apply to --redis only"))
	case *shards < 1 || *shards > rediskit.MaxShards:
		return fs.fail(e, fmt.Errorf("--shards %d: want 1 to %d", *shards, rediskit.MaxShards))
	case *formerShards < 0 || *formerShards > rediskit.MaxShards || *formerShards == *shards:
		return fs.fail(e, fmt.Errorf("--former-shards %d: want the count before a change of --shards (1 to %d, not --shards itself)", *formerShards, rediskit.MaxShards))
	}
	var pgDB *postgresDB // --postgres, parsed before anything starts
	if *postgresURL != "" {
		if pgDB, err = parsePostgres(*postgresURL); err != nil {
			return fs.fail(e, err)
		}
	}
	for i, p := range trustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return fs.fail(e, fmt.Errorf("--trusted-proxy %d: %s is neither a CIDR prefix (10.0.0.0/8) nor an address (10.0.0.7)", i+1, quoteSafe(p)))
			}
		}
	}
	if *maxBody < 0 {
		return fs.fail(e, fmt.Errorf("--max-body %d must not be negative", *maxBody))
	}
	if *shutdownTimeout <= 0 {
		return fs.fail(e, fmt.Errorf("--shutdown-timeout %s must be positive", *shutdownTimeout))
	}
	var tol providers.Option // --tolerance, for the providers that sign a timestamp
	if *tolerance != "" {
		d, err := parseTolerance(*tolerance)
		if err != nil {
			return fs.fail(e, fmt.Errorf("--tolerance: %w", err))
		}
		tol = providers.WithTolerance(d, d)
	}
	own, err := perProviderOptions(specs, verifyTokens, *sigVersion, sharedKeys)
	if err != nil {
		return fs.fail(e, err)
	}
	provs := make([]providers.Provider, 0, len(specs))
	for _, s := range specs {
		p, err := providerFor(s, schemes, own[s.name]...)
		if err != nil {
			return fs.fail(e, err)
		}
		// A preset that signs no timestamp refuses WithTolerance: it has
		// no window. --tolerance sets the window of those that have one.
		if tol != nil && p.Info().Timestamped {
			if p, err = providerFor(s, schemes, append(slices.Clip(own[s.name]), tol)...); err != nil {
				return fs.fail(e, err)
			}
		}
		provs = append(provs, p)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	// OpenTelemetry reports its own errors (a failed export, a bad
	// instrument) through a process-wide handler that prints to stderr in
	// its own format: route them through serve's logger like the rest.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("opentelemetry", "component", "otel", "err", err)
	}))
	if signed := urlSigned(provs); len(signed) > 0 && *publicURL == "" {
		if !*allowHostURL {
			return fs.fail(e, fmt.Errorf("%s sign the URL the sender called; pass --public-url https://YOUR-HOST (the scheme and host the provider is configured with) so that it is not taken from the request's Host header, which the sender controls. --allow-host-url does so anyway, for local tests", strings.Join(signed, ", ")))
		}
		logger.Warn("--allow-host-url: the signed URL is rebuilt from each request's Host header, so a request signed for another app's URL on the same provider account is accepted; pass --public-url in production", "providers", strings.Join(signed, ","))
	}

	// --tls-cert: a bad pair is an error at start; later, a renewal that
	// fails to load keeps the last good pair (tls.go).
	var certs *certReloader
	if *tlsCert != "" {
		if certs, err = newCertReloader(*tlsCert, *tlsKey, logger); err != nil {
			return fs.fail(e, err)
		}
	}

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
	if *publicURL != "" {
		ropts = append(ropts, hookguard.WithPublicURL(*publicURL))
	}
	if len(trustedProxies) > 0 {
		ropts = append(ropts, hookguard.WithTrustedProxies(trustedProxies...))
	}
	if token := sharedTokenNames(provs); len(token) > 0 && *tlsCert == "" && len(trustedProxies) == 0 && !loopbackAddr(*addr) {
		logger.Warn("these providers send a shared token, which must arrive over HTTPS: over plain HTTP they are accepted from loopback only; serve with --tls-cert and --tls-key, or list the TLS proxy in front with --trusted-proxy",
			"providers", strings.Join(token, ","))
	}
	// --redis or --postgres: dedupe and queue in Redis or PostgreSQL,
	// shared by every serve process given the same URL (serve_redis.go,
	// serve_postgres.go).
	var h hookguard.Handler = handler
	var backend sharedBackend
	switch {
	case *redisURL != "":
		rb, err := newRedisBackend(ctx, *redisURL, handler, logger, hooks, redisShards(*shards, *formerShards)...)
		if err != nil {
			return fs.fail(e, err)
		}
		backend = rb
	case pgDB != nil:
		pb, err := newPostgresBackend(ctx, pgDB, *pgTable, *pgMigrate, handler, logger, hooks)
		if errors.Is(err, riverkit.ErrInvalidOption) {
			return fs.fail(e, err)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "hookguard serve: %v\n", err)
			return exitFail
		}
		backend = pb
	}
	if backend != nil {
		ropts, h = append(ropts, backend.options()...), nil
	}
	set, err := newReceiverSet(provs, h, logger, ropts...)
	if err != nil {
		if backend != nil {
			backend.shutdown(*shutdownTimeout, logger)
		}
		return fs.fail(e, err)
	}
	set.backend = backend
	if backend != nil {
		// The inspector lists, replays and drops the backend's dead
		// letters; /metrics counts them (inspector_dead.go).
		if err := obs.useDeadLetters(backend.inspectorDeadLetters()); err != nil {
			shutdownReceivers(set, *shutdownTimeout, logger)
			return fs.fail(e, err)
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		shutdownReceivers(set, *shutdownTimeout, logger)
		logger.Error("listen failed", "addr", *addr, "err", err)
		return exitFail
	}
	uiLn, err := net.Listen("tcp", *uiAddr)
	if err != nil {
		ln.Close()
		shutdownReceivers(set, *shutdownTimeout, logger)
		logger.Error("listen failed", "ui_addr", *uiAddr, "err", err)
		return exitFail
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := newHTTPServer(obs.webhooks(set), logger)
	uiSrv := newHTTPServer(obs.ui(*uiAddr, uiLn.Addr()), logger)
	errc := make(chan error, 2)
	scheme := "http"
	if certs != nil {
		// ServeTLS offers HTTP/2 (TLSNextProto is nil) and takes the
		// certificate from GetCertificate, so the file names stay empty.
		srv.TLSConfig = serverTLSConfig(certs.GetCertificate)
		scheme = "https"
		leaf := certs.leaf()
		logger.Info("serving HTTPS", "cert", *tlsCert, "subject", leaf.Subject.String(),
			"not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "min_version", "TLS 1.2", "reload", "when --tls-cert or --tls-key changes")
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	go func() { errc <- uiSrv.Serve(uiLn) }()
	logger.Info("listening", "url", scheme+"://"+ln.Addr().String()+"/webhooks/{provider}", "providers", strings.Join(set.names, ","))
	obs.logStart(logger, uiLn.Addr())
	if e.uiReady != nil {
		e.uiReady(uiLn.Addr().String())
	}
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}

	code := exitOK
	served := 0 // Serve calls that have returned
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", shutdownTimeout.String())
	case err := <-errc:
		logger.Error("server failed", "err", err)
		code = exitFail
		served++
	}
	stop() // a second signal now kills the process at once
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	for _, s := range []*http.Server{srv, uiSrv} {
		if err := s.Shutdown(sctx); err != nil {
			logger.Error("http shutdown incomplete", "err", err)
			code = exitFail
		}
	}
	for ; served < 2; served++ {
		<-errc
	}
	if err := set.Shutdown(sctx); err != nil {
		logger.Error("receiver shutdown incomplete: queued events were not all handled", "err", err)
		code = exitFail
	}
	logger.Info("stopped", stats.attrs()...)
	return code
}

// defaultUIAddr is where serve puts the inspector and /metrics unless
// --ui-addr says otherwise: loopback only, on a free port.
const defaultUIAddr = "127.0.0.1:0"

// serveUsage is the text of "hookguard help serve" after the flags.
func serveUsage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(`
Each provider given a secret is received on POST /webhooks/{provider}; dropbox,
meta, instagram, whatsapp and okta also get their GET verification requests
there (give meta, instagram and whatsapp --verify-token). Repeat the secret flags
for the same provider to add rotation secrets (the first is the primary).
Prefer --secret-file PROVIDER=PATH or --secret-env PROVIDER=VAR to --secret:
any local user can read command-line arguments in the process list.

twilio, square and hubspot (and --scheme files that sign {url}) sign the URL the
sender called. serve refuses to start them without --public-url, the scheme and
host they are configured with, because otherwise the URL is rebuilt from the
request's Host header and a request signed for another app's host would pass.
--allow-host-url starts them anyway, with a warning, for local tests.

The webhook listener (--addr) serves only /webhooks/. The inspector and /metrics
have their own listener, --ui-addr, on loopback by default (a free port; the URL
is logged at start), and answer only requests whose Host is localhost, 127.0.0.1,
[::1], the --ui-addr host or the address they were received on, and refuse
cross-site requests, which blocks DNS rebinding.

--tls-cert FILE --tls-key FILE serve the webhook listener over HTTPS: TLS 1.2 at
least, HTTP/2 offered. The pair is read again, without a restart, when either
file changes (looked at once a second at most, on a new connection); a renewal
that does not load is logged and the previous pair stays in use. The inspector
listener (--ui-addr) stays plain HTTP: it is for loopback, where TLS adds nothing.

--redis URL or --postgres URL (one of them) keep dedupe and a durable queue in
Redis or PostgreSQL, so several serve processes given the same URL share the
work and take each event in once. --postgres needs the schema in place: run
"hookguard migrate --postgres URL" once first, or pass --migrate to create or
update it at start; serve never changes the schema unless asked. The password
of the URL is never printed or logged. --shards N spreads a Redis queue over N
shards, which a Redis Cluster spreads over its primaries; to change N, run every
process with the new --shards and --former-shards set to the old count until
"hookguard dead" and the logs show the old shards drained and one dedupe TTL
has passed (see rediskit's documentation).

gitlab, postmark and okta prove themselves with a shared token, which anyone on
the path can read over plain HTTP: their deliveries are refused (403) unless
they arrive over TLS, from a --trusted-proxy that says X-Forwarded-Proto: https,
or from loopback. Other providers sign the body and are received over either.

Every handled event is printed to standard output as one JSON line; logs go to
standard error. Values taken from requests are escaped there, so control
characters cannot reach the terminal. SIGINT or SIGTERM shut the server down
gracefully.

`, "\n"))
	inspectorUsage(w)
	providerList(w)
}

// urlSignedPresets are the presets whose signature covers the URL.
var urlSignedPresets = []string{"hubspot", "square", "twilio"}

// urlSigned returns the names of the providers in provs that sign the URL
// the sender called: the presets of urlSignedPresets, and the custom
// schemes (names that are not built-in presets) that sign {url}, which
// their ReadsURL reports.
func urlSigned(provs []providers.Provider) []string {
	var out []string
	for _, p := range provs {
		pr, ok := p.(*providers.Preset)
		custom := ok && !slices.Contains(providers.Names(), p.Name())
		if slices.Contains(urlSignedPresets, p.Name()) || custom && pr.ReadsURL() {
			out = append(out, p.Name())
		}
	}
	return out
}

// sharedTokenNames returns the names of the providers in provs whose
// sender proves itself with a shared token rather than a signature.
func sharedTokenNames(provs []providers.Provider) []string {
	var out []string
	for _, p := range provs {
		if st, ok := p.(interface{ SharedToken() bool }); ok && st.SharedToken() {
			out = append(out, p.Name())
		}
	}
	return out
}

// loopbackAddr reports whether the HOST:PORT addr listens on loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// verifyTokenPresets take [providers.WithVerifyToken].
var verifyTokenPresets = []string{"instagram", "meta", "whatsapp"}

// perProviderOptions returns the options that --verify-token,
// --signature-version and --shared-key give to single providers, by name.
// Errors never contain a token.
func perProviderOptions(specs []providerSpec, verifyTokens []string, sigVersion string, sharedKeys []string) (map[string][]providers.Option, error) {
	given := func(name string) bool {
		return slices.ContainsFunc(specs, func(s providerSpec) bool { return s.name == name })
	}
	opts := map[string][]providers.Option{}
	seen := map[string]bool{}
	for i, a := range verifyTokens {
		name, token, ok := strings.Cut(a, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !ok || name == "" || token == "":
			return nil, fmt.Errorf("--verify-token %d: want PROVIDER=TOKEN, as in --verify-token meta=my-verify-token", i+1)
		case !slices.Contains(verifyTokenPresets, name):
			return nil, fmt.Errorf("--verify-token %d: %s has no verify token; it applies to %s", i+1, quoteSafe(name), strings.Join(verifyTokenPresets, ", "))
		case !given(name):
			return nil, fmt.Errorf("--verify-token %d: %s is not received: give its secret too, as in --secret-file %s=PATH", i+1, name, name)
		case seen[name]:
			return nil, fmt.Errorf("--verify-token %d: a second verify token for %s; give one", i+1, name)
		}
		seen[name] = true
		opts[name] = append(opts[name], providers.WithVerifyToken(token))
	}
	if sigVersion != "" {
		if !given("hubspot") {
			return nil, errors.New("--signature-version applies to hubspot only: give its secret too, as in --secret-file hubspot=PATH")
		}
		opts["hubspot"] = append(opts["hubspot"], providers.WithSignatureVersion(sigVersion))
	}
	if len(sharedKeys) > 0 && !given("twilio") {
		return nil, errors.New("--shared-key applies to twilio only: give the SharedKey's secret too, as in --secret-file twilio=PATH")
	}
	for _, id := range sharedKeys {
		opts["twilio"] = append(opts["twilio"], providers.WithSharedKey(id))
	}
	return opts, nil
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

// parseProviderSecrets groups resolved secrets by provider, in the order
// the providers first appear. Errors never contain a secret.
func parseProviderSecrets(secrets []providerSecret, schemeNames ...string) ([]providerSpec, error) {
	if len(secrets) == 0 {
		return nil, errors.New("at least one secret is required: --secret-file PROVIDER=PATH, --secret-env PROVIDER=VAR or --secret PROVIDER=SECRET")
	}
	var specs []providerSpec
	for i, ps := range secrets {
		name := ps.provider
		if !slices.Contains(providers.Names(), name) && !slices.Contains(schemeNames, name) {
			return nil, fmt.Errorf("secret argument %d: unknown provider %s; use one of %s", i+1, quoteSafe(name), strings.Join(providers.Names(), ", "))
		}
		j := slices.IndexFunc(specs, func(s providerSpec) bool { return s.name == name })
		if j < 0 {
			specs = append(specs, providerSpec{name: name})
			j = len(specs) - 1
		}
		specs[j].secrets = append(specs[j].secrets, ps.secret)
	}
	return specs, nil
}

// receiverSet routes POST /webhooks/{provider} to one [hookguard.Receiver]
// per provider.
type receiverSet struct {
	mux       *http.ServeMux
	receivers map[string]*hookguard.Receiver
	names     []string
	backend   sharedBackend // --redis or --postgres; shut down after the receivers
}

// sharedBackend holds the dedupe records and the queue of serve
// processes that share the work: --redis or --postgres.
type sharedBackend interface {
	// options makes a receiver enqueue into the backend's queue and
	// dedupe in its store.
	options() []hookguard.Option
	// Shutdown stops the queue and closes the connection.
	Shutdown(ctx context.Context) error
	// shutdown is Shutdown under timeout, logging a failure, for when
	// serve fails before it starts.
	shutdown(timeout time.Duration, logger *slog.Logger)
	// inspectorDeadLetters gives the inspector and /metrics the queue's
	// dead letters.
	inspectorDeadLetters() deadLetterView
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
	allow := map[string]string{}
	for _, p := range provs {
		allow[p.Name()] = http.MethodPost
		if takesGET(p) {
			allow[p.Name()] += ", " + http.MethodGet
		}
	}
	route := func(w http.ResponseWriter, r *http.Request) {
		if rc, ok := s.receivers[r.PathValue("provider")]; ok {
			rc.ServeHTTP(w, r)
			return
		}
		s.miss(w, r, logger, http.StatusNotFound)
	}
	s.mux.HandleFunc("POST /webhooks/{provider}", route)
	// GET is the verification handshake of the presets that list it
	// (Dropbox, Meta, Instagram, WhatsApp, Okta); the receiver answers it.
	s.mux.HandleFunc("GET /webhooks/{provider}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(allow[r.PathValue("provider")], http.MethodGet) {
			route(w, r)
			return
		}
		s.notAllowed(w, r, logger, allow)
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notAllowed(w, r, logger, allow) })
	return s, nil
}

// takesGET reports whether p answers GET requests (a verification
// handshake), as the receiver learns through [hookguard.MethodLister].
func takesGET(p providers.Provider) bool {
	ml, ok := p.(hookguard.MethodLister)
	return ok && slices.Contains(ml.Methods(), http.MethodGet)
}

// notAllowed answers a request for a path or method no receiver takes:
// 405 with the methods of the provider when the path names one, else 404.
func (s *receiverSet) notAllowed(w http.ResponseWriter, r *http.Request, logger *slog.Logger, allow map[string]string) {
	status := http.StatusNotFound
	if a, ok := allow[strings.TrimPrefix(r.URL.Path, "/webhooks/")]; ok {
		w.Header().Set("Allow", a)
		status = http.StatusMethodNotAllowed
	}
	s.miss(w, r, logger, status)
}

// miss answers a request that reaches no receiver and logs it. The path is
// attacker-controlled: it is logged quoted and never echoed in the answer.
func (s *receiverSet) miss(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int) {
	msg := "hookguard: not found; webhooks are received with POST /webhooks/{provider} for " + strings.Join(s.names, ", ")
	if status == http.StatusMethodNotAllowed {
		msg = "hookguard: method not allowed: webhooks must be sent with " + w.Header().Get("Allow")
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
	b = append(escapeJSONControls(b), '\n')
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

// attrs returns the counters as slog key-value pairs, for the last log
// line of a run.
func (c *counters) attrs() []any {
	return []any{"accepted", c.accepted.Load(), "duplicate", c.duplicate.Load(), "rejected", c.rejected.Load(),
		"handshake", c.handshake.Load(), "handled", c.handled.Load(), "failed_attempts", c.failed.Load(),
		"dead_lettered", c.deadLettered.Load()}
}

// escapeJSONControls rewrites, inside the JSON text b, the characters that
// encoding/json leaves raw but a terminal may act on (DEL, the C1 controls
// such as CSI U+009B, and format characters such as bidirectional
// overrides) as \uXXXX escapes. Outside strings JSON holds only ASCII, so
// every such character is in a string, where the escape means the same.
func escapeJSONControls(b []byte) []byte {
	if printableText(string(b)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= utf8.RuneSelf && !strconv.IsPrint(r) && !(r == utf8.RuneError && n == 1)) {
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}
