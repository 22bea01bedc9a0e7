package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/otelhook"
	"github.com/hookguard/hookguard/providers"
)

// observer gives serve its metrics at /metrics (OpenTelemetry, exported in
// the Prometheus format) and, unless --no-ui, the inspector page at /.
type observer struct {
	mp    *sdkmetric.MeterProvider
	rec   *otelhook.Telemetry
	reg   *prometheus.Registry
	insp  *inspector // nil with --no-ui
	names []string
}

// newObserver builds the metric pipeline and, when ui is set, the
// inspector for provs.
func newObserver(ui bool, provs []providers.Provider) (*observer, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "hookguard"))))
	rec, err := otelhook.New(otelhook.WithMeterProvider(mp))
	if err != nil {
		_ = mp.Shutdown(context.Background())
		return nil, fmt.Errorf("metrics: %w", err)
	}
	o := &observer{mp: mp, rec: rec, reg: reg}
	var sigHeaders []string
	for _, p := range provs {
		o.names = append(o.names, p.Name())
		if h := p.Info().SignatureHeader; h != "" {
			sigHeaders = append(sigHeaders, h)
		}
	}
	if ui {
		o.insp = newInspector(sigHeaders)
	}
	return o, nil
}

// hooks returns extra combined with the metric hooks and, with the page,
// the inspector's.
func (o *observer) hooks(extra hookguard.Hooks) hookguard.Hooks {
	h := combineHooks(extra, o.rec.Hooks())
	if o.insp != nil {
		h = combineHooks(h, o.insp.hooks())
	}
	return h
}

// webhooks returns the webhook listener's handler: every request goes to
// the receivers, captured by the inspector (unless --no-ui) when the path
// is under /webhooks/. Nothing else is served there: the page and the
// metrics are on the UI listener ([observer.ui]).
func (o *observer) webhooks(receivers http.Handler) http.Handler {
	if o.insp == nil {
		return receivers
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", o.insp.wrap(receivers))
	mux.Handle("/", receivers)
	return mux
}

// ui returns the UI listener's handler: /metrics and, unless --no-ui, the
// inspector, behind the host and cross-site guard. configured is the
// --ui-addr flag, bound the address it listens on.
func (o *observer) ui(configured string, bound net.Addr) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{}))
	if o.insp != nil {
		o.insp.routes(mux, o.names)
	}
	return newUIGuard(configured, bound).wrap(mux)
}

// logStart says where the page and the metrics are, and warns when they
// are reachable beyond this machine.
func (o *observer) logStart(logger *slog.Logger, addr net.Addr) {
	base := "http://" + addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		base = "http://" + net.JoinHostPort("localhost", strconv.Itoa(ta.Port))
	}
	logger.Info("metrics", "url", base+"/metrics")
	if o.insp != nil {
		logger.Info("inspector", "url", base+"/")
	}
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		logger.Warn("--ui-addr is reachable beyond this machine: the inspector shows captured webhook bodies and can re-send them, and /metrics names your providers. Keep --ui-addr on 127.0.0.1 or pass --no-ui")
	}
}

// deadLetterScope is the instrumentation scope of serve's dead-letter
// metrics.
const deadLetterScope = "github.com/hookguard/hookguard/cmd/hookguard"

// deadHeldTimeout bounds the count of the dead letters held, per scrape.
const deadHeldTimeout = 2 * time.Second

// useDeadLetters gives /metrics the dead letters of the durable backend v
// and, unless --no-ui, gives them to the inspector, which lists, replays
// and drops them. Call it once, before serving.
//
//	hookguard_dead_letters_held            gauge    dead letters the backend holds, counted at each scrape
//	hookguard_dead_letters_replayed_total  counter  replays through this process's inspector that queued the event again
//	hookguard_dead_letters_dropped_total   counter  dead letters dropped through this process's inspector
//
// Replays and drops made elsewhere ("hookguard dead", another serve)
// show in the gauge only; so do the dead letters retention removes.
func (o *observer) useDeadLetters(v deadLetterView) error {
	m := o.mp.Meter(deadLetterScope)
	_, err := m.Int64ObservableGauge("hookguard.dead_letters.held", metric.WithUnit("{event}"),
		metric.WithDescription("Dead letters the durable queue holds (events its handler gave up on, kept for replay), counted at each scrape."),
		metric.WithInt64Callback(func(ctx context.Context, obs metric.Int64Observer) error {
			ctx, cancel := context.WithTimeout(ctx, deadHeldTimeout)
			defer cancel()
			n, err := v.held(ctx)
			if err != nil {
				return fmt.Errorf("counting the dead letters held: %w", err)
			}
			obs.Observe(n)
			return nil
		}))
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	d := &inspectorDead{deadLetterView: v}
	if d.replayed, err = m.Int64Counter("hookguard.dead_letters.replayed", metric.WithUnit("{event}"),
		metric.WithDescription("Dead letters replayed through the inspector that were queued again (not duplicates).")); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if d.dropped, err = m.Int64Counter("hookguard.dead_letters.dropped", metric.WithUnit("{event}"),
		metric.WithDescription("Dead letters dropped through the inspector.")); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	// Exported at 0 from the start, so that rate() and alerts see them.
	d.replayed.Add(context.Background(), 0)
	d.dropped.Add(context.Background(), 0)
	if o.insp != nil {
		o.insp.dead = d
	}
	return nil
}

// shutdown flushes and stops the metric pipeline.
func (o *observer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = o.mp.Shutdown(ctx)
}

// inspectorUsage is serve's help text about the page and the metrics.
func inspectorUsage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(`
The page at / of --ui-addr shows the last 200 deliveries live, with their headers
(signatures masked) and bodies, a button to re-send one, and a chart of
accepted, duplicate and rejected deliveries per minute. It keeps bodies in
memory only (64 KiB each at most) and never logs them; --no-ui turns it off.
With --redis or --postgres it also lists the queue's dead letters (events the
handler gave up on) with their last error, and replays or drops one: a replay
goes through dedupe again, so replaying twice handles the event once.
Prometheus scrapes the metrics at /metrics of --ui-addr, among them
hookguard_dead_letters_held, _replayed_total and _dropped_total.

`, "\n"))
}

// combineHooks returns hooks that call a's hook, then b's, for every
// field.
func combineHooks(a, b hookguard.Hooks) hookguard.Hooks { return a.Join(b) }
