package otelhook_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/otelhook"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

const (
	primary  = "whsec_otelhook_primary"
	rotation = "whsec_otelhook_rotation"
)

// fixture is a receiver wired to a Telemetry that reports to an in-memory
// reader and span recorder.
type fixture struct {
	t      *testing.T
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	rec    *otelhook.Telemetry
	recv   *hookguard.Receiver
	http   http.Handler
	signer providers.Provider // signs with the rotation secret
	now    time.Time
}

func newFixture(t *testing.T, h hookguard.Handler, opts ...hookguard.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder(), now: time.Now()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	var err error
	f.rec, err = otelhook.New(otelhook.WithMeterProvider(mp), otelhook.WithTracerProvider(tp),
		otelhook.WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.New("stripe", primary, providers.WithSecret(rotation))
	if err != nil {
		t.Fatal(err)
	}
	f.signer, err = providers.New("stripe", rotation)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]hookguard.Option{hookguard.WithHooks(f.rec.Hooks()),
		hookguard.WithClock(func() time.Time { return f.now })}, opts...)
	f.recv, err = hookguard.New(p, f.rec.Handler(h), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.recv.Shutdown(context.Background()) })
	f.http = f.rec.Middleware(f.recv)
	return f
}

// post sends a Stripe event signed at ts with the rotation secret; tamper
// flips a body byte after signing.
func (f *fixture) post(id string, ts time.Time, tamper bool, extra http.Header) *httptest.ResponseRecorder {
	f.t.Helper()
	body := []byte(`{"id":"` + id + `","object":"event","type":"invoice.paid"}`)
	h, err := f.signer.Sign(providers.Outgoing{Body: body, Timestamp: ts})
	if err != nil {
		f.t.Fatal(err)
	}
	if tamper {
		body = bytes.Replace(body, []byte("invoice"), []byte("invoicE"), 1)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
	for k, vs := range h {
		req.Header[k] = vs
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	f.http.ServeHTTP(w, req)
	return w
}

func (f *fixture) collect() map[string]metricdata.Metrics {
	f.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		f.t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelhook.ScopeName {
			f.t.Errorf("scope %q; want %q", sm.Scope.Name, otelhook.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrs renders an attribute set as "k=v,k=v" in key order.
func attrs(s attribute.Set) string {
	var b bytes.Buffer
	for i, kv := range s.ToSlice() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(kv.Key) + "=" + kv.Value.String())
	}
	return b.String()
}

// sums returns an int64 sum's data points by attribute set.
func sums(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T; want an int64 sum", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, dp := range s.DataPoints {
		out[attrs(dp.Attributes)] = dp.Value
	}
	return out
}

type histPoint struct {
	count    uint64
	sum, max float64
}

func hists[N int64 | float64](t *testing.T, m metricdata.Metrics) map[string]histPoint {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[N])
	if !ok {
		t.Fatalf("%s is %T; want a histogram", m.Name, m.Data)
	}
	out := map[string]histPoint{}
	for _, dp := range h.DataPoints {
		mx, _ := dp.Max.Value()
		out[attrs(dp.Attributes)] = histPoint{count: dp.Count, sum: float64(dp.Sum), max: float64(mx)}
	}
	return out
}

func wantSums(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s has %d series %v; want %d %v", name, len(got), got, len(want), want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s{%s} = %d; want %d (all: %v)", name, k, got[k], v, got)
		}
	}
}

