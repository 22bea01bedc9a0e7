package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

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

func FuzzParseUnix(f *testing.F) {
	for _, s := range []string{"", "0", "1614265330", "001", "+1", "-1", " 1", "1 ", "999999999999999", "1000000000000000", "1e9", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := verify.ParseUnix(s)
		tsMs, errMs := verify.ParseUnixMilli(s)
		if (err == nil) != (errMs == nil) {
			t.Fatalf("ParseUnix and ParseUnixMilli disagree on %q: %v, %v", s, err, errMs)
		}
		n, stdErr := strconv.ParseUint(s, 10, 64)
		// strconv accepts underscores only with base 0, and a sign never
		// for ParseUint, so it matches the plain-digits rule exactly.
		wantOK := stdErr == nil && len(s) <= 15
		if (err == nil) != wantOK {
			t.Fatalf("ParseUnix(%q) err = %v, strconv ok = %v", s, err, wantOK)
		}
		if err != nil {
			return
		}
		if !ts.Equal(time.Unix(int64(n), 0)) || !tsMs.Equal(time.UnixMilli(int64(n))) {
			t.Fatalf("ParseUnix(%q) = %v, %v; want %d", s, ts, tsMs, n)
		}
	})
}

// topLevelCount returns how many members of the top-level object of a
// valid JSON body match key as encoding/json matches a name to a struct
// field (ignoring case), and the raw value of the first one named exactly
// key.
func topLevelCount(body []byte, key string) (int, json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return 0, nil, false
	}
	count := 0
	var first json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, nil, false
		}
		if strings.EqualFold(tok.(string), key) {
			if first == nil && tok.(string) == key {
				first = raw
			}
			count++
		}
	}
	if _, err := dec.Token(); err != nil {
		return 0, nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return 0, nil, false
	}
	return count, first, true
}

func FuzzJSONField(f *testing.F) {
	seeds := []struct{ body, key string }{
		{`{"id":"evt_1"}`, "id"},
		{`{"a":{"s":"}}}{{{","t":["]"]},"id":"after"}`, "id"},
		{`{"id":"a\"b\\c\u00e9\ud83d\ude00"}`, "id"},
		{`{"\u0069d":"k"}`, "id"},
		{"{\"id\":\"a\xffb\"}", "id"},
		{`{"id":"x","id":"y"}`, "id"},
		{`{"n":-1.5e3,"b":true,"z":null}`, "n"},
		{` { "id" : [ 1 , { "x" : "]" } ] , "k" : "v" } `, "k"},
		{`[{"id":"x"}]`, "id"},
		{`{"id":`, "id"},
		{`{"a":` + strings.Repeat("[", 200), "id"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.key)
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		got, ok := verify.JSONField(body, key)
		verify.JSONField(body, key, key) // must not panic either
		if !json.Valid(body) {
			return
		}
		count, raw, isObject := topLevelCount(body, key)
		if !isObject || count != 1 {
			return
		}
		if len(raw) == 0 { // the one member matches only ignoring case
			if ok {
				t.Fatalf("JSONField(%q, %q) = %q, true for a name in another case", body, key, got)
			}
			return
		}
		switch raw[0] {
		case '{', '[':
			if ok {
				t.Fatalf("JSONField(%q, %q) = %q, true for an object or array", body, key, got)
			}
			return
		case '"':
		default: // number, true, false, null: returned as written
			if !ok || got != string(raw) {
				t.Fatalf("JSONField(%q, %q) = %q, %v; want %s", body, key, got, ok, raw)
			}
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("encoding/json cannot decode its own raw value %s: %v", raw, err)
		}
		if !ok || got != want {
			t.Fatalf("JSONField(%q, %q) = %q, %v; encoding/json = %q", body, key, got, ok, want)
		}
	})
}
