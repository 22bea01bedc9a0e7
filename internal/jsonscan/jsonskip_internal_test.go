package jsonscan

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
	pieces := []string{`"`, `\\`, `\\\\`, `\\\\\\`, `\"`, `{`, `}`, `[`, `]`, `,`, `:`, `"ab"`, `"k":"v",`, "\xa2\xdc\xdb\xdd\xfb\xfd\xff", "é{",
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

// TestTranspose8 checks that transpose8 moves bit 8*j+k to bit 8*k+j,
// which skipBlock relies on to walk brackets in the order of the bytes.
func TestTranspose8(t *testing.T) {
	for j := range 8 {
		for k := range 8 {
			if got, want := transpose8(1<<(8*j+k)), uint64(1)<<(8*k+j); got != want {
				t.Errorf("transpose8(bit %d) = %#x, want bit %d", 8*j+k, got, 8*k+j)
			}
		}
	}
}

func FuzzSkipValue(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x\"}]",{"b":null}],"c":"é{"}`))
	f.Add([]byte(`["\\\\\\\\\\\\\\\\"],1`))
	f.Add([]byte("{\xfb\xfd\xdb\xdd\x7f_Yy}"))
	f.Add(bytes.Repeat([]byte(`{"k":"\\"`), 5))
	// Longer than a block of skipBlock, and deep.
	f.Add([]byte(`[[{"a":"\\\"}","b":[1,2,{"c":"é]"}]},` + strings.Repeat(`{"d":null,"e":"x\"y"},`, 8) + `0]],1`))
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

// strEndRef is strEnd as it was before it read eight bytes at a time.
func strEndRef(b []byte, from int) (end int, cls uint8, ok bool) {
	for i := from; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			return i, cls, true
		}
		cls |= strClass[c]
		if c == '\\' && i+1 < len(b) {
			i++
			cls |= strClass[b[i]]
		}
	}
	return 0, 0, false
}

// checkStrEnd fails t unless strEnd and strEndRef agree on b from every
// start.
func checkStrEnd(t *testing.T, b []byte) {
	t.Helper()
	for from := 0; from <= len(b); from++ {
		end, cls, ok := strEnd(b, from)
		wantEnd, wantCls, wantOK := strEndRef(b, from)
		if end != wantEnd || cls != wantCls || ok != wantOK {
			t.Fatalf("strEnd(%q, %d) = %d, %#x, %v; want %d, %#x, %v", b, from, end, cls, ok, wantEnd, wantCls, wantOK)
		}
	}
}

func TestStrEndMatchesByteScan(t *testing.T) {
	alphabet := []byte("\"\\a~ \x00\x1f\x7f\x80\xa2\xdc\xff")
	r := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = 'a' + byte(r.IntN(26))
			}
		}
		checkStrEnd(t, b)
	}
}

func FuzzStrEnd(f *testing.F) {
	f.Add([]byte(`pending_webhooks":1`))
	f.Add([]byte("caf\xc3\xa9\\\"\\\\\x01\"x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 512 {
			b = b[:512] // every start: keep each run short
		}
		checkStrEnd(t, b)
	})
}