func TestMetricsOfRequestsAndHandling(t *testing.T) {
	handled := make(chan hookguard.Event, 4)
	f := newFixture(t, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		handled <- e
		return nil
	}))
	signedAt := f.now.Add(-90 * time.Second)

	if w := f.post("evt_1", signedAt, false, nil); w.Code != http.StatusOK {
		t.Fatalf("valid = %d %s", w.Code, w.Body)
	}
	<-handled
	// The handler ran; the Hooks see it just after: first the attempt's
	// duration, then the event's attempts and the queue depth. Wait for the
	// last of them (its histogram exists only once the event was handled).
	waitFor(t, func() bool {
		m, ok := f.collect()["hookguard.handler.attempts"]
		if !ok {
			return false
		}
		_, ok = hists[int64](t, m)["hookguard.provider=stripe,hookguard.result=handled"]
		return ok
	})
	if w := f.post("evt_1", signedAt, false, nil); w.Header().Get(hookguard.DuplicateHeader) != "true" {
		t.Fatalf("copy = %d %v; want a duplicate", w.Code, w.Header())
	}
	if w := f.post("evt_2", signedAt, true, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("tampered = %d; want 401", w.Code)
	}
	if w := f.post("evt_3", f.now.Add(-time.Hour), false, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("stale = %d; want 401", w.Code)
	}
	get := httptest.NewRequest(http.MethodGet, "/webhooks/stripe", nil)
	f.http.ServeHTTP(httptest.NewRecorder(), get)

	m := f.collect()
	wantSums(t, "hookguard.requests", sums(t, m["hookguard.requests"]), map[string]int64{
		"hookguard.outcome=accepted,hookguard.provider=stripe,hookguard.reason=,http.response.status_code=200":                   1,
		"hookguard.outcome=duplicate,hookguard.provider=stripe,hookguard.reason=,http.response.status_code=200":                  1,
		"hookguard.outcome=rejected,hookguard.provider=stripe,hookguard.reason=signature_mismatch,http.response.status_code=401": 1,
		"hookguard.outcome=rejected,hookguard.provider=stripe,hookguard.reason=stale,http.response.status_code=401":              1,
		"hookguard.outcome=rejected,hookguard.provider=,hookguard.reason=method_not_allowed,http.response.status_code=405":       1,
	})
	// Only the valid request and its copy verified, both with secret 1.
	wantSums(t, "hookguard.secret.matches", sums(t, m["hookguard.secret.matches"]), map[string]int64{
		"hookguard.provider=stripe,hookguard.secret.index=1": 2,
	})
	// One event went in and out.
	wantSums(t, "hookguard.queue.depth", sums(t, m["hookguard.queue.depth"]), map[string]int64{
		"hookguard.provider=stripe": 0,
	})
	ack := hists[float64](t, m["hookguard.ack.duration"])
	var acks uint64
	for k, p := range ack {
		acks += p.count
		if p.max <= 0 || p.max > 5 {
			t.Errorf("ack{%s} max = %v s; want a real, short latency", k, p.max)
		}
	}
	if acks != 5 || ack["hookguard.outcome=rejected,hookguard.provider=stripe"].count != 2 {
		t.Errorf("ack.duration = %v; want 5 requests, 2 of them rejected by stripe", ack)
	}
	dur := hists[float64](t, m["hookguard.handler.duration"])
	if len(dur) != 1 || dur["hookguard.provider=stripe,hookguard.result=success"].count != 1 {
		t.Errorf("handler.duration = %v; want one successful stripe attempt", dur)
	}
	att := hists[int64](t, m["hookguard.handler.attempts"])
	if p := att["hookguard.provider=stripe,hookguard.result=handled"]; len(att) != 1 || p.count != 1 || p.sum != 1 {
		t.Errorf("handler.attempts = %v; want one event handled at attempt 1", att)
	}
	// The clock does not move: the event's age is the 90 s since its
	// signed timestamp (Stripe signs whole seconds, so up to 1 s more),
	// less the attempt's own (tiny) duration.
	age := hists[float64](t, m["hookguard.event.age"])["hookguard.provider=stripe"]
	if age.count != 1 || age.sum < 89.9 || age.sum > 91 {
		t.Errorf("event.age = %+v; want one event about 90 s old", age)
	}
	// The delivery signed an hour before the clock was refused for its
	// timestamp: the skew histogram has it, an hour (Stripe signs whole
	// seconds, so up to 1 s more), and nothing else (the tampered one
	// failed its signature, not its timestamp).
	skew := hists[float64](t, m["hookguard.timestamp.skew"])
	if p := skew["hookguard.provider=stripe"]; len(skew) != 1 || p.count != 1 || p.sum < 3600 || p.sum > 3601 {
		t.Errorf("timestamp.skew = %+v; want one stripe delivery an hour old", skew)
	}
	if _, ok := m["hookguard.dead_letters"]; ok {
		t.Errorf("dead_letters recorded with no dead letter: %+v", m["hookguard.dead_letters"])
	}
}

