package otelhook

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/httpx"
	"github.com/hookguard/hookguard/verify"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/hookguard/hookguard/otelhook"

// Attribute keys.
const (
	KeyProvider    = attribute.Key("hookguard.provider")
	KeyOutcome     = attribute.Key("hookguard.outcome")
	KeyReason      = attribute.Key("hookguard.reason")
	KeyResult      = attribute.Key("hookguard.result")
	KeySecretIndex = attribute.Key("hookguard.secret.index")
	KeyStatusCode  = attribute.Key("http.response.status_code")
	KeyEventID     = attribute.Key("hookguard.event.id")   // spans only
	KeyEventType   = attribute.Key("hookguard.event.type") // spans only
	KeyAttempt     = attribute.Key("hookguard.attempt")    // spans only
)

// TraceHeader is the request header through which [Telemetry.Middleware]
// hands its span's context to [Telemetry.Handler], in the W3C traceparent
// format.
const TraceHeader = "Hookguard-Traceparent"

// Option configures a [Telemetry].
type Option func(*config)

type config struct {
	mp    metric.MeterProvider
	tp    trace.TracerProvider
	clock func() time.Time
}

// WithMeterProvider sets where metrics go (default: otel.GetMeterProvider()
// at the time of New).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider()
// at the time of New).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	}
}

// WithClock sets the clock used for the event age (default time.Now). Give
// the receiver's clock when it was given one with hookguard.WithClock.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// Telemetry records a receiver's metrics and spans. Build it once with
// [New] and share it among receivers: its instruments and attribute sets
// are cached, and it is safe for concurrent use.
type Telemetry struct {
	clock  func() time.Time
	tracer trace.Tracer

	requests    metric.Int64Counter
	ack         metric.Float64Histogram
	secrets     metric.Int64Counter
	depth       metric.Int64UpDownCounter
	handlerDur  metric.Float64Histogram
	attempts    metric.Int64Histogram
	age         metric.Float64Histogram
	skew        metric.Float64Histogram
	deadLetters metric.Int64Counter
	fallbacks   metric.Int64Counter

	// sets caches one measurement option per attribute combination. The
	// combinations are few (see the package doc), so it stays small; a
	// lookup does not allocate.
	mu   sync.RWMutex
	sets map[attrKey]attrOpts
}

// Bucket boundaries, in seconds. The ack is usually well under a
// millisecond, while senders give up after 3 to 30 s; a handler runs from
// milliseconds to its attempt timeout; an event's age runs from a second
// to the days a sender keeps retrying.
var (
	ackBuckets     = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	handlerBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	ageBuckets     = []float64{0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400, 259200}
	attemptBuckets = []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20}
	// skewBuckets reach a day both ways; a refused timestamp is at least
	// the window (5 minutes by default) away.
	skewBuckets = []float64{-86400, -3600, -900, -600, -300, 0, 300, 600, 900, 3600, 86400}
)

