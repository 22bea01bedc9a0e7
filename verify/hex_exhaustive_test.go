package verify_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
)

// TestHexDecodeEveryByteEveryPosition puts each of the 256 byte values at
// each position of SHA-1, SHA-256 and SHA-512 sized hex strings (so in the
// eight-digit steps and in the tail) and checks Hex.Decode agrees with
// encoding/hex: every non-hex byte is rejected, both cases decode.
func TestHexDecodeEveryByteEveryPosition(t *testing.T) {
	for _, digits := range []int{2, 6, 8, 10, 16, 40, 64, 128} {
		base := []byte(strings.Repeat("0123456789abcdefABCDEF", 6)[:digits])
		for pos := range digits {
			for c := range 256 {
				src := bytes.Clone(base)
				src[pos] = byte(c)
				got, ok := guardedDecode(t, verify.Hex, string(src))
				want, err := hex.DecodeString(string(src))
				require.Equal(t, err == nil, ok, "Decode(%q) ok must match encoding/hex (err %v)", src, err)
				if ok {
					require.Equal(t, want, got, "Decode(%q)", src)
				}
			}
		}
	}
}

// FuzzDecodeHexNearValid starts from a valid hex encoding of raw (upper or
// lower case per digit, chosen by mask) and overwrites one byte with c, so
// the fuzzer explores long, almost valid signatures that random strings
// rarely reach; the result must match encoding/hex.
func FuzzDecodeHexNearValid(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xab}, 32), uint64(0), uint8(0), byte('a'))
	f.Add(bytes.Repeat([]byte{0xff}, 64), ^uint64(0), uint8(63), byte('g'))
	f.Add([]byte{0x01, 0x23, 0x45, 0x67, 0x89}, uint64(0x5555), uint8(3), byte('/'))
	f.Add(bytes.Repeat([]byte{0x9f}, 20), uint64(1<<39), uint8(39), byte(0x80))
	f.Fuzz(func(t *testing.T, raw []byte, mask uint64, pos uint8, c byte) {
		if len(raw) == 0 || len(raw) > verify.MaxSignatureSize {
			return
		}
		src := []byte(hex.EncodeToString(raw))
		for i := range src {
			if mask>>(i%64)&1 == 1 {
				src[i] = bytes.ToUpper(src[i : i+1])[0]
			}
		}
		if int(pos) < len(src) {
			src[pos] = c
		}
		got, ok := guardedDecode(t, verify.Hex, string(src))
		want, err := hex.DecodeString(string(src))
		require.Equal(t, err == nil, ok, "Decode(%q) ok must match encoding/hex (err %v)", src, err)
		if ok {
			require.Equal(t, want, got, "Decode(%q)", src)
		}
	})
}