func TestMetricsOfRetriesAndDeadLetters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		attempts int64
		reason   string
	}{
		{"exhausted", errors.New("downstream unavailable"), 3, "exhausted"},
		{"permanent", hookguard.Permanent(errors.New("unknown payload")), 1, "permanent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return tc.err }),
				hookguard.WithMaxAttempts(3), hookguard.WithBackoff(time.Millisecond, time.Millisecond))
			if w := f.post("evt_dead", f.now, false, nil); w.Code != http.StatusOK {
				t.Fatalf("valid = %d", w.Code)
			}
			waitFor(t, func() bool {
				_, ok := f.collect()["hookguard.dead_letters"]
				return ok
			})
			m := f.collect()
			wantSums(t, "hookguard.dead_letters", sums(t, m["hookguard.dead_letters"]), map[string]int64{
				"hookguard.provider=stripe,hookguard.reason=" + tc.reason: 1,
			})
			wantSums(t, "hookguard.queue.depth", sums(t, m["hookguard.queue.depth"]), map[string]int64{"hookguard.provider=stripe": 0})
			dur := hists[float64](t, m["hookguard.handler.duration"])
			if p := dur["hookguard.provider=stripe,hookguard.result=failure"]; len(dur) != 1 || int64(p.count) != tc.attempts {
				t.Errorf("handler.duration = %v; want %d failed attempts", dur, tc.attempts)
			}
			att := hists[int64](t, m["hookguard.handler.attempts"])
			if p := att["hookguard.provider=stripe,hookguard.result=dead_letter"]; len(att) != 1 || p.count != 1 || int64(p.sum) != tc.attempts {
				t.Errorf("handler.attempts = %v; want one dead letter after %d attempts", att, tc.attempts)
			}
			// The handler's error reached the attempt spans.
			var failed int64
			for _, s := range f.spans.Ended() {
				if s.Name() == "hookguard.handle" && s.Status().Description == "handler failed" && len(s.Events()) == 1 {
					failed++
				}
			}
			if failed != tc.attempts {
				t.Errorf("%d failed attempt spans with an error event; want %d", failed, tc.attempts)
			}
		})
	}
}

// The queue's depth counts events waiting and running.
func TestQueueDepth(t *testing.T) {
	release := make(chan struct{})
	f := newFixture(t, hookguard.HandlerFunc(func(ctx context.Context, _ hookguard.Event) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}), hookguard.WithWorkers(1))
	for i := range 3 {
		if w := f.post("evt_depth_"+strconv.Itoa(i), f.now, false, nil); w.Code != http.StatusOK {
			t.Fatalf("post %d = %d", i, w.Code)
		}
	}
	depth := func() int64 {
		return sums(t, f.collect()["hookguard.queue.depth"])["hookguard.provider=stripe"]
	}
	if d := depth(); d != 3 {
		t.Errorf("depth with 3 events held = %d; want 3", d)
	}
	close(release)
	waitFor(t, func() bool { return depth() == 0 })
}

// failingStore fails every call, as a Redis that is down would.
type failingStore struct{}

var errDown = errors.New("store down")

func (failingStore) Reserve(context.Context, string, string, time.Duration) (dedupe.Status, error) {
	return 0, errDown
}
func (failingStore) Commit(context.Context, string, string, time.Duration) error { return errDown }
func (failingStore) Release(context.Context, string, string) error               { return errDown }
func (failingStore) Forget(context.Context, string) error                        { return errDown }

func TestStoreFallbacks(t *testing.T) {
	f := newFixture(t, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }),
		hookguard.WithStore(failingStore{}))
	if w := f.post("evt_fb", f.now, false, nil); w.Code != http.StatusOK {
		t.Fatalf("valid with a failing store = %d; want 200 from the local fallback", w.Code)
	}
	got := sums(t, f.collect()["hookguard.store.fallbacks"])[""]
	if got < 1 {
		t.Errorf("store.fallbacks = %d; want at least 1", got)
	}
}