// New returns a Telemetry. It fails only when the meter provider refuses
// to create an instrument.
func New(opts ...Option) (*Telemetry, error) {
	cfg := config{clock: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	m := cfg.mp.Meter(ScopeName)
	r := &Telemetry{clock: cfg.clock, tracer: cfg.tp.Tracer(ScopeName), sets: make(map[attrKey]attrOpts)}
	var err, e error
	r.requests, e = m.Int64Counter("hookguard.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Webhook requests answered, by provider, outcome and reason."))
	err = errors.Join(err, e)
	r.ack, e = m.Float64Histogram("hookguard.ack.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from the start of a webhook request until it was answered."),
		metric.WithExplicitBucketBoundaries(ackBuckets...))
	err = errors.Join(err, e)
	r.secrets, e = m.Int64Counter("hookguard.secret.matches", metric.WithUnit("{request}"),
		metric.WithDescription("Verified requests by the index of the secret that matched; 0 is the primary."))
	err = errors.Join(err, e)
	r.depth, e = m.Int64UpDownCounter("hookguard.queue.depth", metric.WithUnit("{event}"),
		metric.WithDescription("Events held by the queue: waiting, running or waiting for a retry."))
	err = errors.Join(err, e)
	r.handlerDur, e = m.Float64Histogram("hookguard.handler.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of each handler attempt."),
		metric.WithExplicitBucketBoundaries(handlerBuckets...))
	err = errors.Join(err, e)
	r.attempts, e = m.Int64Histogram("hookguard.handler.attempts", metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts an event took until it was handled or dead-lettered."),
		metric.WithExplicitBucketBoundaries(attemptBuckets...))
	err = errors.Join(err, e)
	r.age, e = m.Float64Histogram("hookguard.event.age", metric.WithUnit("s"),
		metric.WithDescription("Time from the event's signed timestamp to the start of its first handler attempt."),
		metric.WithExplicitBucketBoundaries(ageBuckets...))
	err = errors.Join(err, e)
	r.skew, e = m.Float64Histogram("hookguard.timestamp.skew", metric.WithUnit("s"),
		metric.WithDescription("For deliveries refused for their signed timestamp: how far the receiver's clock was past it (negative: the timestamp lies in the future)."),
		metric.WithExplicitBucketBoundaries(skewBuckets...))
	err = errors.Join(err, e)
	r.deadLetters, e = m.Int64Counter("hookguard.dead_letters", metric.WithUnit("{event}"),
		metric.WithDescription("Events given up on, by reason."))
	err = errors.Join(err, e)
	r.fallbacks, e = m.Int64Counter("hookguard.store.fallbacks", metric.WithUnit("{call}"),
		metric.WithDescription("Dedupe store failures answered by the local in-memory store."))
	err = errors.Join(err, e)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// skewOf returns the Skew of the *verify.Error in err's chain, or 0. It
// walks the chain by hand: errors.As would move its target to the heap on
// every answer, and recording allocates nothing.
func skewOf(err error) time.Duration {
	for err != nil {
		switch e := err.(type) {
		case *verify.Error:
			return e.Skew
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if d := skewOf(inner); d != 0 {
					return d
				}
			}
			return 0
		default:
			return 0
		}
	}
	return 0
}

// Hooks returns the hooks that record the metrics. Pass them to
// [hookguard.WithHooks]; for a [hookguard.MemoryQueue] built apart, give
// its [hookguard.NewMemoryQueue] the same WithHooks too, so that the queue
// depth and handler metrics are recorded.
//
// Requests are counted from OnAnswered alone; the other request hooks
// (OnAccepted, OnDuplicate, OnRejected, OnHandshake) are left nil, so you
// may set your own in the returned struct.
func (r *Telemetry) Hooks() hookguard.Hooks {
	return hookguard.Hooks{
		OnAnswered:      r.answered,
		OnEnqueued:      r.enqueued,
		OnHandled:       r.handled,
		OnDeadLetter:    r.deadLetter,
		OnStoreFallback: r.storeFallback,
	}
}

// attrKey identifies one attribute combination. Unused fields are zero.
type attrKey struct {
	metric   string
	provider string
	outcome  string
	reason   string
	status   int
	secret   int
}

// attrOpts holds one attribute set as ready-made option slices, so that
// recording passes them without allocating a variadic slice each time.
type attrOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

// set returns the cached options for k, building them once.
func (r *Telemetry) set(k attrKey, build func() []attribute.KeyValue) attrOpts {
	r.mu.RLock()
	o, ok := r.sets[k]
	r.mu.RUnlock()
	if ok {
		return o
	}
	m := metric.WithAttributeSet(attribute.NewSet(build()...))
	o = attrOpts{add: []metric.AddOption{m}, rec: []metric.RecordOption{m}}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.sets[k]; ok {
		return prev
	}
	r.sets[k] = o
	return o
}

func (r *Telemetry) providerSet(name, provider string) attrOpts {
	return r.set(attrKey{metric: name, provider: provider}, func() []attribute.KeyValue {
		return []attribute.KeyValue{KeyProvider.String(provider)}
	})
}

