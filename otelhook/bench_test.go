package otelhook_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/otelhook"
	"github.com/hookguard/hookguard/providers"
)

// dropQueue accepts every event and drops it, so the benchmark measures
// the request path alone.
type dropQueue struct{}

func (dropQueue) Enqueue(context.Context, hookguard.Event) error { return nil }

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkRequest compares a receiver's request path without hooks
// (baseline) and with the Telemetry's hooks recording into the SDK. Report
// the ratio of otelhook to baseline, measured in the same run. Every
// request after the first is a verified duplicate: signature check, dedupe
// lookup, answer.
func BenchmarkRequest(b *testing.B) {
	p, err := providers.New("stripe", primary)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":"evt_bench","object":"event","type":"invoice.paid"}`)
	h, err := p.Sign(providers.Outgoing{Body: body, Timestamp: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	rec, err := otelhook.New(otelhook.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []hookguard.Option
	}{
		{"baseline", nil},
		{"otelhook", []hookguard.Option{hookguard.WithHooks(rec.Hooks())}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := hookguard.New(p, nil, append([]hookguard.Option{hookguard.WithQueue(dropQueue{})}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			rd := bytes.NewReader(body)
			req, _ := http.NewRequest(http.MethodPost, "https://hooks.example.com/webhooks/stripe", rd)
			req.Header = h
			req.RequestURI = "/webhooks/stripe"
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				clear(w.h)
				r.ServeHTTP(w, req)
			}
		})
	}
}
