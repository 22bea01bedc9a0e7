package jsonscan_test

import (
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
)

func TestJSONField(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		path   []string
		want   string
		wantOK bool
	}{
		{"top-level string", `{"id":"evt_1"}`, []string{"id"}, "evt_1", true},
		{"second key", `{"a":1,"id":"evt_2"}`, []string{"id"}, "evt_2", true},
		{"nested", `{"data":{"object":{"id":"pi_1"}}}`, []string{"data", "object", "id"}, "pi_1", true},
		{"nested after siblings", `{"x":[1,{"id":"no"}],"data":{"y":{"id":"no"},"id":"yes"}}`, []string{"data", "id"}, "yes", true},
		{"empty string", `{"id":""}`, []string{"id"}, "", true},
		{"escaped quote and backslash", `{"id":"a\"b\\c"}`, []string{"id"}, `a"b\c`, true},
		{"escaped control chars", `{"id":"a\n\t\r\b\f\/"}`, []string{"id"}, "a\n\t\r\b\f/", true},
		{"unicode escape", `{"id":"caf\u00e9"}`, []string{"id"}, "café", true},
		{"surrogate pair", `{"id":"\ud83d\ude00"}`, []string{"id"}, "😀", true},
		{"lone surrogate", `{"id":"\ud83d"}`, []string{"id"}, "\ufffd", true},
		{"raw utf-8", `{"id":"日本"}`, []string{"id"}, "日本", true},
		{"invalid utf-8 as encoding/json", "{\"id\":\"a\xffb\"}", []string{"id"}, "a\ufffdb", true},
		{"escaped key", `{"\u0069d":"k"}`, []string{"id"}, "k", true},
		{"escaped key not equal", `{"i\u0064x":"k","id":"real"}`, []string{"id"}, "real", true},
		{"integer", `{"n":42}`, []string{"n"}, "42", true},
		{"negative float exp", `{"n":-1.5e+3}`, []string{"n"}, "-1.5e+3", true},
		{"number before brace", `{"a":{"n":7}}`, []string{"a", "n"}, "7", true},
		{"number before bracket", `{"n":[1]}`, []string{"n"}, "", false},
		{"true", `{"b":true}`, []string{"b"}, "true", true},
		{"false", `{"b":false }`, []string{"b"}, "false", true},
		{"null", `{"b":null,"c":1}`, []string{"b"}, "null", true},
		{"object value", `{"id":{"x":1}}`, []string{"id"}, "", false},
		{"array value", `{"id":["x"]}`, []string{"id"}, "", false},
		{"key after object with braces in strings", `{"a":{"s":"}}}{{{","t":["]"]},"id":"after"}`, []string{"id"}, "after", true},
		{"key after array with quotes", `{"a":["\"],[{",{"b":"\\"}],"id":"after"}`, []string{"id"}, "after", true},
		{"key named like a string value", `{"a":"id","id":"real"}`, []string{"id"}, "real", true},
		{"nested key does not leak to top", `{"a":{"id":"inner"}}`, []string{"id"}, "", false},
		{"repeated key refused", `{"id":"first","id":"second"}`, []string{"id"}, "", false},
		{"key in another case refused", `{"ID":"upper"}`, []string{"id"}, "", false},
		{"repeated key in a skipped object", `{"a":{"id":1,"id":2},"id":"top"}`, []string{"id"}, "top", true},
		{"repeated key after the value", `{"data":{"id":"x"},"b":1,"data":2}`, []string{"data", "id"}, "", false},
		{"truncated after the value", `{"id":"x","a":1`, []string{"id"}, "", false},
		{"whitespace everywhere", " \t\r\n{ \n\"data\" \t: \r\n{ \"id\" : \"w\" \n} \n} \n", []string{"data", "id"}, "w", true},
		{"whitespace after number", `{"n":12 ,"m":3}`, []string{"n"}, "12", true},
		{"absent key", `{"a":1,"b":"c"}`, []string{"id"}, "", false},
		{"empty object", `{}`, []string{"id"}, "", false},
		{"path through scalar", `{"data":"x"}`, []string{"data", "id"}, "", false},
		{"path through array", `{"data":[{"id":"x"}]}`, []string{"data", "id"}, "", false},
		{"empty path", `{"id":"x"}`, nil, "", false},
		{"empty key", `{"":"e"}`, []string{""}, "e", true},
		{"top-level array", `[{"id":"x"}]`, []string{"id"}, "", false},
		{"top-level string", `"id"`, []string{"id"}, "", false},
		{"empty body", ``, []string{"id"}, "", false},
		{"only whitespace", "  \n", []string{"id"}, "", false},
		{"truncated in key", `{"i`, []string{"id"}, "", false},
		{"truncated after colon", `{"id":`, []string{"id"}, "", false},
		{"truncated in value", `{"id":"ev`, []string{"id"}, "", false},
		{"truncated escape", `{"id":"ev\`, []string{"id"}, "", false},
		{"truncated while skipping", `{"a":{"b":[1,2`, []string{"id"}, "", false},
		{"truncated number", `{"n":12`, []string{"n"}, "", false},
		{"truncated literal", `{"b":tru`, []string{"b"}, "", false},
		{"unterminated string while skipping", `{"a":"open,"id":1`, []string{"id"}, "", false},
		{"string runs to end while skipping", `{"a":"open`, []string{"id"}, "", false},
		{"number at end while skipping", `{"a":1`, []string{"id"}, "", false},
		{"empty value while skipping", `{"a":,"id":"x"}`, []string{"id"}, "", false},
		{"close brace instead of value", `{"a":}`, []string{"id"}, "", false},
		{"missing colon", `{"id" "x"}`, []string{"id"}, "", false},
		{"unquoted key", `{id:"x"}`, []string{"id"}, "", false},
		{"single quotes", `{'id':'x'}`, []string{"id"}, "", false},
		{"control char in string", "{\"id\":\"a\nb\"}", []string{"id"}, "", false},
		{"bad escape", `{"id":"\x41"}`, []string{"id"}, "", false},
		{"garbage between members", `{"a":1 x "id":"y"}`, []string{"id"}, "", false},
		{"bare word value", `{"id":evt}`, []string{"id"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := jsonscan.Field([]byte(tc.body), tc.path...)
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("JSONField(%q, %q) = %q, %v; want %q, %v", tc.body, tc.path, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestJSONFieldDeepNesting(t *testing.T) {
	const depth = 100_000
	t.Run("skipped value", func(t *testing.T) {
		body := `{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `,"id":"deep"}`
		if got, ok := jsonscan.Field([]byte(body), "id"); !ok || got != "deep" {
			t.Errorf("key after a deep array = %q, %v; want deep, true", got, ok)
		}
		mixed := `{"a":` + strings.Repeat(`{"k":[`, depth) + strings.Repeat("]}", depth) + `,"id":"deep"}`
		if got, ok := jsonscan.Field([]byte(mixed), "id"); !ok || got != "deep" {
			t.Errorf("key after deep objects = %q, %v; want deep, true", got, ok)
		}
	})
	t.Run("unterminated", func(t *testing.T) {
		body := `{"a":` + strings.Repeat(`{"b":`, depth)
		if _, ok := jsonscan.Field([]byte(body), "id"); ok {
			t.Error("unterminated deep body reported a value")
		}
	})
	t.Run("deep path", func(t *testing.T) {
		body := strings.Repeat(`{"k":`, depth) + `"leaf"` + strings.Repeat("}", depth)
		path := make([]string, depth)
		for i := range path {
			path[i] = "k"
		}
		if got, ok := jsonscan.Field([]byte(body), path...); !ok || got != "leaf" {
			t.Errorf("deep path = %q, %v; want leaf, true", got, ok)
		}
	})
}

func TestJSONFieldAllocations(t *testing.T) {
	body := []byte(`{"id":"evt_1","object":"event","data":{"object":{"id":"pi_1","amount":2000}}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := jsonscan.Field(body, "data", "object", "id"); !ok {
			panic("not found")
		}
	})
	// One allocation: the returned string.
	if allocs > 1 {
		t.Errorf("JSONField allocates %v times per run, want at most 1", allocs)
	}
}
