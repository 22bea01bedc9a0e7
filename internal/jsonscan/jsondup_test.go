package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// TestFindJSONField checks the value FindJSONField returns against what
// encoding/json decodes into a struct field tagged with the name (the last
// member whose name matches ignoring case) and into a map (the last one
// named exactly), and that it refuses a body on which those disagree, or
// on which other decoders (first occurrence wins) would.
func TestFindJSONField(t *testing.T) {
	tests := []struct {
		name string
		body string
		path []string
		want string
		ok   bool
		err  error
	}{
		{"plain", `{"id":"evt_1","type":"t"}`, []string{"id"}, "evt_1", true, nil},
		{"absent", `{"type":"t"}`, []string{"id"}, "", false, nil},
		{"not an object", `["id"]`, []string{"id"}, "", false, nil},
		{"object value", `{"id":{"x":1}}`, []string{"id"}, "", false, nil},
		{"nested", `{"data":{"object":{"id":"pi_1"}},"id":"evt_1"}`, []string{"data", "object", "id"}, "pi_1", true, nil},
		{"repeated in a skipped object", `{"x":{"id":1,"id":2,"ID":3},"id":"evt_1"}`, []string{"id"}, "evt_1", true, nil},
		{"repeated in a sibling of the path", `{"data":{"object":{"id":"pi_1"},"x":{"id":1,"id":2}}}`, []string{"data", "object", "id"}, "pi_1", true, nil},
		{"escaped value", `{"id":"a\"b\u00e9\ud83d\ude00"}`, []string{"id"}, "a\"bé😀", true, nil},
		{"escaped U+FFFD is not a replacement", `{"id":"a\ufffd"}`, []string{"id"}, "a\ufffd", true, nil},
		{"raw U+FFFD is not a replacement", "{\"id\":\"a\xef\xbf\xbd\"}", []string{"id"}, "a\ufffd", true, nil},
		{"escaped key", `{"\u0069d":"k"}`, []string{"id"}, "k", true, nil},

		// Stripe: "id" twice, first evt_first then evt_last (issue 15, item 5).
		{"repeated", `{"id":"evt_first","object":"event","id":"evt_last"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated with the same value", `{"id":"evt_1","id":"evt_1"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated, escaped", `{"id":"evt_first","\u0069\u0064":"evt_last"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated, other case", `{"id":"evt_first","ID":"evt_last"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"other case before", `{"Id":"evt_first","id":"evt_last"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"only in other case", `{"ID":"evt_1"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"long s folds with s", `{"ſtatus":"x"}`, []string{"status"}, "", false, verify.ErrAmbiguousJSON},
		{"kelvin sign folds with k", `{"\u212a":"x","k":"y"}`, []string{"k"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated, object values", `{"id":{},"id":"evt_1"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated after the value was found", `{"id":"evt_1","data":{"a":[1,"}"]},"id":"evt_2"}`, []string{"id"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated parent", `{"data":{"id":"a"},"data":{"id":"b"}}`, []string{"data", "id"}, "", false, verify.ErrAmbiguousJSON},
		{"repeated in the nested object", `{"data":{"id":"a","id":"b"}}`, []string{"data", "id"}, "", false, verify.ErrAmbiguousJSON},
		{"parent repeated as a scalar", `{"data":{"id":"a"},"DATA":1}`, []string{"data", "id"}, "", false, verify.ErrAmbiguousJSON},

		// evt_\xff and evt_\xfe both decode to evt_\uFFFD (item 5).
		{"invalid UTF-8", "{\"id\":\"evt_\xff\"}", []string{"id"}, "", false, verify.ErrInvalidJSONString},
		{"other invalid UTF-8", "{\"id\":\"evt_\xfe\"}", []string{"id"}, "", false, verify.ErrInvalidJSONString},
		{"invalid UTF-8 with escapes", "{\"id\":\"\\n\xff\"}", []string{"id"}, "", false, verify.ErrInvalidJSONString},
		{"lone high surrogate", `{"id":"evt_\ud800"}`, []string{"id"}, "", false, verify.ErrInvalidJSONString},
		{"lone low surrogate", `{"id":"evt_\udc00"}`, []string{"id"}, "", false, verify.ErrInvalidJSONString},
		{"high surrogate then an escape", `{"id":"\ud800\u0041"}`, []string{"id"}, "", false, verify.ErrInvalidJSONString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := jsonscan.Find([]byte(tt.body), tt.path...)
			if got != tt.want || ok != tt.ok || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("FindJSONField(%q, %q) = %q, %v, %v; want %q, %v, %v", tt.body, tt.path, got, ok, err, tt.want, tt.ok, tt.err)
			}
			var je *jsonscan.Error
			if err != nil && (!errors.As(err, &je) || je.Path != strings.Join(tt.path[:strings.Count(je.Path, ".")+1], ".")) {
				t.Fatalf("error %v is not a *JSONError naming a prefix of %q", err, tt.path)
			}
			// JSONField agrees, except that it decodes a lossy string
			// as encoding/json does.
			jf, jok := jsonscan.Field([]byte(tt.body), tt.path...)
			if errors.Is(err, verify.ErrInvalidJSONString) {
				if !jok || !strings.ContainsRune(jf, unicode.ReplacementChar) {
					t.Fatalf("JSONField(%q) = %q, %v; want the value with U+FFFD", tt.body, jf, jok)
				}
			} else if jf != got || jok != ok {
				t.Fatalf("JSONField(%q) = %q, %v; FindJSONField = %q, %v", tt.body, jf, jok, got, ok)
			}
			if tt.ok {
				checkDecoders(t, []byte(tt.body), tt.path, got)
			}
		})
	}
}

