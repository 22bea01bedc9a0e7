package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	rec   *otelhook.Recorder
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

// mount returns the server's handler: /metrics, the inspector (unless
// --no-ui) and everything else to webhooks, captured by the inspector
// when the path is under /webhooks/.
func (o *observer) mount(webhooks http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{}))
	if o.insp == nil {
		mux.Handle("/", webhooks)
		return mux
	}
	mux.Handle("/webhooks/", o.insp.wrap(webhooks))
	o.insp.routes(mux, o.names)
	mux.Handle("/", webhooks)
	return mux
}

// logStart says where the page and the metrics are, and warns when the
// page is reachable beyond this machine.
func (o *observer) logStart(logger *slog.Logger, addr net.Addr) {
	base := "http://" + addr.String()
	logger.Info("metrics", "url", base+"/metrics")
	if o.insp == nil {
		return
	}
	logger.Info("inspector", "url", base+"/")
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		logger.Warn("the inspector shows captured webhook bodies and can re-send them; anyone who can reach this address can use it. Bind to 127.0.0.1 or pass --no-ui")
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
The page at / shows the last 200 deliveries live, with their headers
(signatures masked) and bodies, a button to re-send one, and a chart of
accepted, duplicate and rejected deliveries per minute. It keeps bodies in
memory only (64 KiB each at most) and never logs them; --no-ui turns it off.
Prometheus scrapes the metrics at /metrics.

`, "\n"))
}

// combineHooks returns hooks that call a's hook, then b's, for every
// field.
func combineHooks(a, b hookguard.Hooks) hookguard.Hooks {
	return hookguard.Hooks{
		OnAccepted:      both1(a.OnAccepted, b.OnAccepted),
		OnDuplicate:     both1(a.OnDuplicate, b.OnDuplicate),
		OnRejected:      both3(a.OnRejected, b.OnRejected),
		OnHandshake:     both1(a.OnHandshake, b.OnHandshake),
		OnHandled:       both4(a.OnHandled, b.OnHandled),
		OnDeadLetter:    both2(a.OnDeadLetter, b.OnDeadLetter),
		OnStoreFallback: both1(a.OnStoreFallback, b.OnStoreFallback),
		OnAnswered:      both2(a.OnAnswered, b.OnAnswered),
		OnEnqueued:      both1(a.OnEnqueued, b.OnEnqueued),
	}
}

func both1[A any](f, g func(A)) func(A) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A) { f(a); g(a) }
}

func both2[A, B any](f, g func(A, B)) func(A, B) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A, b B) { f(a, b); g(a, b) }
}

func both3[A, B, C any](f, g func(A, B, C)) func(A, B, C) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A, b B, c C) { f(a, b, c); g(a, b, c) }
}

func both4[A, B, C, D any](f, g func(A, B, C, D)) func(A, B, C, D) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A, b B, c C, d D) { f(a, b, c, d); g(a, b, c, d) }
}
