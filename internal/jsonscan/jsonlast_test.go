package jsonscan_test

import (
	"encoding/json"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
)

func TestJSONLastField(t *testing.T) {
	tests := []struct {
		name string
		body string
		key  string
		want string
		ok   bool
	}{
		{"stripe event", `{"id":"evt_1","data":{"object":{"type":"nested"}},"livemode":false,"type":"invoice.paid"}`, "type", "invoice.paid", true},
		{"whitespace", " {\n \"a\" : 1 ,\n \"type\" :\t\"x.y\" \n}\n", "type", "x.y", true},
		{"only member", `{"type":"t"}`, "type", "t", true},
		{"escaped value", `{"a":1,"type":"q\"uote\\"}`, "type", `q"uote\`, true},
		{"escaped quotes before", `{"a":"x\",\"type\":\"fake","type":"real"}`, "type", "real", true},
		{"value hides a member", `{"a":"q\",\"type\":\"x"}`, "type", "", false},
		{"escaped key", `{"a":1,"ty\u0070e":"t"}`, "type", "t", true},
		{"unicode escape in value", `{"type":"caf\u00e9"}`, "type", "café", true},
		{"not last", `{"type":"t","a":1}`, "type", "", false},
		{"last is nested", `{"a":{"type":"t"}}`, "type", "", false},
		{"number value", `{"a":1,"type":2}`, "type", "", false},
		{"other key", `{"a":1,"kind":"t"}`, "type", "", false},
		{"array body", `["type","t"]`, "type", "", false},
		{"not an object", `"type":"t"}`, "type", "", false},
		{"brace inside", `[{"type":"t"}]`, "type", "", false},
		{"truncated", `{"type":"t"`, "type", "", false},
		{"empty", ``, "type", "", false},
		{"control char", "{\"type\":\"a\x01b\"}", "type", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := jsonscan.LastField([]byte(tt.body), tt.key)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("JSONLastField(%q, %q) = %q, %v; want %q, %v", tt.body, tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzJSONLastField checks JSONLastField against encoding/json: on a valid
// JSON object, a value it returns is the string encoding/json decodes for
// that key (the last occurrence wins in both).
func FuzzJSONLastField(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","data":{"type":"n"},"type":"invoice.paid"}`))
	f.Add([]byte(`{"a":"x\",\"type\":\"fake","type":"re\u0061l"}`))
	f.Add([]byte(`{"type":"t"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := jsonscan.LastField(body, "type")
		if !ok || !json.Valid(body) {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("valid JSON found %q but does not decode as an object: %v", got, err)
		}
		var want string
		if err := json.Unmarshal(m["type"], &want); err != nil || want != got {
			t.Fatalf("JSONLastField = %q; encoding/json decodes %s (%v)", got, m["type"], err)
		}
	})
}
