package fixturecheck_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/hookguard/hookguard/webhooktest"
)

// slackFixtures lists the Slack fixtures the issue asks for and how each
// is decoded: the Events API JSON (url_verification, event_callback with
// the inner event's slack-go type), an interaction payload (the form field
// payload=, decoded into slack.InteractionCallback) or a slash command
// (form fields, parsed by slack.SlashCommandParse).
var slackFixtures = map[string]struct {
	kind  string // "url_verification", "event_callback", "interaction" or "slash_command"
	inner any    // event_callback: the slackevents type ParseEvent must give the inner event
	typ   string // the "type" Slack sends: the inner event's or the payload's
}{
	"slack/url_verification":              {kind: "url_verification", typ: slackevents.URLVerification},
	"slack/event_callback.message":        {kind: "event_callback", inner: &slackevents.MessageEvent{}, typ: "message"},
	"slack/event_callback.app_mention":    {kind: "event_callback", inner: &slackevents.AppMentionEvent{}, typ: "app_mention"},
	"slack/event_callback.reaction_added": {kind: "event_callback", inner: &slackevents.ReactionAddedEvent{}, typ: "reaction_added"},
	"slack/interaction.block_actions":     {kind: "interaction", typ: string(slack.InteractionTypeBlockActions)},
	"slack/interaction.view_submission":   {kind: "interaction", typ: string(slack.InteractionTypeViewSubmission)},
	"slack/slash_command":                 {kind: "slash_command"},
}

// slackGoLacks lists, per slack-go v0.36.0 type, the JSON fields Slack
// sends that the type does not declare, so that decoding drops them. Only
// these are allowed; any other key the type does not know fails the test.
var slackGoLacks = map[string]map[string]string{
	"slackevents.EventsAPICallbackEvent": {
		// https://api.slack.com/apis/events-api#callback-field: the
		// workspace or org the event happened in, sent with every event.
		"context_team_id":       "the Events API wrapper's context_team_id",
		"context_enterprise_id": "the Events API wrapper's context_enterprise_id",
	},
	"slackevents.AppMentionEvent": {
		// https://api.slack.com/events/app_mention: a mention typed by a
		// user is a message, and carries the message's client_msg_id and
		// team (slackevents.MessageEvent declares both).
		"client_msg_id": "the mentioning message's client_msg_id",
		"team":          "the mentioning user's workspace",
	},
	"slack.Message": {
		// https://api.slack.com/reference/interaction-payloads/block-actions:
		// the message an app posted names the app (slack.BotProfile
		// declares app_id, slack.Message does not).
		"app_id": "the posting app's ID on a bot message",
	},
	"slack.BlockAction": {
		// https://api.slack.com/reference/interaction-payloads/block-actions:
		// a button action repeats the button's style.
		"style": "a button action's style (primary, danger)",
	},
}

// slackComplete lists the slack-go types whose every JSON field the
// fixtures must carry, wherever such an object appears, and the fields
// Slack leaves out of that object in the delivery the fixture shows. The
// other types (MessageEvent, InteractionCallback, ...) declare the fields
// of many variants at once, so for them only unknown and lost fields are
// checked.
var slackComplete = map[string]map[string]string{
	"slackevents.EventsAPIURLVerificationEvent": {},
	"slackevents.EventsAPICallbackEvent": {
		"enterprise_id": "sent only for an event in an Enterprise Grid org",
		"authed_users":  "no longer sent: https://api.slack.com/changelog/2020-09-15-events-api-truncate-authed-users",
		"authed_teams":  "no longer sent: https://api.slack.com/changelog/2020-09-15-events-api-truncate-authed-users",
	},
	"slackevents.ReactionAddedEvent": {},
	"slack.SlashCommand": {
		"enterprise_id":   "sent only from an Enterprise Grid workspace",
		"enterprise_name": "sent only from an Enterprise Grid workspace",
	},
	"slack.View": {
		// slack.View embeds SlackResponse, the envelope of Web API answers.
		"ok": "Web API answers only", "error": "Web API answers only", "warning": "Web API answers only",
		"errors": "Web API answers only", "response_metadata": "Web API answers only",
		"needed": "Web API answers only", "provided": "Web API answers only",
	},
}

