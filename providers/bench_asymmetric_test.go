package providers

import (
	"testing"
)

// BenchmarkVerifyAsymmetric measures Verify of each asymmetric and
// handshake preset on its sample event, next to Stripe's HMAC as the
// baseline of the same run: report the ratios, not the times.
//
//	go test -run='^$' -bench=VerifyAsymmetric -benchmem -benchtime=200ms ./providers
func BenchmarkVerifyAsymmetric(b *testing.B) {
	cases := append([]asymPreset{{name: "stripe", body: `{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1","amount":100}}}`}}, asymPresets()...)
	for _, a := range cases {
		p, _ := asymNew(b, a.name)
		req := asymSigned(b, p, a.outgoing())
		if _, err := p.Verify(req, t0); err != nil {
			b.Fatalf("%s: %v", a.name, err)
		}
		b.Run(a.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(req.Body)))
			for b.Loop() {
				if _, err := p.Verify(req, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
