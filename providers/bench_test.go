package providers

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var benchSizes = []int{1 << 10, 16 << 10, 256 << 10}

func sizeName(n int) string { return "size=" + strconv.Itoa(n>>10) + "KiB" }

// eventJSON returns a Stripe-like event of about n bytes: "id" first,
// "type" last, a data object of line items in between, so that extracting
// the type scans the whole body as it would in production.
func eventJSON(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2023-10-16","created":1686089970,"event_id":"Ev0PV52K21","data":{"object":{"id":"in_1NG8Dt2eZvKYlo2C","object":"invoice","lines":[`)
	for i := 0; b.Len() < n-120; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"il_%08d","amount":%d,"currency":"usd","description":"1 x Widget (at $%d.00 / month)","quantity":1}`, i, 1000+i, 10+i%90)
	}
	b.WriteString(`]}},"livemode":false,"pending_webhooks":1,"type":"invoice.paid"}`)
	return []byte(b.String())
}

// BenchmarkVerify measures a warm Verify per preset and body size. Compare
// with BenchmarkBaseline: the pooled HMAC is the floor for the signature
// path, one SHA-256 pass the floor for large bodies.
func BenchmarkVerify(b *testing.B) {
	for _, ps := range presets() {
		p := mustNew(b, ps.name, ps.secret)
		for _, n := range benchSizes {
			body := eventJSON(n)
			o := outgoing()
			o.Body = body
			h, err := p.Sign(o)
			if err != nil {
				b.Fatal(err)
			}
			req := request(h, "")
			req.Body = body
			b.Run(ps.name+"/"+sizeName(n), func(b *testing.B) {
				if _, err := p.Verify(req, t0); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.Verify(req, t0); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSignaturePath is BenchmarkVerify with an opaque body (a JSON
// array, in which no ID or type is looked for past the first byte): it
// measures only the signature path, which must not allocate.
func BenchmarkSignaturePath(b *testing.B) {
	for _, ps := range presets() {
		p := mustNew(b, ps.name, ps.secret)
		for _, n := range benchSizes {
			body := eventJSON(n)
			body[0], body[len(body)-1] = '[', ']'
			o := outgoing()
			o.Body = body
			h, err := p.Sign(o)
			if err != nil {
				b.Fatal(err)
			}
			req := request(h, "")
			req.Body = body
			b.Run(ps.name+"/"+sizeName(n), func(b *testing.B) {
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.Verify(req, t0); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkBaseline gives the floors BenchmarkVerify is compared with.
func BenchmarkBaseline(b *testing.B) {
	key := []byte("whsec_test_secret")
	for _, n := range benchSizes {
		body := eventJSON(n)
		want := hmacSum(key, body)
		b.Run("hmac-pooled/"+sizeName(n), func(b *testing.B) {
			pool := sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
			buf := make([]byte, 0, sha256.Size)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				m := pool.Get().(hash.Hash)
				m.Reset()
				m.Write(body)
				buf = m.Sum(buf[:0])
				pool.Put(m)
				if !hmac.Equal(buf, want) {
					b.Fatal("mismatch")
				}
			}
		})
		b.Run("hmac-new/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if !hmac.Equal(hmacSum(key, body), want) {
					b.Fatal("mismatch")
				}
			}
		})
		b.Run("sha256/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				_ = sha256.Sum256(body)
			}
		})
	}
}

func hmacSum(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}