// TestSlackFixturesCovered fails when an event the issue names has no
// fixture, or a Slack fixture has no entry in slackFixtures (so it would go
// unchecked).
func TestSlackFixturesCovered(t *testing.T) {
	var have []string
	for _, f := range webhooktest.Fixtures("slack") {
		have = append(have, f.Name)
		if _, ok := slackFixtures[f.Name]; !ok {
			t.Errorf("fixture %s is not checked: add it to slackFixtures", f.Name)
		}
		if f.Reference == "" {
			t.Errorf("fixture %s: its sidecar names no reference", f.Name)
		}
	}
	for name := range slackFixtures {
		if !slices.Contains(have, name) {
			t.Errorf("no fixture %s in webhooktest", name)
		}
	}
}

// TestSlackFixturesDecode decodes every Slack fixture with slack-go the way
// a handler would, then checks that slack-go's type declares every field
// the fixture carries (except those listed in slackGoLacks) and that every
// field the fixture sets comes back set.
//
// encoding/json's DisallowUnknownFields does not reach into types with
// their own UnmarshalJSON, and slack-go has several (MessageEvent,
// InteractionCallback, Blocks, ActionCallbacks), so the check walks the
// fixture's JSON beside the decoded value instead; see slackCompare.
func TestSlackFixturesDecode(t *testing.T) {
	for _, f := range webhooktest.Fixtures("slack") {
		want, ok := slackFixtures[f.Name]
		if !ok {
			continue // reported by TestSlackFixturesCovered
		}
		t.Run(f.Name, func(t *testing.T) {
			for _, p := range slackDecodeProblems(t, f, want.kind, want.inner, want.typ) {
				t.Error(p)
			}
		})
	}
}

// slackDecodeProblems decodes f with slack-go and returns what is wrong.
func slackDecodeProblems(t *testing.T, f webhooktest.Fixture, kind string, inner any, typ string) []string {
	t.Helper()
	c := &slackChecker{}
	switch kind {
	case "url_verification", "event_callback":
		if f.ContentType != "application/json" {
			return []string{fmt.Sprintf("content type %s; the Events API posts JSON", f.ContentType)}
		}
		ev, err := slackevents.ParseEvent(json.RawMessage(f.Body), slackevents.OptionNoVerifyToken())
		if err != nil {
			return []string{fmt.Sprintf("slackevents.ParseEvent: %v", err)}
		}
		body := slackJSON(t, f.Body)
		if kind == "url_verification" {
			v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
			if !ok || ev.Type != slackevents.URLVerification {
				return []string{fmt.Sprintf("ParseEvent gave %s %T, want url_verification", ev.Type, ev.Data)}
			}
			c.compare("", body, reflect.ValueOf(v))
			return c.problems
		}
		outer, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if !ok || ev.Type != slackevents.CallbackEvent {
			return []string{fmt.Sprintf("ParseEvent gave %s %T, want event_callback", ev.Type, ev.Data)}
		}
		c.compare("", body, reflect.ValueOf(outer))
		if ev.InnerEvent.Type != typ {
			c.fail("inner event type %q, want %q", ev.InnerEvent.Type, typ)
		}
		if reflect.TypeOf(ev.InnerEvent.Data) != reflect.TypeOf(inner) {
			c.fail("ParseEvent gave the inner event as %T, want %T", ev.InnerEvent.Data, inner)
			return c.problems
		}
		obj, _ := body.(map[string]any)
		c.compare("event", obj["event"], reflect.ValueOf(ev.InnerEvent.Data))
	case "interaction":
		req := slackFormRequest(f)
		ic, err := slack.InteractionCallbackParse(req)
		if err != nil {
			return []string{fmt.Sprintf("slack.InteractionCallbackParse: %v", err)}
		}
		if string(ic.Type) != typ {
			c.fail("payload type %q, want %q", ic.Type, typ)
		}
		form, err := url.ParseQuery(string(f.Body))
		if err != nil || len(form) != 1 {
			return []string{fmt.Sprintf("an interaction body is the single form field payload= (got %v, %v)", form, err)}
		}
		c.compare("", slackJSON(t, []byte(form.Get("payload"))), reflect.ValueOf(&ic))
	case "slash_command":
		cmd, err := slack.SlashCommandParse(slackFormRequest(f))
		if err != nil {
			return []string{fmt.Sprintf("slack.SlashCommandParse: %v", err)}
		}
		form, err := url.ParseQuery(string(f.Body))
		if err != nil {
			return []string{fmt.Sprintf("form body: %v", err)}
		}
		// Form values are strings; compare them as the JSON object
		// slack-go's json tags describe, booleans as booleans.
		obj := make(map[string]any, len(form))
		for k, vs := range form {
			if len(vs) != 1 {
				c.fail("form field %s is sent %d times", k, len(vs))
			}
			obj[k] = vs[0]
			if vs[0] == "true" || vs[0] == "false" {
				obj[k] = vs[0] == "true"
			}
		}
		c.compare("", obj, reflect.ValueOf(&cmd))
	default:
		return []string{"unknown kind " + kind}
	}
	return c.problems
}

