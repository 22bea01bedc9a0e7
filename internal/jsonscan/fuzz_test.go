package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
)

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

func FuzzField(f *testing.F) {
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
		got, ok := jsonscan.Field(body, key)
		jsonscan.Field(body, key, key) // must not panic either
		if !json.Valid(body) {
			return
		}
		count, raw, isObject := topLevelCount(body, key)
		if !isObject || count != 1 {
			return
		}
		if len(raw) == 0 { // the one member matches only ignoring case
			if ok {
				t.Fatalf("Field(%q, %q) = %q, true for a name in another case", body, key, got)
			}
			return
		}
		switch raw[0] {
		case '{', '[':
			if ok {
				t.Fatalf("Field(%q, %q) = %q, true for an object or array", body, key, got)
			}
			return
		case '"':
		default: // number, true, false, null: returned as written
			if !ok || got != string(raw) {
				t.Fatalf("Field(%q, %q) = %q, %v; want %s", body, key, got, ok, raw)
			}
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("encoding/json cannot decode its own raw value %s: %v", raw, err)
		}
		if !ok || got != want {
			t.Fatalf("Field(%q, %q) = %q, %v; encoding/json = %q", body, key, got, ok, want)
		}
	})
}
