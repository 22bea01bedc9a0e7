package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/require"
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
	require.Equal(t, bytes.Repeat([]byte{0xa5}, 16), buf[verify.MaxSignatureSize:], "Decode(%q) wrote past MaxSignatureSize", src)
	require.GreaterOrEqual(t, n, 0, "Decode(%q) = %d, %v", src, n, ok)
	require.LessOrEqual(t, n, verify.MaxSignatureSize, "Decode(%q) = %d, %v", src, n, ok)
	if !ok {
		require.Zero(t, n, "Decode(%q) failed but returned n > 0", src)
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
		require.Equal(t, stdOK, ok, "Decode(%q) ok must match encoding/hex (err %v)", src, err)
		if ok {
			require.Equal(t, want, got, "Decode(%q) must match encoding/hex", src)
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
			require.False(t, strings.ContainsAny(src, "\r\n"), "Decode(%q) accepted a line break", src)
			pads := len(src) - len(trimmed)
			require.False(t, pads > 0 && len(src)%4 != 0, "Decode(%q) accepted wrong padding", src)
			want, err := enc.DecodeString(trimmed)
			require.NoError(t, err, "Decode(%q) accepted what encoding/base64 rejects", src)
			require.Equal(t, want, got, "Decode(%q) must match encoding/base64", src)
			require.NotEmpty(t, got, "Decode(%q) succeeded with no bytes", src)
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
			require.True(t, ok, "Decode(%q) rejected what encoding/base64 decodes to %x", src, want)
			require.Equal(t, want, got, "Decode(%q) must match encoding/base64", src)
		}
	})
}