func slackFormRequest(f webhooktest.Fixture) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "https://example.com/slack", bytes.NewReader(f.Body))
	req.Header.Set("Content-Type", f.ContentType)
	return req
}

func slackJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return v
}

// slackChecker collects what slackCompare finds.
type slackChecker struct{ problems []string }

func (c *slackChecker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// compare walks the JSON value v (decoded with UseNumber) beside rv, what
// slack-go decoded from it. An object key the Go type does not declare is a
// problem unless slackGoLacks allows it for that type; a value that is set
// in the JSON (not null, false, 0, "" or empty) must be set in rv, and a
// string must come back equal. Types with their own UnmarshalJSON are
// followed where they put the data: slack.Blocks into its BlockSet and
// slack.BlockElements into its ElementSet (each an interface holding the
// concrete type), ActionCallbacks into
// BlockActions, MessageEvent into itself and its Message.
func (c *slackChecker) compare(path string, v any, rv reflect.Value) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			if slackSet(v) {
				c.fail("%s: set in the fixture, nil after decoding", slackPath(path))
			}
			return
		}
		rv = rv.Elem()
	}
	switch rv.Type() {
	case reflect.TypeFor[json.RawMessage](), reflect.TypeFor[json.Number]():
		if slackSet(v) && rv.Len() == 0 {
			c.fail("%s: set in the fixture, empty after decoding", slackPath(path))
		}
		return // kept raw: nothing decoded to compare
	case reflect.TypeFor[slack.Blocks]():
		rv = rv.FieldByName("BlockSet")
	case reflect.TypeFor[slack.BlockElements]():
		rv = rv.FieldByName("ElementSet")
	case reflect.TypeFor[slack.ActionCallbacks]():
		rv = rv.FieldByName("BlockActions")
	}
	switch v := v.(type) {
	case nil:
		return
	case map[string]any:
		targets := []reflect.Value{rv}
		if rv.Type() == reflect.TypeFor[slackevents.MessageEvent]() {
			if m := rv.FieldByName("Message"); !m.IsNil() {
				targets = append(targets, m.Elem())
			}
		}
		c.compareObject(path, v, targets)
	case []any:
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			c.fail("%s: an array in the fixture, %s in slack-go", slackPath(path), rv.Type())
			return
		}
		if rv.Len() != len(v) {
			c.fail("%s: %d elements in the fixture, %d after decoding", slackPath(path), len(v), rv.Len())
			return
		}
		for i, e := range v {
			c.compare(fmt.Sprintf("%s[%d]", path, i), e, rv.Index(i))
		}
	case string:
		if rv.Kind() == reflect.String && rv.String() != v {
			c.fail("%s: %q in the fixture, %q after decoding", slackPath(path), v, rv.String())
		} else if v != "" && rv.IsZero() {
			c.fail("%s: %q in the fixture, zero after decoding", slackPath(path), v)
		}
	default: // bool, json.Number
		if slackSet(v) && rv.IsZero() {
			c.fail("%s: %v in the fixture, zero after decoding", slackPath(path), v)
		}
	}
}

func (c *slackChecker) compareObject(path string, obj map[string]any, targets []reflect.Value) {
	rv := targets[0]
	if rv.Kind() == reflect.Map {
		for k, e := range obj {
			ev := rv.MapIndex(reflect.ValueOf(k))
			if !ev.IsValid() {
				c.fail("%s: key missing after decoding", slackPath(path+"."+k))
				continue
			}
			c.compare(path+"."+k, e, ev)
		}
		return
	}
	if rv.Kind() != reflect.Struct {
		c.fail("%s: an object in the fixture, %s in slack-go", slackPath(path), rv.Type())
		return
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		found := false
		for _, target := range targets {
			if fv, ok := slackField(target, k); ok {
				c.compare(strings.TrimPrefix(path+"."+k, "."), obj[k], fv)
				found = true
				break
			}
		}
		if !found {
			if _, ok := slackGoLacks[rv.Type().String()][k]; !ok {
				c.fail("%s: slack-go's %s has no field %q (unknown field)", slackPath(path), rv.Type(), k)
			}
		}
	}
	if notSent, ok := slackComplete[rv.Type().String()]; ok {
		for _, name := range slackFieldNames(rv.Type()) {
			if _, sent := obj[name]; !sent && notSent[name] == "" {
				c.fail("%s: field %q of slack-go's %s is missing", slackPath(path), name, rv.Type())
			}
		}
	}
}

