package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hookguard/hookguard/internal/jsonscan"
	"github.com/hookguard/hookguard/verify"
)

// checkMembersAgainstJSONField asserts that one JSONMembers pass finds for
// each key what FindJSONField finds, including inside object values; that
// it refuses a body only when FindJSONField refuses it for one of the
// keys; and that AppendJSONMembers finds the same.
func checkMembersAgainstJSONField(t *testing.T, body []byte, keys []string) {
	t.Helper()
	ms := make([]jsonscan.Member, len(keys))
	for i, k := range keys {
		ms[i].Key = k
	}
	err := jsonscan.Members(body, ms)
	ams := slices.Clone(ms)
	buf, aerr := jsonscan.AppendMembers([]byte("pre"), body, ams)
	if !json.Valid(body) {
		// encoding/json refuses the whole body; the readers need only
		// not panic, and may stop at different places in it.
		return
	}
	if (err == nil) != (aerr == nil) {
		t.Fatalf("body %q: JSONMembers error %v, AppendJSONMembers error %v", body, err, aerr)
	}
	if err != nil {
		var je *jsonscan.Error
		if !errors.As(err, &je) {
			t.Fatalf("body %q: error %v is not a *JSONError", body, err)
		}
		if _, _, ferr := jsonscan.Find(body, je.Path); ferr == nil {
			t.Fatalf("body %q: JSONMembers refused %q (%v), FindJSONField does not", body, je.Path, err)
		}
		for i := range ms {
			if ms[i].Found || ams[i].Found {
				t.Fatalf("body %q: member %q found although the body was refused", body, ms[i].Key)
			}
		}
		if string(buf) != "pre" {
			t.Fatalf("body %q: refused, but AppendJSONMembers appended: %q", body, buf)
		}
		return
	}
	for i, m := range ms {
		want, wantOK, ferr := jsonscan.Find(body, m.Key)
		if ferr != nil {
			t.Fatalf("body %q: FindJSONField(%q) refuses it (%v), JSONMembers does not", body, m.Key, ferr)
		}
		gotOK := m.Found && m.Raw == nil
		if m.Value != want || gotOK != wantOK {
			t.Fatalf("body %q: member %q = %q, %v; FindJSONField = %q, %v", body, m.Key, m.Value, gotOK, want, wantOK)
		}
		if a := ams[i]; a.Found != m.Found || !bytes.Equal(a.Raw, m.Raw) || a.Value != "" ||
			(gotOK && string(buf[a.Start:a.End]) != want) {
			t.Fatalf("body %q: AppendJSONMembers member %+v in %q; JSONMembers %+v", body, a, buf, m)
		}
		if m.Raw != nil && m.Value != "" {
			t.Fatalf("body %q: member %q has both Value and Raw", body, m.Key)
		}
		if m.Raw != nil && !bytes.Contains(body, m.Raw) {
			t.Fatalf("body %q: member %q Raw %q is not part of the body", body, m.Key, m.Raw)
		}
		inner, innerOK := jsonscan.Field(m.Raw, "type")
		wantInner, wantInnerOK := jsonscan.Field(body, m.Key, "type")
		if inner != wantInner || innerOK != wantInnerOK {
			t.Fatalf("body %q: %q.type from Raw = %q, %v; JSONField = %q, %v", body, m.Key, inner, innerOK, wantInner, wantInnerOK)
		}
	}
}

var memberKeys = []string{"event_id", "type", "event", "challenge"}

