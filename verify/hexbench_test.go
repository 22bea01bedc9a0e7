package verify_test

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/hookguard/hookguard/verify"
)

// BenchmarkHexDecode decodes SHA-1, SHA-256 and SHA-512 sized hex
// signatures with Hex.Decode beside encoding/hex (the baseline) in the same
// run.
func BenchmarkHexDecode(b *testing.B) {
	for _, n := range []int{20, 32, 64} {
		raw := make([]byte, n)
		rand.Read(raw)
		src := hex.EncodeToString(raw)
		srcBytes := []byte(src)
		var dst [verify.MaxSignatureSize]byte
		b.Run("verify/digits="+strconv.Itoa(2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := verify.Hex.Decode(dst[:], src); !ok {
					b.Fatal("decode failed")
				}
			}
		})
		b.Run("encoding-hex/digits="+strconv.Itoa(2*n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hex.Decode(dst[:], srcBytes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
