package jsonscan_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
)

func TestAppendJSONField(t *testing.T) {
	body := []byte(`{"id":"evt_1","n":-1.5e3,"esc":"a\"b\u00e9","bad":"a` + "\xff" + `b","obj":{"k":"v"},"type":"invoice.paid"}`)
	tests := []struct {
		name string
		path []string
		want string
		ok   bool
	}{
		{"string", []string{"id"}, "evt_1", true},
		{"number as written", []string{"n"}, "-1.5e3", true},
		{"escapes decoded", []string{"esc"}, "a\"bé", true},
		{"invalid UTF-8 replaced", []string{"bad"}, "a\uFFFDb", true},
		{"nested", []string{"obj", "k"}, "v", true},
		{"object is not a scalar", []string{"obj"}, "", false},
		{"absent", []string{"nope"}, "", false},
		{"no path", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := jsonscan.AppendField([]byte("pre:"), body, tt.path...)
			want := "pre:" + tt.want
			if ok != tt.ok || string(got) != want {
				t.Errorf("AppendJSONField(%q) = %q, %v; want %q, %v", tt.path, got, ok, want, tt.ok)
			}
		})
	}
	t.Run("last", func(t *testing.T) {
		got, ok := jsonscan.AppendLastField([]byte("evt_1"), body, "type")
		if !ok || string(got) != "evt_1invoice.paid" {
			t.Errorf("AppendJSONLastField = %q, %v; want evt_1invoice.paid, true", got, ok)
		}
		got, ok = jsonscan.AppendLastField([]byte("x"), body, "id")
		if ok || string(got) != "x" {
			t.Errorf("AppendJSONLastField(id, not last) = %q, %v; want x, false", got, ok)
		}
	})
}

func TestAppendJSONFieldAllocations(t *testing.T) {
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","data":{"object":{"id":"pi_1"}},"type":"invoice.paid"}`)
	var id, typ string
	allocs := testing.AllocsPerRun(100, func() {
		var arr [64]byte
		buf, _ := jsonscan.AppendField(arr[:0], body, "id")
		n := len(buf)
		buf, _ = jsonscan.AppendLastField(buf, body, "type")
		s := string(buf)
		id, typ = s[:n], s[n:]
	})
	if id != "evt_1NG8Du2eZvKYlo2CUI79vXWy" || typ != "invoice.paid" {
		t.Fatalf("id, type = %q, %q", id, typ)
	}
	// One allocation for both: the string that holds them.
	if allocs > 1 {
		t.Errorf("two appends and one conversion allocate %v times per run, want at most 1", allocs)
	}
}

// FuzzAppendJSONField checks that the Append forms find exactly what
// JSONField and JSONLastField return (which FuzzJSONField and
// FuzzJSONLastField compare with encoding/json), append it after dst
// without touching dst, and leave dst as it was when they find nothing.
func FuzzAppendJSONField(f *testing.F) {
	seeds := []struct {
		body, key, dst string
	}{
		{`{"id":"evt_1","type":"invoice.paid"}`, "type", "evt_1"},
		{`{"id":"a\"b\\c\u00e9\ud83d\ude00"}`, "id", ""},
		{"{\"id\":\"a\xffb\"}", "id", "x"},
		{`{"\u0069d":"k"}`, "id", "pre"},
		{`{"n":-1.5e3,"b":true,"z":null}`, "n", ""},
		{`{"k":{"k":"deep"}}`, "k", "d"},
		{`{"a":"x\",\"type\":\"fake","type":"re\u0061l"}`, "type", "id"},
		{`{"id":`, "id", "q"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.key, []byte(s.dst))
	}
	f.Fuzz(func(t *testing.T, body []byte, key string, dst []byte) {
		orig := bytes.Clone(dst)
		check := func(what string, got []byte, ok bool, want string, wok bool) {
			t.Helper()
			if !bytes.Equal(dst, orig) {
				t.Fatalf("%s modified dst: %q, was %q", what, dst, orig)
			}
			if ok != wok {
				t.Fatalf("%s(%q, %q) reports %v; the string form reports %v", what, body, key, ok, wok)
			}
			if !bytes.Equal(got[:min(len(got), len(orig))], orig) || string(got[len(orig):]) != want {
				t.Fatalf("%s(%q, %q, %q) = %q; want dst followed by %q", what, dst, body, key, got, want)
			}
		}
		// A full slice (len == cap) makes append copy; spare capacity lets
		// it write in place: try both.
		for _, d := range [][]byte{dst[:len(dst):len(dst)], append(make([]byte, 0, len(dst)+64), dst...)} {
			want, wok := jsonscan.Field(body, key)
			got, ok := jsonscan.AppendField(d, body, key)
			check("AppendJSONField", got, ok, want, wok)
			want, wok = jsonscan.Field(body, key, key)
			got, ok = jsonscan.AppendField(d, body, key, key)
			check("AppendJSONField (nested)", got, ok, want, wok)
			want, wok = jsonscan.LastField(body, key)
			got, ok = jsonscan.AppendLastField(d, body, key)
			check("AppendJSONLastField", got, ok, want, wok)
		}
	})
}

func ExampleAppendField() {
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","data":{"object":{"id":"pi_3"}},"type":"payment_intent.succeeded"}`)
	// Both values go into one buffer on the stack; one conversion then
	// costs one allocation for the two strings.
	var arr [128]byte
	buf, _ := jsonscan.AppendField(arr[:0], body, "id")
	n := len(buf)
	buf, _ = jsonscan.AppendLastField(buf, body, "type")
	s := string(buf)
	id, typ := s[:n], s[n:]
	fmt.Println(id)
	fmt.Println(typ)
	// Output:
	// evt_1NG8Du2eZvKYlo2CUI79vXWy
	// payment_intent.succeeded
}
