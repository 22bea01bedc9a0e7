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
Prometheus scrapes the metrics at /metrics of --ui-addr.

`, "\n"))
}

// combineHooks returns hooks that call a's hook, then b's, for every
// field.
func combineHooks(a, b hookguard.Hooks) hookguard.Hooks { return a.Join(b) }