func (r *Telemetry) answered(ctx context.Context, a hookguard.Answer) {
	reason := Reason(a.Err)
	r.requests.Add(ctx, 1, r.set(attrKey{metric: "requests", provider: a.Provider, outcome: a.Outcome, reason: reason, status: a.Status},
		func() []attribute.KeyValue {
			return []attribute.KeyValue{KeyProvider.String(a.Provider), KeyOutcome.String(a.Outcome),
				KeyReason.String(reason), KeyStatusCode.Int(a.Status)}
		}).add...)
	r.ack.Record(ctx, a.Latency.Seconds(), r.set(attrKey{metric: "ack", provider: a.Provider, outcome: a.Outcome},
		func() []attribute.KeyValue {
			return []attribute.KeyValue{KeyProvider.String(a.Provider), KeyOutcome.String(a.Outcome)}
		}).rec...)
	// A timestamp outside the window: record by how much, so that a
	// steady clock skew (fix NTP) can be told from replays (scattered).
	if d := skewOf(a.Err); d != 0 {
		r.skew.Record(ctx, d.Seconds(), r.providerSet("skew", a.Provider).rec...)
	}
	if a.SecretIndex >= 0 {
		r.secrets.Add(ctx, 1, r.set(attrKey{metric: "secret", provider: a.Provider, secret: a.SecretIndex},
			func() []attribute.KeyValue {
				return []attribute.KeyValue{KeyProvider.String(a.Provider), KeySecretIndex.Int(a.SecretIndex)}
			}).add...)
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := []attribute.KeyValue{KeyProvider.String(a.Provider), KeyOutcome.String(a.Outcome)}
	if reason != "" {
		attrs = append(attrs, KeyReason.String(reason))
	}
	if a.ID != "" {
		attrs = append(attrs, KeyEventID.String(a.ID))
	}
	if a.Type != "" {
		attrs = append(attrs, KeyEventType.String(a.Type))
	}
	if a.SecretIndex >= 0 {
		attrs = append(attrs, KeySecretIndex.Int(a.SecretIndex))
	}
	span.SetAttributes(attrs...)
}

func (r *Telemetry) enqueued(e hookguard.Event) {
	r.depth.Add(context.Background(), 1, r.providerSet("depth", e.Provider).add...)
}

func (r *Telemetry) handled(e hookguard.Event, attempt int, err error, d time.Duration) {
	ctx := context.Background()
	result := "success"
	if err != nil {
		result = "failure"
	}
	r.handlerDur.Record(ctx, d.Seconds(), r.set(attrKey{metric: "handler", provider: e.Provider, outcome: result},
		func() []attribute.KeyValue {
			return []attribute.KeyValue{KeyProvider.String(e.Provider), KeyResult.String(result)}
		}).rec...)
	if attempt == 1 && !e.Timestamp.IsZero() {
		// The attempt started d ago.
		age := r.clock().Sub(e.Timestamp) - d
		r.age.Record(ctx, max(age, 0).Seconds(), r.providerSet("age", e.Provider).rec...)
	}
	if err == nil { // the event is done: it leaves the queue
		r.depth.Add(ctx, -1, r.providerSet("depth", e.Provider).add...)
		r.attempts.Record(ctx, int64(attempt), r.set(attrKey{metric: "attempts", provider: e.Provider, outcome: "handled"},
			func() []attribute.KeyValue {
				return []attribute.KeyValue{KeyProvider.String(e.Provider), KeyResult.String("handled")}
			}).rec...)
	}
}

func (r *Telemetry) deadLetter(e hookguard.Event, err error) {
	ctx := context.Background()
	reason := "exhausted"
	switch {
	case errors.Is(err, hookguard.ErrShuttingDown):
		reason = "shutdown"
	case hookguard.IsPermanent(err):
		reason = "permanent"
	}
	r.deadLetters.Add(ctx, 1, r.set(attrKey{metric: "dead", provider: e.Provider, reason: reason},
		func() []attribute.KeyValue {
			return []attribute.KeyValue{KeyProvider.String(e.Provider), KeyReason.String(reason)}
		}).add...)
	r.depth.Add(ctx, -1, r.providerSet("depth", e.Provider).add...)
	r.attempts.Record(ctx, int64(e.Attempt), r.set(attrKey{metric: "attempts", provider: e.Provider, outcome: "dead_letter"},
		func() []attribute.KeyValue {
			return []attribute.KeyValue{KeyProvider.String(e.Provider), KeyResult.String("dead_letter")}
		}).rec...)
}

func (r *Telemetry) storeFallback(error) {
	r.fallbacks.Add(context.Background(), 1)
}

// Middleware returns next wrapped in a server span per request, named
// "hookguard.receive". [Telemetry.Hooks] (through OnAnswered) adds the
// provider, outcome, reason, event ID and type and matched secret to it; the
// middleware adds the status code, and marks the span as an error for a 5xx
// answer. The span continues the trace of the request's context, if any;
// trace headers sent by the caller are ignored. The span's context is
// written to the request's [TraceHeader] for [Telemetry.Handler].
func (r *Telemetry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, span := r.tracer.Start(req.Context(), "hookguard.receive",
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", req.Method),
				attribute.String("url.path", req.URL.Path)))
		defer span.End()
		req2 := req.WithContext(ctx)
		req2.Header = req.Header.Clone()
		if req2.Header == nil {
			req2.Header = make(http.Header)
		}
		req2.Header.Del(TraceHeader)
		req2.Header.Del(traceStateHeader)
		propagation.TraceContext{}.Inject(ctx, carrier(req2.Header))
		sw := &httpx.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, req2)
		status := sw.Status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(KeyStatusCode.Int(status))
		if status >= 500 {
			span.SetStatus(codes.Error, strconv.Itoa(status)+" "+http.StatusText(status))
		}
	})
}

