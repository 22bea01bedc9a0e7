package otelhook_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/otelhook"
	"github.com/hookguard/hookguard/providers"
)

// Wire a Telemetry in three places: its hooks record the metrics, its
// middleware makes a span per request and its handler wrapper a span per
// attempt, linked to the request's.
func Example() {
	// In production, use the application's meter provider (for example
	// one with the Prometheus exporter); here an in-memory reader.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tel, err := otelhook.New(otelhook.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}

	stripe, err := providers.NewStripe("whsec_example")
	if err != nil {
		log.Fatal(err)
	}
	handled := make(chan struct{})
	h := hookguard.HandlerFunc(func(ctx context.Context, e hookguard.Event) error {
		close(handled)
		return nil
	})
	recv, err := hookguard.New(stripe, tel.Handler(h), hookguard.WithHooks(tel.Hooks()))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/stripe", tel.Middleware(recv))

	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	header, _ := stripe.Sign(providers.Outgoing{Body: body})
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
	req.Header = header
	mux.ServeHTTP(httptest.NewRecorder(), req)
	<-handled
	if err := recv.Shutdown(context.Background()); err != nil { // the hooks have run
		log.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if s, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, dp := range s.DataPoints {
				outcome, _ := dp.Attributes.Value(otelhook.KeyOutcome)
				fmt.Println(m.Name, outcome.String(), dp.Value)
			}
		}
	}
	// Unordered output:
	// hookguard.requests accepted 1
	// hookguard.secret.matches  1
	// hookguard.queue.depth  0
}
