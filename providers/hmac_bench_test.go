package providers

import "testing"

// BenchmarkVerifyHMACPresets measures a warm Verify of every shared-secret
// preset on a 16 KiB event, next to the GitHub preset as the baseline of
// the same run: report each as a ratio to "baseline-github".
func BenchmarkVerifyHMACPresets(b *testing.B) {
	const n = 16 << 10
	body := eventJSON(n)
	run := func(name string, p Provider) {
		o := Outgoing{Body: body, ID: "d-1", Type: "t", Timestamp: t0}
		var req = request(nil, "")
		if bs, ok := p.(bodySigner); ok {
			bb, h, err := bs.SignBody(o)
			if err != nil {
				b.Fatal(err)
			}
			req.Header, req.Body = h, bb
		} else {
			h, err := p.Sign(o)
			if err != nil {
				b.Fatal(err)
			}
			req.Header, req.Body = h, body
		}
		b.Run(name, func(b *testing.B) {
			if _, err := p.Verify(req, t0); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Verify(req, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("baseline-github", mustNew(b, "github", "s3cret"))
	for _, ps := range hmacPresetTable() {
		run(ps.name, mustNew(b, ps.name, ps.secret))
	}
}
