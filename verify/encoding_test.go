package verify_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodingString(t *testing.T) {
	for _, tc := range []struct {
		enc  verify.Encoding
		want string
	}{
		{verify.Hex, "hex"},
		{verify.Base64, "base64"},
		{verify.Encoding(0), "unknown"},
		{verify.Encoding(99), "unknown"},
	} {
		assert.Equal(t, tc.want, tc.enc.String(), "Encoding(%d).String()", uint8(tc.enc))
	}
}

func TestEncodingDecode(t *testing.T) {
	full64 := bytes.Repeat([]byte{0xab}, verify.MaxSignatureSize)
	tests := []struct {
		name   string
		enc    verify.Encoding
		src    string
		want   []byte
		wantOK bool
	}{
		{"hex lower", verify.Hex, "00ff10ab", []byte{0x00, 0xff, 0x10, 0xab}, true},
		// One MAC must have one accepted encoding: "QR==" carries non-zero
		// trailing bits and would otherwise decode like "QQ==".
		{"base64 canonical trailing bits", verify.Base64, "QQ==", []byte{'A'}, true},
		{"base64 non-zero trailing bits", verify.Base64, "QR==", nil, false},
		{"base64 unpadded non-zero trailing bits", verify.Base64, "QR", nil, false},
		{"hex upper", verify.Hex, "00FF10AB", []byte{0x00, 0xff, 0x10, 0xab}, true},
		{"hex mixed case", verify.Hex, "aBcD", []byte{0xab, 0xcd}, true},
		{"hex max size", verify.Hex, strings.Repeat("ab", verify.MaxSignatureSize), full64, true},
		{"hex one byte too long", verify.Hex, strings.Repeat("ab", verify.MaxSignatureSize+1), nil, false},
		{"hex odd length", verify.Hex, "abc", nil, false},
		{"hex non-hex letter", verify.Hex, "zz", nil, false},
		{"hex non-hex in low nibble", verify.Hex, "0g", nil, false},
		{"hex prefix 0x", verify.Hex, "0x00", nil, false},
		{"hex space", verify.Hex, "ab cd", nil, false},
		{"hex empty", verify.Hex, "", nil, false},
		{"hex non-ascii", verify.Hex, "\xc3\xa9", nil, false},

		{"base64 std padded", verify.Base64, "+/8=", []byte{0xfb, 0xff}, true},
		{"base64 std unpadded", verify.Base64, "+/8", []byte{0xfb, 0xff}, true},
		{"base64 url padded", verify.Base64, "-_8=", []byte{0xfb, 0xff}, true},
		{"base64 url unpadded", verify.Base64, "-_8", []byte{0xfb, 0xff}, true},
		{"base64 two pad", verify.Base64, "QQ==", []byte("A"), true},
		{"base64 no pad needed", verify.Base64, "QUJD", []byte("ABC"), true},
		{"base64 max size", verify.Base64, base64.StdEncoding.EncodeToString(full64), full64, true},
		{"base64 max size unpadded", verify.Base64, base64.RawStdEncoding.EncodeToString(full64), full64, true},
		{"base64 one byte too long", verify.Base64, base64.StdEncoding.EncodeToString(append(full64, 1)), nil, false},
		{"base64 truncated to one char", verify.Base64, "Q", nil, false},
		{"base64 truncated quad", verify.Base64, "QUJDR", nil, false},
		{"base64 garbage", verify.Base64, "!!!!", nil, false},
		{"base64 inner padding", verify.Base64, "QQ==QQ==", nil, false},
		{"base64 mixed alphabets", verify.Base64, "+_8=", nil, false},
		{"base64 space", verify.Base64, "QU JD", nil, false},
		{"base64 empty", verify.Base64, "", nil, false},
		{"base64 only padding", verify.Base64, "====", nil, false},
		{"base64 stray padding", verify.Base64, "QUJD=", nil, false},
		{"base64 three pads", verify.Base64, "QQ===", nil, false},
		{"base64 short padding", verify.Base64, "QQ=", nil, false},
		{"base64 one pad", verify.Base64, "QUI=", []byte("AB"), true},
		{"base64 newline", verify.Base64, "QU\nJD", nil, false},
		{"base64 only newline", verify.Base64, "\n", nil, false},
		{"base64 trailing CRLF", verify.Base64, "QUJD\r\n", nil, false},

		{"unknown encoding", verify.Encoding(0), "00", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dst [verify.MaxSignatureSize]byte
			n, ok := tc.enc.Decode(dst[:], tc.src)
			require.Equal(t, tc.wantOK, ok, "Decode(%q) ok", tc.src)
			if !ok {
				assert.Zero(t, n, "Decode(%q) failed but returned n > 0", tc.src)
				return
			}
			assert.Equal(t, tc.want, dst[:n], "Decode(%q)", tc.src)
		})
	}
}

func TestEncodingDecodeShortDst(t *testing.T) {
	// dst smaller than the decoded size must be refused, not overrun.
	for _, enc := range []verify.Encoding{verify.Hex, verify.Base64} {
		src := string(enc.AppendEncode(nil, []byte("0123456789")))
		dst := make([]byte, 4)
		n, ok := enc.Decode(dst, src)
		assert.False(t, ok, "%v: Decode into 4 bytes of a 10-byte value = %d, true; want false", enc, n)
	}
}