// TestJSONKeysDistinct checks that two IDs that differ only in invalid
// bytes are not read as one: they are refused, where both used to read as
// "evt_\uFFFD" and the second was dropped as a duplicate.
func TestJSONKeysDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, id := range []string{"evt_\xff", "evt_\xfe", "evt_\xc3", `evt_\ud800`, `evt_\udfff`, "evt_\ufffd", `evt_\ufffd`} {
		body := `{"id":"` + id + `"}`
		got, ok, err := jsonscan.Find([]byte(body), "id")
		if err != nil {
			continue
		}
		if !ok {
			t.Fatalf("%q: not found", body)
		}
		if prev, dup := seen[got]; dup && prev != id {
			// The raw U+FFFD and its escape are the same string to
			// every decoder: that is not a collision.
			if strings.ReplaceAll(prev, `\ufffd`, "\ufffd") != strings.ReplaceAll(id, `\ufffd`, "\ufffd") {
				t.Fatalf("IDs %q and %q both read as %q", prev, id, got)
			}
		}
		seen[got] = id
	}
}

// TestJSONEscapedKeysAllocationFree checks the cause of issue 15, item 7:
// comparing an escaped key decoded it with encoding/json, allocating, so
// that a forged body of escaped keys cost many times a plain one before
// its signature was checked. Key comparison must not allocate at all.
func TestJSONEscapedKeysAllocationFree(t *testing.T) {
	body := forgedKeys(1<<20, true)
	ms := []jsonscan.Member{{Key: "signature"}, {Key: "event-data"}}
	allocs := testing.AllocsPerRun(3, func() {
		if _, ok, err := jsonscan.Find(body, "signature", "signature"); ok || err != nil {
			panic("found a signature in the forged body")
		}
		if err := jsonscan.Members(body, ms); err != nil || ms[0].Found {
			panic("found a signature in the forged body")
		}
	})
	if allocs != 0 {
		t.Errorf("scanning 1 MiB of escaped keys allocates %v times, want 0", allocs)
	}
}