func TestJSONMembers(t *testing.T) {
	for _, body := range []string{
		// Slack Events API shapes, after https://docs.slack.dev/apis/events-api/
		`{"token":"x","team_id":"T1","event":{"type":"app_mention","text":"hi \"there\"","blocks":[{"a":[1,2]}]},"type":"event_callback","event_id":"Ev1","event_time":1}`,
		`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
		`{"type":"event_callback","event_id":"Ev1","type":"second","event_id":"Ev2"}`, // refused
		`{"Type":"event_callback","event_id":"Ev1"}`, // refused
		`{"event_id":12,"type":null,"event":[1,{"type":"x"}],"challenge":true}`,
		`{"event_id":"a\u00e9\n","type":"caf\u00e9"}`,
		`{"event":{"type":"cut`, // truncated inside the object
		`{"event_id":"bad` + "\x01" + `","type":"t"}`,
		`{"a":1,"type":"t",}`,
		` { "type" : "spaced" , "event" : { "type" : "inner" } } `,
		`[]`, `{}`, ``, `{`, `{"type"`, `{"type":}`, `{"ev\u0065nt_id":"escaped key"}`,
	} {
		checkMembersAgainstJSONField(t, []byte(body), memberKeys)
	}
}

// TestJSONMembersReadsToTheEnd checks that the pass reads the object to
// its end, where a repeated name may come: a body that is not a
// well-formed object after the members yields none of them.
func TestJSONMembersReadsToTheEnd(t *testing.T) {
	ms := []jsonscan.Member{{Key: "type"}, {Key: "event_id"}}
	if err := jsonscan.Members([]byte(`{"type":"t","event_id":"e",this is not JSON`), ms); err != nil {
		t.Fatalf("malformed body: error %v, want none", err)
	}
	if ms[0].Found || ms[1].Found {
		t.Fatalf("malformed body: members = %+v, want none found", ms)
	}
}

func FuzzJSONMembers(f *testing.F) {
	f.Add([]byte(`{"token":"x","event":{"type":"app_mention"},"type":"event_callback","event_id":"Ev1"}`))
	f.Add([]byte(`{"challenge":"c","type":"url_verification"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkMembersAgainstJSONField(t, body, memberKeys)
	})
}

func BenchmarkJSONMembersSlack(b *testing.B) {
	body := []byte(`{"token":"XXYYZZ","team_id":"T123ABC456","api_app_id":"A123ABC456","event":{"type":"message","channel":"C123ABC456","user":"U123ABC456","text":"` +
		string(bytes.Repeat([]byte("lorem ipsum "), 80)) + `","ts":"1355517523.000005","event_ts":"1355517523.000005","channel_type":"channel"},"type":"event_callback","authed_users":["U123ABC456"],"event_id":"Ev123ABC456","event_time":1355517523}`)
	b.Run("JSONField x3", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			jsonscan.Field(body, "event_id")
			jsonscan.Field(body, "type")
			jsonscan.Field(body, "event", "type")
		}
	})
	b.Run("JSONMembers", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			ms := [...]jsonscan.Member{{Key: "event_id"}, {Key: "type"}, {Key: "event"}, {Key: "challenge"}}
			jsonscan.Members(body, ms[:])
			jsonscan.Field(ms[2].Raw, "type")
		}
	})
}

// TestJSONMembersNamesOfOtherLengths pins the shortcut of the member loop:
// a plain ASCII name of another length than a wanted ASCII key is passed
// over without comparing it, so a name whose raw length differs but which
// decodes or folds to the key (an escape, a non-ASCII rune) must still be
// compared, and a same-length case variant still refused.
func TestJSONMembersNamesOfOtherLengths(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		keys    []string
		want    []string // Value per key; "" when not found
		wantErr error
	}{
		{"plain", `{"object":"event","id":"evt_1","data":{},"type":"a.b"}`, []string{"id", "type"}, []string{"evt_1", "a.b"}, nil},
		{"escaped id", `{"\u0069d":"evt_1","type":"a.b"}`, []string{"id", "type"}, []string{"evt_1", "a.b"}, nil},
		{"escaped type", `{"id":"evt_1","typ\u0065":"a.b"}`, []string{"id", "type"}, []string{"evt_1", "a.b"}, nil},
		{"escaped repeat", `{"id":"evt_1","\u0069\u0064":"evt_2"}`, []string{"id", "type"}, nil, verify.ErrAmbiguousJSON},
		{"upper case", `{"ID":"evt_1"}`, []string{"id", "type"}, nil, verify.ErrAmbiguousJSON},
		{"upper case type", `{"id":"evt_1","TYPE":"a.b"}`, []string{"id", "type"}, nil, verify.ErrAmbiguousJSON},
		// U+017F folds with "s" and U+212A with "k": two UTF-8 bytes
		// and an escape, neither the length of the ASCII key.
		{"long s", "{\"\u017f\":1}", []string{"s"}, nil, verify.ErrAmbiguousJSON},
		{"kelvin escaped", `{"\u212a":1}`, []string{"k"}, nil, verify.ErrAmbiguousJSON},
		{"longer name", `{"identifier":"x","types":"y"}`, []string{"id", "type"}, []string{"", ""}, nil},
		{"empty object", ` { } `, []string{"id", "type"}, []string{"", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := make([]jsonscan.Member, len(tt.keys))
			for i, k := range tt.keys {
				ms[i].Key = k
			}
			buf, err := jsonscan.AppendMembers(nil, []byte(tt.body), ms)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AppendJSONMembers(%s) error = %v, want %v", tt.body, err, tt.wantErr)
			}
			for i, m := range ms {
				got := ""
				if m.Found {
					got = string(buf[m.Start:m.End])
				}
				want := ""
				if tt.want != nil {
					want = tt.want[i]
				}
				if got != want || m.Found != (want != "") {
					t.Errorf("AppendJSONMembers(%s) %q = %q (found %v), want %q", tt.body, m.Key, got, m.Found, want)
				}
			}
			checkMembersAgainstJSONField(t, []byte(tt.body), tt.keys)
		})
	}
}
