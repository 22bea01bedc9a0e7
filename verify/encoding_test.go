package verify_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/verify"
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
		if got := tc.enc.String(); got != tc.want {
			t.Errorf("Encoding(%d).String() = %q, want %q", uint8(tc.enc), got, tc.want)
		}
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
			if ok != tc.wantOK {
				t.Fatalf("Decode(%q) ok = %v, want %v", tc.src, ok, tc.wantOK)
			}
			if !ok {
				if n != 0 {
					t.Errorf("Decode(%q) failed but returned n = %d", tc.src, n)
				}
				return
			}
			if !bytes.Equal(dst[:n], tc.want) {
				t.Errorf("Decode(%q) = %x, want %x", tc.src, dst[:n], tc.want)
			}
		})
	}
}

func TestEncodingDecodeShortDst(t *testing.T) {
	// dst smaller than the decoded size must be refused, not overrun.
	for _, enc := range []verify.Encoding{verify.Hex, verify.Base64} {
		src := string(enc.AppendEncode(nil, []byte("0123456789")))
		dst := make([]byte, 4)
		if n, ok := enc.Decode(dst, src); ok {
			t.Errorf("%v: Decode into 4 bytes of a 10-byte value = %d, true; want false", enc, n)
		}
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
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per run, want 0", allocs)
	}
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
			if got := string(tc.enc.AppendEncode([]byte(tc.dst), src)); got != tc.want {
				t.Errorf("AppendEncode = %q, want %q", got, tc.want)
			}
		})
	}
	if got := string(verify.Base64.AppendEncode(nil, []byte{0xfb, 0xff})); got != "+/8=" {
		t.Errorf("Base64 AppendEncode pads: got %q, want %q", got, "+/8=")
	}
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
			if !ok || !bytes.Equal(dst[:got], src) {
				t.Fatalf("%v round trip of %d bytes: Decode(%q) = %x, %v", enc, n, encoded, dst[:got], ok)
			}
		}
	}
}

func TestSignatures(t *testing.T) {
	var s verify.Signatures
	if s.Len() != 0 || s.Full() {
		t.Fatalf("zero Signatures: Len = %d, Full = %v; want 0, false", s.Len(), s.Full())
	}
	if s.Add(verify.Hex, "zz") {
		t.Error("Add of invalid hex reported true")
	}
	if s.AddRaw(nil) {
		t.Error("AddRaw(nil) reported true")
	}
	if s.AddRaw(make([]byte, verify.MaxSignatureSize+1)) {
		t.Error("AddRaw of an oversized signature reported true")
	}
	if s.Len() != 0 {
		t.Fatalf("failed adds changed Len to %d", s.Len())
	}

	raw := []byte{1, 2, 3}
	if !s.AddRaw(raw) {
		t.Fatal("AddRaw of 3 bytes reported false")
	}
	raw[0] = 9 // AddRaw must have copied
	if got := s.At(0); !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("At(0) = %x after mutating the caller's slice, want 010203", got)
	}
	if !s.Add(verify.Base64, "QUJD") {
		t.Fatal("Add of valid base64 reported false")
	}
	if got := string(s.At(1)); got != "ABC" {
		t.Errorf("At(1) = %q, want %q", got, "ABC")
	}
	if !s.AddRaw(make([]byte, verify.MaxSignatureSize)) {
		t.Fatal("AddRaw of MaxSignatureSize bytes reported false")
	}
	for s.Len() < verify.MaxSignatures {
		if s.Full() {
			t.Fatalf("Full at Len %d", s.Len())
		}
		if !s.Add(verify.Hex, "0102") {
			t.Fatalf("Add failed at Len %d", s.Len())
		}
	}
	if !s.Full() {
		t.Fatal("not Full at MaxSignatures")
	}
	if s.Add(verify.Hex, "0102") || s.AddRaw([]byte{1}) {
		t.Error("adding to a full set reported true")
	}
	if s.Len() != verify.MaxSignatures {
		t.Errorf("Len = %d after adding to a full set, want %d", s.Len(), verify.MaxSignatures)
	}
	s.Reset()
	if s.Len() != 0 || s.Full() {
		t.Errorf("after Reset: Len = %d, Full = %v", s.Len(), s.Full())
	}
	if !s.Add(verify.Hex, "ff") || !bytes.Equal(s.At(0), []byte{0xff}) {
		t.Errorf("Add after Reset: At(0) = %x, want ff", s.At(0))
	}
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
			if got := tc.m.Len(); got != len(tc.want) {
				t.Errorf("Len = %d, want %d", got, len(tc.want))
			}
			if got := string(tc.m.AppendTo([]byte("pre:"))); got != "pre:"+tc.want {
				t.Errorf("AppendTo = %q, want %q", got, "pre:"+tc.want)
			}
		})
	}
}
