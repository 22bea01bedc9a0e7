package sign

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/providers"
)

func TestSetField(t *testing.T) {
	tests := []struct {
		body, field, value, want, err string
	}{
		{`{"id":"evt_1","data":{"id":"pi_1"}}`, "id", "evt_2", `{"id":"evt_2","data":{"id":"pi_1"}}`, ""},
		{"{\n  \"data\": {\"id\": \"x\"},\n  \"id\" :  \"evt_1\" ,\n  \"n\": 1\n}", "id", "evt_\"q", "{\n  \"data\": {\"id\": \"x\"},\n  \"id\" :  \"evt_\\\"q\" ,\n  \"n\": 1\n}", ""},
		{`{"event_id":"Ev1","event":{"event_id":"no"}}`, "event_id", "Ev2", `{"event_id":"Ev2","event":{"event_id":"no"}}`, ""},
		{`{"id":1}`, "id", "x", "", "not one"},
		{`{"id":1}`, "id", "0123", "", "not one"},
		{`{"id":[1]}`, "id", "x", "", "not a string or a number"},
		{`{"id": 820982911946154508, "n":1}`, "id", "555", `{"id": 555, "n":1}`, ""},
		{`[{"eventId":1,"x":"y"},{"eventId":2}]`, "eventId", "42", `[{"eventId":42,"x":"y"},{"eventId":2}]`, ""},
		{`[{"sg_event_id":"a"}]`, "sg_event_id", "b", `[{"sg_event_id":"b"}]`, ""},
		{`[]`, "id", "x", "", "nor an array of objects"},
		{`[1]`, "id", "x", "", "nor an array of objects"},
		{`{"data":{"id":"x"}}`, "id", "x", "", "no top-level field"},
		{`{"id":"a","id":"b"}`, "id", "x", "", "appears 2 times"},
		{`{"id":"a"`, "id", "x", "", "not JSON"},
		{`payload=%7B%7D`, "id", "x", "", "not JSON"},
	}
	for _, tt := range tests {
		got, err := SetField([]byte(tt.body), tt.field, tt.value)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SetField(%s) error = %v; want %q", tt.body, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("SetField(%s) = %s, %v; want %s", tt.body, got, err, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("SetField(%s) is not JSON", tt.body)
		}
	}
}

func TestFreshID(t *testing.T) {
	for _, old := range []string{"evt_3PJk2aLkdIwHu7ix0Qm9x2Tb", "Ev074LQ8G1QN", "msg_p5jXN8AQM9LWM0D4loKWxJek", "", "1234567890123456"} {
		a, b := FreshID(old), FreshID(old)
		if a == b || a == old {
			t.Errorf("FreshID(%q) = %q, %q; want fresh ones", old, a, b)
		}
		if i := strings.LastIndexAny(old, "_-"); i >= 0 && !strings.HasPrefix(a, old[:i+1]) {
			t.Errorf("FreshID(%q) = %q lost the prefix", old, a)
		}
		if len(a) < len(old) || len(a) < 16 {
			t.Errorf("FreshID(%q) = %q is too short", old, a)
		}
	}
	for range 50 {
		if id := FreshID("820982911946154508"); strings.Trim(id, "0123456789") != "" || len(id) != 18 || id[0] == '0' {
			t.Fatalf("FreshID of a numeric ID = %q; want 18 digits, no leading zero", id)
		}
	}
}

func TestFlipByte(t *testing.T) {
	for _, in := range []string{`{"amount":2000}`, "a=b", "{}", "", "zZ9f"} {
		out := FlipByte([]byte(in))
		if bytes.Equal(out, []byte(in)) {
			t.Errorf("FlipByte(%q) did not change it", in)
		}
		if in != "" && len(out) != len(in) {
			t.Errorf("FlipByte(%q) = %q changed the length", in, out)
		}
	}
	if out := FlipByte([]byte(`{"amount":2000}`)); !json.Valid(out) {
		t.Errorf("FlipByte kept no JSON: %s", out)
	}
	for c := range 256 {
		n := nextInClass(byte(c))
		if n == byte(c) {
			t.Errorf("nextInClass(%q) = itself", c)
		}
		hex := strings.IndexByte("0123456789abcdefABCDEF", byte(c)) >= 0
		if hex && strings.IndexByte("0123456789abcdefABCDEF", n) < 0 {
			t.Errorf("nextInClass(%q) = %q left the hex digits", c, n)
		}
	}
}

func TestParseTamper(t *testing.T) {
	for _, name := range TamperNames() {
		k, err := ParseTamper(name)
		if err != nil || k.String() != name {
			t.Errorf("ParseTamper(%q) = %v, %v", name, k, err)
		}
	}
	if _, err := ParseTamper("Signature"); !errors.Is(err, ErrUnknownTamper) {
		t.Errorf("ParseTamper(Signature) = %v", err)
	}
	gh, _ := providers.NewGitHub("s")
	st, _ := providers.NewStripe("s")
	if Timestamp.Applies(gh) || !Timestamp.Applies(st) || !Body.Applies(gh) {
		t.Error("Applies")
	}
}

// TestFindID: Stripe reads the ID from the body's "id", Slack from
// "event_id", GitHub from a header; a Slack handshake has none.
func TestFindID(t *testing.T) {
	st, _ := providers.NewStripe("whsec_x")
	sl, _ := providers.NewSlack("x")
	gh, _ := providers.NewGitHub("x")
	for _, tt := range []struct {
		p    providers.Provider
		body string
		want IDPlace
	}{
		{st, `{"data":{"id":"pi_1"},"id":"evt_1","type":"x"}`, IDPlace{Field: "id", Value: "evt_1"}},
		{sl, `{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}`, IDPlace{Field: "event_id", Value: "Ev1"}},
		{sl, `{"type":"url_verification","challenge":"c"}`, IDPlace{}},
		{gh, `{"zen":"x"}`, IDPlace{Header: true}},
	} {
		got, err := FindID(tt.p, []byte(tt.body), "https://example.com/", "")
		if err != nil || got != tt.want {
			t.Errorf("FindID(%s, %s) = %+v, %v; want %+v", tt.p.Name(), tt.body, got, err, tt.want)
		}
	}
}

// TestBuildTampers checks each kind against a preset's own Verify.
func TestBuildTampers(t *testing.T) {
	p, _ := providers.NewStripe("whsec_x")
	now := time.Unix(1716480205, 0)
	body := []byte(`{"id":"evt_1","type":"x"}`)
	for _, k := range []Tamper{None, Signature, Body, Timestamp, Secret, MissingSignature} {
		s := Spec{Body: body, Time: now}
		k.Apply(&s, p)
		d, err := Build(p, s)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if got := accepts(p, &d, now); got != (k == None) {
			t.Errorf("%s: accepted = %v", k, got)
		}
		if !bytes.Equal(body, []byte(`{"id":"evt_1","type":"x"}`)) {
			t.Fatalf("%s modified the caller's body", k)
		}
	}
	// GitLab presents a token and signs no body.
	gl, err := providers.New("gitlab", "token")
	if err == nil {
		if _, err := Build(gl, Spec{Body: body, FlipBody: true}); !errors.Is(err, ErrCannotTamper) {
			t.Errorf("gitlab FlipBody = %v; want ErrCannotTamper", err)
		}
	}
}