func TestEncodingDecodeDoesNotAllocate(t *testing.T) {
	var dst [verify.MaxSignatureSize]byte
	hexSig := strings.Repeat("Ab", 32)
	b64Sig := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfe}, 32))
	allocs := testing.AllocsPerRun(100, func() {
		verify.Hex.Decode(dst[:], hexSig)
		verify.Base64.Decode(dst[:], b64Sig)
	})
	assert.Zero(t, allocs, "Decode allocations per run")
}

func TestEncodingAppendEncode(t *testing.T) {
	src := []byte{0xfb, 0xff, 0x00}
	tests := []struct {
		name string
		enc  verify.Encoding
		dst  string
		want string
	}{
		{"hex lowercase", verify.Hex, "", "fbff00"},
		{"hex appends", verify.Hex, "sha256=", "sha256=fbff00"},
		{"base64 standard padded", verify.Base64, "", "+/8A"},
		{"unknown leaves dst", verify.Encoding(7), "keep", "keep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(tc.enc.AppendEncode([]byte(tc.dst), src)), "AppendEncode")
		})
	}
	assert.Equal(t, "+/8=", string(verify.Base64.AppendEncode(nil, []byte{0xfb, 0xff})), "Base64 AppendEncode pads")
}

func TestEncodingRoundTrip(t *testing.T) {
	for _, enc := range []verify.Encoding{verify.Hex, verify.Base64} {
		for n := 1; n <= verify.MaxSignatureSize; n++ {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i*37 + n)
			}
			encoded := string(enc.AppendEncode(nil, src))
			var dst [verify.MaxSignatureSize]byte
			got, ok := enc.Decode(dst[:], encoded)
			require.True(t, ok, "%v round trip of %d bytes: Decode(%q) failed", enc, n, encoded)
			require.Equal(t, src, dst[:got], "%v round trip of %d bytes: Decode(%q)", enc, n, encoded)
		}
	}
}

func TestSignatures(t *testing.T) {
	var s verify.Signatures
	require.Zero(t, s.Len(), "zero Signatures: Len")
	require.False(t, s.Full(), "zero Signatures: Full")
	assert.False(t, s.Add(verify.Hex, "zz"), "Add of invalid hex reported true")
	assert.False(t, s.AddRaw(nil), "AddRaw(nil) reported true")
	assert.False(t, s.AddRaw(make([]byte, verify.MaxSignatureSize+1)), "AddRaw of an oversized signature reported true")
	require.Zero(t, s.Len(), "failed adds changed Len")

	raw := []byte{1, 2, 3}
	require.True(t, s.AddRaw(raw), "AddRaw of 3 bytes reported false")
	raw[0] = 9 // AddRaw must have copied
	assert.Equal(t, []byte{1, 2, 3}, s.At(0), "At(0) after mutating the caller's slice")
	require.True(t, s.Add(verify.Base64, "QUJD"), "Add of valid base64 reported false")
	assert.Equal(t, "ABC", string(s.At(1)), "At(1)")
	require.True(t, s.AddRaw(make([]byte, verify.MaxSignatureSize)), "AddRaw of MaxSignatureSize bytes reported false")
	for s.Len() < verify.MaxSignatures {
		require.False(t, s.Full(), "Full at Len %d", s.Len())
		require.True(t, s.Add(verify.Hex, "0102"), "Add failed at Len %d", s.Len())
	}
	require.True(t, s.Full(), "not Full at MaxSignatures")
	assert.False(t, s.Add(verify.Hex, "0102"), "Add to a full set reported true")
	assert.False(t, s.AddRaw([]byte{1}), "AddRaw to a full set reported true")
	assert.Equal(t, verify.MaxSignatures, s.Len(), "Len after adding to a full set")
	s.Reset()
	assert.Zero(t, s.Len(), "Len after Reset")
	assert.False(t, s.Full(), "Full after Reset")
	assert.True(t, s.Add(verify.Hex, "ff"), "Add after Reset")
	assert.Equal(t, []byte{0xff}, s.At(0), "At(0) after Reset and Add")
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name string
		m    verify.Message
		want string
	}{
		{"empty", verify.Message{}, ""},
		{"body only", verify.Message{Body: []byte("{}")}, "{}"},
		{"stripe layout", verify.Message{Prefix: [4]string{"1614265330", "."}, Body: []byte(`{"a":1}`)}, `1614265330.{"a":1}`},
		{"slack layout", verify.Message{Prefix: [4]string{"v0:", "123", ":"}, Body: []byte("x=1")}, "v0:123:x=1"},
		{"gaps in prefix", verify.Message{Prefix: [4]string{"a", "", "c", ""}, Body: []byte("B"), Suffix: "z"}, "acBz"},
		{"all parts", verify.Message{Prefix: [4]string{"1", "2", "3", "4"}, Body: []byte("5"), Suffix: "6"}, "123456"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, len(tc.want), tc.m.Len(), "Len")
			assert.Equal(t, "pre:"+tc.want, string(tc.m.AppendTo([]byte("pre:"))), "AppendTo")
		})
	}
}
