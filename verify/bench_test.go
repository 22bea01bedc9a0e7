package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
	"testing"

	"github.com/hookguard/hookguard/verify"
)

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}}

func benchBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// BenchmarkMatch measures a warm, successful Match of a Stripe-shaped
// message; compare with BenchmarkBaseline.
func BenchmarkMatch(b *testing.B) {
	s, _ := verify.NewSecret("whsec_benchmark")
	h, _ := verify.NewHMAC(verify.SHA256, s)
	for _, size := range benchSizes {
		b.Run("size="+size.name, func(b *testing.B) {
			m := verify.Message{Prefix: [4]string{"1700000000", "."}, Body: benchBody(size.n)}
			var sigs verify.Signatures
			sigs.AddRaw(h.AppendSum(nil, 0, &m))
			var digest [32]byte
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Match(&m, &sigs, &digest); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaseline is what a hand-written verifier costs: a pooled keyed
// HMAC, a fresh one per call, and a bare SHA-256 of the same bytes (the
// floor for any HMAC-SHA256).
func BenchmarkBaseline(b *testing.B) {
	key := []byte("whsec_benchmark")
	for _, size := range benchSizes {
		body := benchBody(size.n)
		prefix := []byte("1700000000.")
		mac := hmac.New(sha256.New, key)
		mac.Write(prefix)
		mac.Write(body)
		want := mac.Sum(nil)

		b.Run("hmac-pooled/size="+size.name, func(b *testing.B) {
			pool := sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
			sum := make([]byte, 0, sha256.Size)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				h := pool.Get().(hash.Hash)
				h.Reset()
				h.Write(prefix)
				h.Write(body)
				sum = h.Sum(sum[:0])
				ok := hmac.Equal(sum, want)
				pool.Put(h)
				if !ok {
					b.Fatal("mismatch")
				}
			}
		})
		b.Run("hmac-new/size="+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				h := hmac.New(sha256.New, key)
				h.Write(prefix)
				h.Write(body)
				if !hmac.Equal(h.Sum(nil), want) {
					b.Fatal("mismatch")
				}
			}
		})
		b.Run("sha256/size="+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				_ = sha256.Sum256(body)
			}
		})
	}
}