// Event IDs never become attributes: a thousand distinct events make one
// series.
func TestBoundedCardinality(t *testing.T) {
	f := newFixture(t, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }))
	const n = 200
	for i := range n {
		f.post("evt_card_"+strconv.Itoa(i), f.now, i%2 == 1, nil)
	}
	m := f.collect()
	for name, md := range m {
		var points int
		switch d := md.Data.(type) {
		case metricdata.Sum[int64]:
			points = len(d.DataPoints)
		case metricdata.Histogram[float64]:
			points = len(d.DataPoints)
		case metricdata.Histogram[int64]:
			points = len(d.DataPoints)
		}
		if points > 2 {
			t.Errorf("%s has %d series after %d distinct events; want at most 2", name, points, n)
		}
	}
	if got := sums(t, m["hookguard.requests"]); len(got) != 2 {
		t.Errorf("requests series = %v; want accepted and signature_mismatch", got)
	}
}

func TestSpans(t *testing.T) {
	handled := make(chan trace.SpanContext, 1)
	f := newFixture(t, hookguard.HandlerFunc(func(ctx context.Context, _ hookguard.Event) error {
		handled <- trace.SpanContextFromContext(ctx)
		return nil
	}))
	// A sender's own trace header is not trusted: it is replaced.
	planted := http.Header{otelhook.TraceHeader: {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	if w := f.post("evt_span", f.now, false, planted); w.Code != http.StatusOK {
		t.Fatalf("valid = %d", w.Code)
	}
	handlerSC := <-handled
	var recvSpan, handleSpan sdktrace.ReadOnlySpan
	waitFor(t, func() bool {
		for _, s := range f.spans.Ended() {
			switch s.Name() {
			case "hookguard.receive":
				recvSpan = s
			case "hookguard.handle":
				handleSpan = s
			}
		}
		return recvSpan != nil && handleSpan != nil
	})
	if recvSpan.SpanKind() != trace.SpanKindServer || handleSpan.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kinds = %v, %v; want server, consumer", recvSpan.SpanKind(), handleSpan.SpanKind())
	}
	got := map[attribute.Key]string{}
	for _, kv := range recvSpan.Attributes() {
		got[kv.Key] = kv.Value.String()
	}
	for k, v := range map[attribute.Key]string{
		otelhook.KeyProvider: "stripe", otelhook.KeyOutcome: "accepted", otelhook.KeyEventID: "evt_span",
		otelhook.KeyEventType: "invoice.paid", otelhook.KeySecretIndex: "1", otelhook.KeyStatusCode: "200",
	} {
		if got[k] != v {
			t.Errorf("receive span %s = %q; want %q", k, got[k], v)
		}
	}
	if !handleSpan.SpanContext().Equal(handlerSC) {
		t.Errorf("the handler's context does not carry the attempt span")
	}
	links := handleSpan.Links()
	if len(links) != 1 || links[0].SpanContext.TraceID() != recvSpan.SpanContext().TraceID() ||
		links[0].SpanContext.SpanID() != recvSpan.SpanContext().SpanID() {
		t.Fatalf("handle span links = %+v; want one link to the receive span %v", links, recvSpan.SpanContext())
	}
	if handleSpan.Parent().IsValid() {
		t.Errorf("handle span has parent %v; want a new root linked to the request", handleSpan.Parent())
	}
}

func TestSpanOfRejectedRequest(t *testing.T) {
	f := newFixture(t, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }))
	f.post("evt_bad", f.now, true, nil)
	ended := f.spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans; want the receive span only", len(ended))
	}
	got := map[attribute.Key]string{}
	for _, kv := range ended[0].Attributes() {
		got[kv.Key] = kv.Value.String()
	}
	if got[otelhook.KeyOutcome] != "rejected" || got[otelhook.KeyReason] != "signature_mismatch" || got[otelhook.KeyStatusCode] != "401" {
		t.Errorf("rejected receive span attributes = %v", got)
	}
	if _, ok := got[otelhook.KeySecretIndex]; ok {
		t.Errorf("a request that did not verify has a secret index: %v", got)
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{verify.Fail("stripe", verify.ErrSignatureMismatch, "no match"), "signature_mismatch"},
		{errors.Join(hookguard.ErrVerification, verify.Fail("slack", verify.ErrTimestampTooOld, "old")), "stale"},
		{verify.ErrTimestampTooNew, "timestamp_in_future"},
		{verify.ErrMissingSignature, "missing_signature"},
		{verify.ErrMalformedSignature, "malformed_signature"},
		{verify.ErrMissingTimestamp, "missing_timestamp"},
		{verify.ErrMalformedTimestamp, "malformed_timestamp"},
		{verify.ErrMissingHeader, "missing_header"},
		{verify.ErrEmptySecret, "misconfigured"},
		{hookguard.ErrVerification, "verification_failed"},
		{hookguard.ErrMethodNotAllowed, "method_not_allowed"},
		{hookguard.ErrBodyTooLarge, "body_too_large"},
		{hookguard.ErrBodyRead, "body_read"},
		{hookguard.ErrRateLimited, "rate_limited"},
		{hookguard.ErrDeliveryPending, "pending"},
		{hookguard.ErrStoreUnavailable, "store_unavailable"},
		{hookguard.ErrQueueFull, "queue_full"},
		{hookguard.ErrShuttingDown, "shutting_down"},
		{errors.New("kafka: broker unreachable"), "other"},
	} {
		if got := otelhook.Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q; want %q", tc.err, got, tc.want)
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Once an attribute combination was seen, recording it allocates nothing.
func TestRecordingAllocatesNothing(t *testing.T) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	rec, err := otelhook.New(otelhook.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	h := rec.Hooks()
	ctx := context.Background()
	a := hookguard.Answer{Provider: "stripe", Outcome: hookguard.OutcomeRejected, Status: 401,
		Err: verify.ErrSignatureMismatch, SecretIndex: -1, Latency: time.Millisecond}
	ok := hookguard.Answer{Provider: "stripe", Outcome: hookguard.OutcomeAccepted, Status: 200, SecretIndex: 1, Latency: time.Millisecond}
	e := hookguard.Event{Provider: "stripe", Timestamp: time.Now()}
	if n := testing.AllocsPerRun(100, func() {
		h.OnAnswered(ctx, a)
		h.OnAnswered(ctx, ok)
		h.OnEnqueued(e)
		h.OnHandled(e, 1, nil, time.Millisecond)
	}); n != 0 {
		t.Errorf("recording allocates %v times per request; want 0", n)
	}
}

// fullQueue refuses every event, as a full queue does.
type fullQueue struct{}

func (fullQueue) Enqueue(context.Context, hookguard.Event) error { return hookguard.ErrQueueFull }

// A 5xx answer marks the request's span as an error; a 4xx does not.
func TestSpanOfServerError(t *testing.T) {
	f := &fixture{t: t, reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder(), now: time.Now()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	rec, err := otelhook.New(otelhook.WithTracerProvider(tp), otelhook.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	f.rec = rec
	p, _ := providers.New("stripe", rotation)
	f.signer = p
	recv, err := hookguard.New(p, nil, hookguard.WithQueue(fullQueue{}), hookguard.WithHooks(rec.Hooks()))
	if err != nil {
		t.Fatal(err)
	}
	f.http = rec.Middleware(recv)
	if w := f.post("evt_full", f.now, false, nil); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", w.Code)
	}
	ended := f.spans.Ended()
	if len(ended) != 1 || ended[0].Status().Code != codes.Error {
		t.Fatalf("spans = %v; want one receive span with an error status", ended)
	}
	wantSums(t, "hookguard.requests", sums(t, f.collect()["hookguard.requests"]), map[string]int64{
		"hookguard.outcome=rejected,hookguard.provider=stripe,hookguard.reason=queue_full,http.response.status_code=503": 1,
	})
}
