package jsonscan_test

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
)

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}}

// stripeEvent returns a Stripe-like event of about n bytes: id first, then
// type, data.object with metadata padding.
func stripeEvent(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2023-10-16","created":1686089970,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_3NG8Du2eZvKYlo2C0Zxv5Ymp","object":"payment_intent","amount":2000,"currency":"usd","status":"succeeded","metadata":{`)
	for i := 0; sb.Len() < n-80; i++ {
		fmt.Fprintf(&sb, `"k%d":"value with \"escapes\" and {braces} [%d]",`, i, i)
	}
	sb.WriteString(`"end":"1"}}},"livemode":false,"pending_webhooks":1}`)
	return []byte(sb.String())
}

// stripeEventKeyLast is stripeEvent with the looked-up key moved to the end.
func stripeEventKeyLast(n int) []byte {
	body := stripeEvent(n)
	s := strings.Replace(string(body), `"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy",`, "", 1)
	s = strings.TrimSuffix(s, "}") + `,"request_id":"req_last"}`
	return []byte(s)
}

func BenchmarkField(b *testing.B) {
	cases := []struct {
		name string
		body []byte
		key  string
		want string
	}{
		{"size=1KiB/key=first", stripeEvent(1 << 10), "id", "evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{"size=16KiB/key=last", stripeEventKeyLast(16 << 10), "request_id", "req_last"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			if got, ok := jsonscan.Field(tc.body, tc.key); !ok || got != tc.want {
				b.Fatalf("Field = %q, %v; want %q", got, ok, tc.want)
			}
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				jsonscan.Field(tc.body, tc.key)
			}
		})
	}
}

// invoiceEvent returns a Stripe-like invoice event of about n bytes: "id"
// first, "type" last, line items in between, the shape the providers'
// benchmarks verify.
func invoiceEvent(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2023-10-16","created":1686089970,"data":{"object":{"id":"in_1NG8Dt2eZvKYlo2C","object":"invoice","lines":[`)
	for i := 0; b.Len() < n-120; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"il_%08d","amount":%d,"currency":"usd","description":"1 x Widget (at $%d.00 / month)","quantity":1}`, i, 1000+i, 10+i%90)
	}
	b.WriteString(`]}},"livemode":false,"pending_webhooks":1,"type":"invoice.paid"}`)
	return []byte(b.String())
}

// BenchmarkFieldFullScan measures reading the "id" of an event, which
// scans the whole top-level object for a second "id": compare its MB/s with
// BenchmarkSHA256's, the floor of verifying the body's signature.
func BenchmarkFieldFullScan(b *testing.B) {
	for _, n := range []int{1 << 10, 16 << 10, 256 << 10} {
		body := invoiceEvent(n)
		b.Run("size="+strconv.Itoa(n>>10)+"KiB", func(b *testing.B) {
			if got, ok := jsonscan.Field(body, "id"); !ok || got != "evt_1NG8Du2eZvKYlo2CUI79vXWy" {
				b.Fatalf("Field = %q, %v", got, ok)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				jsonscan.Field(body, "id")
			}
		})
		b.Run("sha256/size="+strconv.Itoa(n>>10)+"KiB", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_ = sha256.Sum256(body)
			}
		})
	}
}

// stripeObjectEvent returns a Stripe-shaped event of about n bytes, as
// Stripe sends it (compact here): "id" first, a large nested data.object
// of many short string, number, boolean and null members (charges with
// their billing details and metadata), "type" last.
func stripeObjectEvent(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"id":"evt_3NG8Du2eZvKYlo2C1B2cDc4e","object":"event","api_version":"2023-10-16","created":1686089970,"data":{"object":{"id":"pi_3NG8Du2eZvKYlo2C0Zxv5Ymp","object":"payment_intent","amount":2000,"amount_received":2000,"capture_method":"automatic","currency":"usd","customer":null,"livemode":false,"metadata":{"order_id":"6735"},"charges":{"object":"list","data":[`)
	for i := 0; b.Len() < n-160; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"ch_3NG8Du2eZvKY%06d","object":"charge","amount":%d,"captured":true,"billing_details":{"address":{"city":null,"country":"US","line1":null,"postal_code":"9%04d"},"email":"jenny.rosen@example.com","name":null},"paid":true,"status":"succeeded"}`, i, 1000+i, i%10000)
	}
	b.WriteString(`],"has_more":false},"status":"succeeded"}},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"payment_intent.succeeded"}`)
	return []byte(b.String())
}

// BenchmarkScanObject isolates the whole-object scan of a body-ID preset:
// one pass over a Stripe-shaped event for its "id" and "type", reading
// the top-level object to its end (skipping data.object) to refuse a
// repeated name. Compare each size with BenchmarkSHA256 of the same size
// in the same run: the scan should cost a fraction of one SHA-256 pass.
func BenchmarkScanObject(b *testing.B) {
	for _, size := range benchSizes {
		body := stripeObjectEvent(size.n)
		b.Run(size.name, func(b *testing.B) {
			var arr [128]byte
			ms := [2]jsonscan.Member{{Key: "id"}, {Key: "type"}}
			buf, err := jsonscan.AppendMembers(arr[:0], body, ms[:])
			if err != nil || !ms[0].Found || !ms[1].Found || string(buf[ms[1].Start:ms[1].End]) != "payment_intent.succeeded" {
				b.Fatalf("AppendMembers = %q, %+v, %v", buf, ms, err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				ms = [2]jsonscan.Member{{Key: "id"}, {Key: "type"}}
				_, _ = jsonscan.AppendMembers(arr[:0], body, ms[:])
			}
		})
	}
}

// BenchmarkSHA256 is one SHA-256 pass over the bodies of
// BenchmarkScanObject, the floor of verifying their signature.
func BenchmarkSHA256(b *testing.B) {
	for _, size := range benchSizes {
		body := stripeObjectEvent(size.n)
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_ = sha256.Sum256(body)
			}
		})
	}
}

// BenchmarkScanObjectFlat is BenchmarkScanObject on the top-level members
// of its event alone, with an empty data object: the per-member and fixed
// cost of the pass, which dominates at 1 KiB. Compare it with
// BenchmarkScanObject/1KiB of the same run.
func BenchmarkScanObjectFlat(b *testing.B) {
	body := []byte(`{"id":"evt_3NG8Du2eZvKYlo2C1B2cDc4e","object":"event","api_version":"2023-10-16","created":1686089970,"data":{},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"payment_intent.succeeded"}`)
	var arr [128]byte
	ms := [2]jsonscan.Member{{Key: "id"}, {Key: "type"}}
	buf, err := jsonscan.AppendMembers(arr[:0], body, ms[:])
	if err != nil || string(buf[ms[0].Start:ms[0].End]) != "evt_3NG8Du2eZvKYlo2C1B2cDc4e" || string(buf[ms[1].Start:ms[1].End]) != "payment_intent.succeeded" {
		b.Fatalf("AppendMembers = %q, %+v, %v", buf, ms, err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ms = [2]jsonscan.Member{{Key: "id"}, {Key: "type"}}
		_, _ = jsonscan.AppendMembers(arr[:0], body, ms[:])
	}
}