// forgedKeys returns a JSON object of about n bytes made of many short
// members whose keys are all escaped (or, with escaped false, the same keys
// written plainly), none of them a key a preset looks for.
func forgedKeys(n int, escaped bool) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if escaped {
			// "signaturf" with every letter escaped: it matches
			// "signature" up to its last rune.
			fmt.Fprintf(&b, `"\u0073\u0069\u0067\u006e\u0061\u0074\u0075\u0072\u0066%d":1`, i%10)
		} else {
			fmt.Fprintf(&b, `"signaturf%d":1`, i%10)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// BenchmarkJSONForgedKeys measures the scan of an unverified body (as for
// Mailgun, whose signature is inside the body) of 1 MiB of escaped keys
// against one of the same keys written plainly: compare the two MB/s. The
// escaped body is about six times as long per key, so its MB/s should be
// within a small factor of the plain one's; before the fix each escaped
// key went through encoding/json and cost 12 times as much.
func BenchmarkJSONForgedKeys(b *testing.B) {
	for _, escaped := range []bool{false, true} {
		body := forgedKeys(1<<20, escaped)
		b.Run("escaped="+strconv.FormatBool(escaped), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := jsonscan.Field(body, "signature", "signature"); ok {
					b.Fatal("found")
				}
			}
		})
	}
}

// checkDecoders checks that encoding/json decodes want at path in body,
// into a struct whose fields are tagged with the names and into maps.
func checkDecoders(t *testing.T, body []byte, path []string, want string) {
	t.Helper()
	fromStruct, ok := decodeStruct(body, path)
	if !ok {
		return // a name not valid in a struct tag
	}
	if fromStruct == nil {
		t.Fatalf("body %q path %q: encoding/json into a struct finds nothing, the scanner %q", body, path, want)
	}
	if got := scalarText(t, fromStruct); got != want {
		t.Fatalf("body %q path %q: encoding/json into a struct = %q, the scanner %q", body, path, got, want)
	}
	fromMap := decodeMap(body, path)
	if fromMap == nil {
		t.Fatalf("body %q path %q: encoding/json into a map finds nothing, the scanner %q", body, path, want)
	}
	if got := scalarText(t, fromMap); got != want {
		t.Fatalf("body %q path %q: encoding/json into a map = %q, the scanner %q", body, path, got, want)
	}
}

// scalarText returns a raw scalar as the JSON readers return it: a string
// decoded, anything else as written.
func scalarText(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("encoding/json cannot decode its own value %s: %v", raw, err)
		}
		return s
	}
	return string(raw)
}

// validTag reports whether encoding/json accepts name as a field name in
// a struct tag (its isValidTag).
func validTag(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// decodeStruct decodes body with encoding/json into a struct type built
// for path: a field tagged path[0] holding a struct with a field tagged
// path[1], and so on, the last one a json.RawMessage. It returns that raw
// value (nil when absent), and false when a name cannot be a tag or the
// decoding failed.
func decodeStruct(body []byte, path []string) (json.RawMessage, bool) {
	typ := reflect.TypeFor[json.RawMessage]()
	for i := len(path) - 1; i >= 0; i-- {
		if !validTag(path[i]) {
			return nil, false
		}
		typ = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: typ,
			Tag:  reflect.StructTag(`json:` + strconv.Quote(path[i])),
		}})
	}
	v := reflect.New(typ)
	if err := json.Unmarshal(body, v.Interface()); err != nil {
		return nil, false
	}
	e := v.Elem()
	for range path {
		e = e.Field(0)
	}
	return e.Interface().(json.RawMessage), true
}

// decodeMap decodes body with encoding/json into maps along path and
// returns the raw value at its end, or nil.
func decodeMap(body []byte, path []string) json.RawMessage {
	raw := json.RawMessage(body)
	for _, k := range path {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		raw = m[k]
	}
	return raw
}

