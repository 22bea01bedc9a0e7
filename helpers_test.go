package hookguard_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/testkit"
	"github.com/hookguard/hookguard/providers"
	"github.com/stretchr/testify/require"
)

// Compile-time checks that the presets and stores plug in.
var (
	_ hookguard.Verifier     = (*providers.Preset)(nil)
	_ hookguard.URLReader    = (*providers.Preset)(nil)
	_ hookguard.MethodLister = (*providers.Preset)(nil)
	_ hookguard.Verifier     = providers.Provider(nil)
	_ dedupe.Store           = (*dedupe.Memory)(nil)
	_ hookguard.Queue        = (*hookguard.MemoryQueue)(nil)
)

// pipelinePresets are the presets the pipeline's end-to-end tests run
// with: one per way of carrying an event ID (body field, header, Slack's
// event_id), with and without a signed timestamp, hex and base64. The
// pipeline does not depend on the preset beyond Verify's result; every
// other preset is driven through a receiver, valid, duplicate, tampered and
// stale, by cmd/hookguard's demo test, and signed from its fixtures by
// webhooktest's tests.
var pipelinePresets = []string{"github", "shopify", "slack", "standardwebhooks", "stripe", "svix"}

// t0 is the fixed time every test signs at and the receivers' clock.
var t0 = time.Unix(1700000000, 0)

func clock() time.Time { return t0 }

// secretFor returns a secret the named preset accepts.
func secretFor(name string) string {
	switch name {
	case "standardwebhooks", "svix":
		return "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="
	}
	return "test-secret-" + name
}

func newProvider(t testing.TB, name string) providers.Provider {
	t.Helper()
	p, err := providers.New(name, secretFor(name))
	require.NoError(t, err, "providers.New(%q)", name)
	return p
}

// eventBody is a JSON body from which every preset reads id as the event
// ID (Stripe "id", Slack "event_id"; the others take o.ID from a header).
func eventBody(id string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"event_id":%q,"type":"event_callback","event":{"type":"message"},"data":{"n":1}}`, id, id)
}

// delivery is one signed request, re-sendable as many times as needed.
type delivery struct {
	id     string
	body   []byte
	header http.Header
}

func sign(t testing.TB, p providers.Provider, id string, body []byte) delivery {
	t.Helper()
	h, err := p.Sign(providers.Outgoing{Body: body, ID: id, Type: "push", Timestamp: t0})
	require.NoError(t, err, "%s.Sign", p.Name())
	return delivery{id: id, body: body, header: h}
}

func (d delivery) request() *http.Request {
	return testkit.NewPost("/webhooks/x", d.body, d.header)
}

// shutdown drains a receiver, failing the test if it cannot.
func shutdown(t testing.TB, r *hookguard.Receiver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, r.Shutdown(ctx), "Shutdown")
}

// gateQueue wraps a real MemoryQueue. While armed, Enqueue announces
// itself on entered and waits for an error (or nil) on result.
type gateQueue struct {
	inner   *hookguard.MemoryQueue
	armed   atomic.Bool
	entered chan string
	result  chan error
}

func (g *gateQueue) Enqueue(ctx context.Context, e hookguard.Event) error {
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- e.ID
		if err := <-g.result; err != nil {
			return err
		}
	}
	return g.inner.Enqueue(ctx, e)
}

// countingQueue counts successful enqueues into a real MemoryQueue.
type countingQueue struct {
	inner *hookguard.MemoryQueue
	n     atomic.Int64
}

func (q *countingQueue) Enqueue(ctx context.Context, e hookguard.Event) error {
	err := q.inner.Enqueue(ctx, e)
	if err == nil {
		q.n.Add(1)
	}
	return err
}
