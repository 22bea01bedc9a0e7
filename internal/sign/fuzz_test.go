package sign

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSetField: whenever SetField succeeds, the result is JSON, the field
// holds the new value, and the bytes before and after the old value are
// untouched.
//
//	go test -run='^$' -fuzz='^FuzzSetField$' -fuzztime=10s ./internal/sign
func FuzzSetField(f *testing.F) {
	for _, s := range []string{
		`{"id":"evt_1","data":{"id":"pi_1"}}`,
		"{\n  \"id\" : \"evt_1\" ,\n  \"type\": \"x\"\n}",
		`{"event_id":"Ev1","event":{"event_id":"x"}}`,
		`{"id":"\u0065vt"}`, `{"id":1}`, `{"id":"a","id":"b"}`, `[]`, `{`, ``, `{"":""}`,
	} {
		f.Add([]byte(s), "id", "evt_new")
	}
	f.Add([]byte(`[{"eventId":1,"x":{}},{"eventId":2}]`), "eventId", "42")
	f.Add([]byte(`{"id": 820982911946154508}`), "id", "555")
	f.Fuzz(func(t *testing.T, body []byte, field, value string) {
		out, err := SetField(body, field, value)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("SetField(%q) = %q is not JSON", body, out)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			var a []map[string]json.RawMessage
			if err := json.Unmarshal(out, &a); err != nil || len(a) == 0 {
				t.Fatalf("result %q is neither an object nor an array of objects", out)
			}
			m = a[0]
		}
		var got string
		if string(m[field]) != value && (json.Unmarshal(m[field], &got) != nil || got != stringOf(value)) {
			t.Fatalf("field %q = %s; want %q", field, m[field], value)
		}
		// Only the value changed: a common prefix and suffix cover
		// everything else.
		p := commonPrefix(body, out)
		s := commonPrefix(reverse(body[p:]), reverse(out[p:]))
		enc, _ := json.Marshal(value)
		if len(out)-p-s > len(enc) {
			t.Fatalf("SetField changed more than the value: %q -> %q", body, out)
		}
	})
}

// stringOf is value as encoding/json round-trips it (invalid UTF-8
// becomes U+FFFD).
func stringOf(value string) string {
	enc, _ := json.Marshal(value)
	var s string
	_ = json.Unmarshal(enc, &s)
	return s
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func reverse(b []byte) []byte {
	r := bytes.Clone(b)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return r
}

// FuzzFlipByte: the result always differs from the input, keeps its
// length (except for the empty body), and differs in exactly one byte.
func FuzzFlipByte(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "", "{}", "\xff\xfe", "payload=%7B%7D"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out := FlipByte(body)
		if len(body) == 0 {
			if string(out) != " " {
				t.Fatalf("FlipByte(empty) = %q", out)
			}
			return
		}
		if len(out) != len(body) {
			t.Fatalf("length %d -> %d", len(body), len(out))
		}
		diff := 0
		for i := range body {
			if body[i] != out[i] {
				diff++
			}
		}
		if diff != 1 {
			t.Fatalf("FlipByte changed %d bytes", diff)
		}
	})
}