// FuzzJSONFieldMatchesEncodingJSON checks FindJSONField and JSONField
// against encoding/json on the same bytes: whenever FindJSONField returns
// a value for a path in a valid JSON body, encoding/json decodes the same
// value into a struct field tagged with the names and into maps; when it
// finds nothing and reports no error, encoding/json finds no scalar there
// either (no silent miss, which would skip deduplication); and where it
// refuses a string as lossy, JSONField returns what encoding/json decodes.
func FuzzJSONFieldMatchesEncodingJSON(f *testing.F) {
	seeds := []struct {
		body, k1, k2 string
		nested       bool
	}{
		{`{"id":"evt_first","object":"event","id":"evt_last"}`, "id", "", false},
		{`{"type":"a","livemode":false,"type":"b","x":1}`, "type", "", false},
		{`{"event_id":"Ev1","type":"event_callback","event_id":"Ev2"}`, "event_id", "", false},
		{`{"ID":"upper","id":"lower"}`, "id", "", false},
		{`{"id":"lower","Id":"mixed"}`, "id", "", false},
		{`{"ſtatus":"x","status":"y"}`, "status", "", false},
		{`{"\u212a":"kelvin"}`, "k", "", false},
		{`{"\u0069d":"escaped","i\u0064":"again"}`, "id", "", false},
		{"{\"id\":\"evt_\xff\"}", "id", "", false},
		{"{\"id\":\"evt_\xfe\"}", "id", "", false},
		{`{"id":"evt_\ud800"}`, "id", "", false},
		{`{"id":"\ud83d\ude00\ufffd"}`, "id", "", false},
		{`{"data":{"object":{"id":"pi_1"}},"data":{}}`, "data", "object", true},
		{`{"signature":{"token":"t","token":"u"}}`, "signature", "token", true},
		{`{"signature":{"token":"t"},"Signature":{"token":"u"}}`, "signature", "token", true},
		{`{"a":{"id":1,"id":2},"id":null}`, "id", "", false},
		{`{"n":-1.5e3,"b":true}`, "n", "", false},
		{` { "id" : [ 1 , { "x" : "]" } ] , "k" : "v" } `, "k", "", false},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.k1, s.k2, s.nested)
	}
	f.Fuzz(func(t *testing.T, body []byte, k1, k2 string, nested bool) {
		path := []string{k1}
		if nested {
			path = append(path, k2)
		}
		got, ok, err := jsonscan.Find(body, path...)
		jf, jok := jsonscan.Field(body, path...)
		switch {
		case err == nil:
			if jf != got || jok != ok {
				t.Fatalf("JSONField(%q, %q) = %q, %v; FindJSONField = %q, %v", body, path, jf, jok, got, ok)
			}
		case errors.Is(err, verify.ErrInvalidJSONString):
			if !jok || !strings.ContainsRune(jf, unicode.ReplacementChar) {
				t.Fatalf("JSONField(%q, %q) = %q, %v for a lossy string", body, path, jf, jok)
			}
		case errors.Is(err, verify.ErrAmbiguousJSON):
			if jok {
				t.Fatalf("JSONField(%q, %q) = %q for an ambiguous body", body, path, jf)
			}
		default:
			t.Fatalf("FindJSONField(%q, %q): unexpected error %v", body, path, err)
		}
		if ok && err != nil {
			t.Fatalf("FindJSONField(%q, %q) found %q and refused it (%v)", body, path, got, err)
		}
		if !json.Valid(body) {
			return
		}
		switch {
		case ok:
			checkDecoders(t, body, path, got)
		case errors.Is(err, verify.ErrInvalidJSONString):
			checkDecoders(t, body, path, jf)
		case err == nil:
			raw, valid := decodeStruct(body, path)
			if valid && len(raw) > 0 && raw[0] != '{' && raw[0] != '[' {
				t.Fatalf("FindJSONField(%q, %q) finds nothing; encoding/json decodes %s", body, path, raw)
			}
			if raw := decodeMap(body, path); len(raw) > 0 && raw[0] != '{' && raw[0] != '[' {
				t.Fatalf("FindJSONField(%q, %q) finds nothing; encoding/json into a map decodes %s", body, path, raw)
			}
		}
	})
}
