package webhooktest_test

import (
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// BenchmarkFixtureRequest measures building a signed request from a
// fixture; compare with Baseline, the preset's bare Sign of the same body:
// the difference is the fixture lookup, the header copy and the request.
func BenchmarkFixtureRequest(b *testing.B) {
	p, err := providers.NewStripe("whsec_bench")
	if err != nil {
		b.Fatal(err)
	}
	f := webhooktest.MustFixture(b, "stripe/customer.subscription.updated")
	at := time.Unix(1716480205, 0)
	b.Run("Baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Sign(providers.Outgoing{Body: f.Body, Timestamp: at}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FixtureRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = webhooktest.FixtureRequest(b, p, f.Name, webhooktest.WithTime(at))
		}
	})
	b.Run("FlippedSignature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = webhooktest.FixtureRequest(b, p, f.Name, webhooktest.WithTime(at), webhooktest.WithFlippedSignature())
		}
	})
}