// Handler returns h wrapped in a consumer span per attempt, named
// "hookguard.handle", with the provider, event ID and type and attempt
// number, linked to the request's span when the event came through
// [Telemetry.Middleware]. h's context carries the span, so spans h starts
// are its children. A failed attempt records its error on the span.
func (r *Telemetry) Handler(h hookguard.Handler) hookguard.Handler {
	return hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		opts := []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithNewRoot(),
			trace.WithAttributes(KeyProvider.String(e.Provider), KeyEventID.String(e.ID),
				KeyEventType.String(e.Type), KeyAttempt.Int(e.Attempt)),
		}
		if e.Header != nil {
			rctx := propagation.TraceContext{}.Extract(context.Background(), carrier(e.Header))
			if sc := trace.SpanContextFromContext(rctx); sc.IsValid() {
				opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
			}
		}
		ctx, span := r.tracer.Start(ctx, "hookguard.handle", opts...)
		ended := false
		defer func() {
			if !ended { // h panicked; the queue recovers and retries
				span.SetStatus(codes.Error, "handler panicked")
				span.End()
			}
		}()
		err := h.HandleEvent(ctx, e)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "handler failed")
		}
		ended = true
		span.End()
		return err
	})
}

const traceStateHeader = "Hookguard-Tracestate"

// carrier stores W3C trace context under hookguard's own header names, so
// that a traceparent header the sender set is neither trusted nor
// overwritten.
type carrier http.Header

func (c carrier) name(key string) string {
	switch key {
	case "traceparent":
		return TraceHeader
	case "tracestate":
		return traceStateHeader
	}
	return ""
}

func (c carrier) Get(key string) string {
	if n := c.name(key); n != "" {
		return http.Header(c).Get(n)
	}
	return ""
}

func (c carrier) Set(key, value string) {
	if n := c.name(key); n != "" {
		http.Header(c).Set(n, value)
	}
}

func (c carrier) Keys() []string { return []string{"traceparent", "tracestate"} }