// slackFieldNames returns the JSON names of struct type t's fields, as
// encoding/json sees them.
func slackFieldNames(t reflect.Type) []string {
	var names []string
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() || sf.Anonymous && sf.Tag.Get("json") == "" {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = sf.Name
		}
		names = append(names, name)
	}
	return names
}

// slackField returns the field of struct value rv that encoding/json
// decodes the key k into: by json tag or name, promoted fields of embedded
// structs included, an exact match before a case-insensitive one.
func slackField(rv reflect.Value, k string) (reflect.Value, bool) {
	var fold []int
	for _, sf := range reflect.VisibleFields(rv.Type()) {
		if !sf.IsExported() || sf.Anonymous && sf.Tag.Get("json") == "" {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if name == k {
			return rv.FieldByIndex(sf.Index), true
		}
		if fold == nil && strings.EqualFold(name, k) {
			fold = sf.Index
		}
	}
	if fold != nil {
		return rv.FieldByIndex(fold), true
	}
	return reflect.Value{}, false
}

// slackSet reports whether a JSON value carries something: not null,
// false, zero, an empty string or an empty array or object.
func slackSet(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func slackPath(p string) string {
	if p = strings.TrimPrefix(p, "."); p == "" {
		return "(top level)"
	}
	return p
}

// TestSlackCheckerFails shows that the checks above can fail: each case
// spoils a copy of a fixture and expects the problem to be reported.
func TestSlackCheckerFails(t *testing.T) {
	tests := []struct {
		name, fixture string
		spoil         func(string) string
		want          string
	}{
		{"field left out", "slack/event_callback.reaction_added",
			func(b string) string { return strings.Replace(b, `"item_user":"U2147483697",`, "", 1) },
			`field "item_user" of slack-go's slackevents.ReactionAddedEvent is missing`},
		{"unknown field", "slack/event_callback.reaction_added",
			func(b string) string { return strings.Replace(b, `"reaction":`, `"reactions_count":2,"reaction":`, 1) },
			`has no field "reactions_count"`},
		{"allowance is per type", "slack/event_callback.message",
			func(b string) string {
				return strings.Replace(b, `"type":"message",`, `"type":"message","context_team_id":"T1",`, 1)
			},
			`has no field "context_team_id"`},
		{"unknown field in a form payload", "slack/interaction.view_submission",
			func(b string) string {
				return strings.Replace(b, "%22callback_id%22", "%22bogus%22%3A1%2C%22callback_id%22", 1)
			},
			`has no field "bogus"`},
		{"unknown field in a block", "slack/interaction.view_submission",
			func(b string) string {
				return strings.Replace(b, "%22multiline%22", "%22bogus%22%3A1%2C%22multiline%22", 1)
			},
			`has no field "bogus"`},
		{"slash command field left out", "slack/slash_command",
			func(b string) string { return strings.Replace(b, "&user_name=kim.lee", "", 1) },
			`field "user_name" of slack-go's slack.SlashCommand is missing`},
		{"unknown slash command field", "slack/slash_command",
			func(b string) string { return b + "&locale=en-US" },
			`has no field "locale"`},
		{"wrong inner event", "slack/event_callback.message",
			func(b string) string { return strings.Replace(b, `"type":"message",`, `"type":"app_mention",`, 1) },
			`want *slackevents.MessageEvent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := webhooktest.MustFixture(t, tt.fixture)
			body := tt.spoil(string(f.Body))
			if body == string(f.Body) {
				t.Fatalf("the spoiler changed nothing in %s: update the test", tt.fixture)
			}
			f.Body = []byte(body)
			want := slackFixtures[tt.fixture]
			problems := slackDecodeProblems(t, f, want.kind, want.inner, want.typ)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q; want one containing %q", problems, tt.want)
			}
		})
	}
}
