package verify

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// skipValueRef is skipValue as it was before skipNested: one byte at a
// time at every depth, stringEnd for strings. skipValue must agree with
// it on every input, well formed or not.
func skipValueRef(s *jsonScanner) bool {
	b, i, start, depth := s.b, s.i, s.i, 0
	for i < len(b) {
		c := b[i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			q, ok := stringEnd(b, i+1)
			if !ok {
				return false
			}
			i = q + 1
			if depth == 0 {
				s.i = i
				return true
			}
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				s.i = i
				return i > start
			}
			depth--
			i++
			if depth == 0 {
				s.i = i
				return true
			}
		case ',':
			if depth == 0 {
				s.i = i
				return i > start
			}
			i++
		}
	}
	s.i = i
	return depth == 0
}

// checkSkipValue fails t unless skipValue and skipValueRef agree on b
// from every start (see checkSkipValueFrom).
func checkSkipValue(t *testing.T, b []byte) {
	t.Helper()
	for from := 0; from <= len(b); from++ {
		checkSkipValueFrom(t, b, from)
	}
}

// checkSkipValueFrom fails t unless skipValue and skipValueRef agree on b
// from the index from: whether the value is well formed and, if it is,
// where it ends.
func checkSkipValueFrom(t *testing.T, b []byte, from int) {
	t.Helper()
	got, want := jsonScanner{b: b, i: from}, jsonScanner{b: b, i: from}
	gotOK, wantOK := got.skipValue(), skipValueRef(&want)
	if gotOK != wantOK || (wantOK && got.i != want.i) {
		t.Fatalf("skipValue(%q from %d) = %v at %d; want %v at %d", b, from, gotOK, got.i, wantOK, want.i)
	}
}

func TestSkipValueMatchesByteScan(t *testing.T) {
	long := strings.Repeat(`{"a":[1,"x\"}]",{"b":null}],"c":"é{"},`, 9)
	tests := []string{
		`{}`, `[]`, `{"a":1}`, `[[[[[[[[[[]]]]]]]]]]`, `{"a":{"b":{"c":{}}}},"d":1}`,
		`{"k":"}]}]}]}]}]}]"}`, `["\\\\\\\\\\\\\\\\"]`, `["\\\\\\\\\\\\\\\""]`,
		`{"a":"\"}"}`, `{"a":"\\"}`, `{"ab":"c\\\"}"}`, `{"x":"\u007d"}`,
		`{"Y_y` + "\x7f" + `":1,Y_y` + "\x7f" + `}`, "{\xfb\xfd\xdb\xdd}", "[\"\xff\xfe\"]",
		"{\x7b\x7d}", `{"a":1]`, `[1}`, `{{{{{{{{}}}}}}}}`, `{"a":"b"`, `{"a":"b\`, `{"a":"b\"`,
		`12{"a":1}3`, `"str"`, `123,`, `true}`, `,`, `}`, ` `, `{`, `[`, `"`, `"\`, `{"`,
		"{\n  \"id\": \"evt_1\",\n  \"data\": {\n    \"object\": [1, 2, 3]\n  }\n}",
		`{"a":[` + long + `0]}`, `[` + long + `"`, `{"s":"` + strings.Repeat(`\\`, 40) + `"}`,
		`{"s":"` + strings.Repeat(`\"`, 40) + `"}`, `{"s":"` + strings.Repeat(`\\\"`, 20) + `"}`,
	}
	for _, tc := range tests {
		for pad := 0; pad < 9; pad++ {
			// Shift the input across word boundaries.
			checkSkipValue(t, []byte(strings.Repeat(" ", pad)+tc))
			checkSkipValue(t, []byte(`{"p":`+strings.Repeat("x", pad)+tc+`,"q":1}`))
		}
	}
}

// TestSkipValueRandom compares skipValue with the byte scan on random
// inputs over the bytes that matter to it, at every start and length.
func TestSkipValueRandom(t *testing.T) {
	alphabet := []byte("{}[]\"\\,:aY_y \x7f\xfb\xdd")
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		b := make([]byte, r.IntN(80))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		// Mostly opening brackets first, so that nested skips run long.
		if len(b) > 0 && r.IntN(2) == 0 {
			b[0] = "{["[r.IntN(2)]
		}
		checkSkipValue(t, b)
	}
}

// TestSkipValueRandomLong is TestSkipValueRandom on values long and deep
// enough to be read 64 bytes at a time, with strings, escapes and runs of
// backslashes crossing the blocks' and words' edges.
func TestSkipValueRandomLong(t *testing.T) {
	pieces := []string{`"`, `\\`, `\\\\`, `\\\\\\`, `\"`, `{`, `}`, `[`, `]`, `,`, `:`, `"ab"`, `"k":"v",`,
		`1234`, ` `, "Y_y\x7f", "\xfb\xdd", `"}]"`, `"a\\"`, `abcdefgh`, `{"id":"x","n":1}`}
	r := rand.New(rand.NewPCG(3, 4))
	n := 2000
	if testing.Short() {
		n = 200
	}
	for range n {
		var b []byte
		for range r.IntN(8) {
			b = append(b, "{["[r.IntN(2)])
		}
		for len(b) < 400 {
			p := pieces[r.IntN(len(pieces))]
			if (p == "}" || p == "]") && r.IntN(3) != 0 {
				continue
			}
			b = append(b, p...)
		}
		got, want := jsonScanner{b: b}, jsonScanner{b: b}
		gotOK, wantOK := got.skipValue(), skipValueRef(&want)
		if gotOK != wantOK || (wantOK && got.i != want.i) {
			t.Fatalf("skipValue(%q) = %v at %d; want %v at %d", b, gotOK, got.i, wantOK, want.i)
		}
		for _, from := range []int{1, 2, 3, 7, 8, 9, 63, 64, 65} {
			if from < len(b) && (b[from] == '{' || b[from] == '[') {
				got, want := jsonScanner{b: b, i: from}, jsonScanner{b: b, i: from}
				gotOK, wantOK := got.skipValue(), skipValueRef(&want)
				if gotOK != wantOK || (wantOK && got.i != want.i) {
					t.Fatalf("skipValue(%q from %d) = %v at %d; want %v at %d", b, from, gotOK, got.i, wantOK, want.i)
				}
			}
		}
	}
}

func FuzzSkipValue(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x\"}]",{"b":null}],"c":"é{"}`))
	f.Add([]byte(`["\\\\\\\\\\\\\\\\"],1`))
	f.Add([]byte("{\xfb\xfd\xdb\xdd\x7f_Yy}"))
	f.Add(bytes.Repeat([]byte(`{"k":"\\"`), 5))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Every start in short inputs; in long ones, the first bytes
		// and the first brackets, to keep each run linear.
		n := 0
		for from := 0; from <= len(b); from++ {
			if from < 16 || (n < 16 && (b[from] == '{' || b[from] == '[')) {
				checkSkipValueFrom(t, b, from)
				n++
			}
		}
	})
}
