package otelhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/otelhook"
	"github.com/hookguard/hookguard/providers"
)

// A Slack url_verification is answered by the receiver itself: the
// Telemetry counts it, and marks its span, with the handshake outcome; a
// forged one is a rejected request, not a handshake.
func TestHandshakeOutcome(t *testing.T) {
	const challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
	body := []byte(`{"token":"x","challenge":"` + challenge + `","type":"url_verification"}`)
	for _, tc := range []struct {
		name    string
		forge   bool
		status  int
		outcome string
		reason  string
	}{
		{"genuine", false, http.StatusOK, hookguard.OutcomeHandshake, ""},
		{"forged", true, http.StatusUnauthorized, hookguard.OutcomeRejected, "signature_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			spans := tracetest.NewSpanRecorder()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			t.Cleanup(func() {
				_ = mp.Shutdown(context.Background())
				_ = tp.Shutdown(context.Background())
			})
			rec, err := otelhook.New(otelhook.WithMeterProvider(mp), otelhook.WithTracerProvider(tp))
			if err != nil {
				t.Fatal(err)
			}
			slack, err := providers.New("slack", "8f742231b10e8888abcd99yyyzzz85a5")
			if err != nil {
				t.Fatal(err)
			}
			handled := make(chan hookguard.Event, 1)
			recv, err := hookguard.New(slack, rec.Handler(hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				handled <- e
				return nil
			})), hookguard.WithHooks(rec.Hooks()))
			if err != nil {
				t.Fatal(err)
			}
			h, err := slack.Sign(providers.Outgoing{Body: body, Timestamp: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if tc.forge {
				h.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
			}
			req := httptest.NewRequest(http.MethodPost, "/webhooks/slack", bytes.NewReader(body))
			for k, vs := range h {
				req.Header[k] = vs
			}
			w := httptest.NewRecorder()
			rec.Middleware(recv).ServeHTTP(w, req)
			if err := recv.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || strings.Contains(w.Body.String(), challenge) != !tc.forge {
				t.Fatalf("answer = %d %q; want %d, echoing the challenge only when genuine", w.Code, w.Body, tc.status)
			}
			select {
			case e := <-handled:
				t.Errorf("the handshake reached the handler: %+v", e)
			default:
			}

			f := &fixture{t: t, reader: reader}
			wantSums(t, "hookguard.requests", sums(t, f.collect()["hookguard.requests"]), map[string]int64{
				"hookguard.outcome=" + tc.outcome + ",hookguard.provider=slack,hookguard.reason=" + tc.reason +
					",http.response.status_code=" + strconv.Itoa(tc.status): 1,
			})
			ended := spans.Ended()
			if len(ended) != 1 {
				t.Fatalf("%d spans; want the receive span only", len(ended))
			}
			got := map[attribute.Key]string{}
			for _, kv := range ended[0].Attributes() {
				got[kv.Key] = kv.Value.String()
			}
			if got[otelhook.KeyOutcome] != tc.outcome || got[otelhook.KeyProvider] != "slack" {
				t.Errorf("receive span attributes = %v; want outcome %q for slack", got, tc.outcome)
			}
		})
	}
}
