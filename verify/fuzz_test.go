package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
)

// guardedDecode decodes src into the first MaxSignatureSize bytes of a larger
// buffer and fails the test if anything past them was written.
func guardedDecode(t *testing.T, enc verify.Encoding, src string) ([]byte, bool) {
	t.Helper()
	var buf [verify.MaxSignatureSize + 16]byte
	for i := range buf {
		buf[i] = 0xa5
	}
	n, ok := enc.Decode(buf[:verify.MaxSignatureSize], src)
	for i := verify.MaxSignatureSize; i < len(buf); i++ {
		if buf[i] != 0xa5 {
			t.Fatalf("Decode(%q) wrote past MaxSignatureSize at %d", src, i)
		}
	}
	if n < 0 || n > verify.MaxSignatureSize || (!ok && n != 0) {
		t.Fatalf("Decode(%q) = %d, %v", src, n, ok)
	}
	return buf[:n], ok
}

func FuzzDecodeHex(f *testing.F) {
	for _, s := range []string{"", "00", "abcdef", "ABCDEF", "aBc", "0g", strings.Repeat("ff", 64), strings.Repeat("ff", 65), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, ok := guardedDecode(t, verify.Hex, src)
		want, err := hex.DecodeString(src)
		stdOK := err == nil && len(want) > 0 && len(want) <= verify.MaxSignatureSize
		if ok != stdOK {
			t.Fatalf("Decode(%q) ok = %v, encoding/hex ok = %v (err %v)", src, ok, stdOK, err)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("Decode(%q) = %x, encoding/hex = %x", src, got, want)
		}
	})
}

func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "QQ==", "QQ", "QUJD", "+/8=", "-_8", "+_8", "Q", "====", "QQ==QQ==",
		base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 64)),
		base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 65)),
		"QU\nJD", "QUJD\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, ok := guardedDecode(t, verify.Base64, src)

		// Decode strips trailing padding and decodes the rest raw, in the
		// URL alphabet when it holds '-' or '_' and the standard one
		// otherwise.
		trimmed := strings.TrimRight(src, "=")
		// Decoding is strict: non-zero trailing bits are rejected, so a
		// MAC has exactly one accepted encoding.
		enc := base64.RawStdEncoding.Strict()
		if strings.ContainsAny(trimmed, "-_") {
			enc = base64.RawURLEncoding.Strict()
		}
		if ok {
			if strings.ContainsAny(src, "\r\n") {
				t.Fatalf("Decode(%q) accepted a line break", src)
			}
			if pads := len(src) - len(trimmed); pads > 0 && len(src)%4 != 0 {
				t.Fatalf("Decode(%q) accepted wrong padding", src)
			}
			want, err := enc.DecodeString(trimmed)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Decode(%q) = %x, encoding/base64 = %x, %v", src, got, want, err)
			}
			if len(got) == 0 {
				t.Fatalf("Decode(%q) succeeded with no bytes", src)
			}
		}
		// Everything the standard forms accept (without line breaks,
		// which encoding/base64 skips) must decode, identically.
		if strings.ContainsAny(src, "\r\n") {
			return
		}
		for _, std := range []*base64.Encoding{base64.StdEncoding.Strict(), base64.RawStdEncoding.Strict(), base64.URLEncoding.Strict(), base64.RawURLEncoding.Strict()} {
			want, err := std.DecodeString(src)
			if err != nil || len(want) == 0 || len(want) > verify.MaxSignatureSize {
				continue
			}
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("Decode(%q) = %x, %v; encoding/base64 = %x", src, got, ok, want)
			}
		}
	})
}
