package fixturecheck_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v75/github"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookguard/hookguard/webhooktest"
)

// The GitHub fixtures are checked against two sources hookguard did not
// write:
//
//   - the JSON Schemas of @octokit/webhooks-schemas (one schema.json with a
//     definition per event and action, "push$event", "pull_request$opened";
//     additionalProperties is false almost everywhere, so a field the schema
//     does not know fails as surely as a required one left out). The package
//     is fetched with npm by .ci/run; HOOKGUARD_OCTOKIT_SCHEMAS names it.
//   - go-github's event types: each fixture decodes with github.ParseWebHook,
//     and every value the fixture sets comes back, non-nil and equal, in the
//     struct. go-github does not declare every field GitHub sends, so a key
//     it has no field for is allowed only if it is listed in
//     goGitHubLacks below.

// ghSchemaEnv names the @octokit/webhooks-schemas package directory (the one
// holding schema.json) or the schema file itself; ghRequireEnv=1 turns a
// missing schema from a skip into a failure, as in CI.
const (
	ghSchemaEnv  = "HOOKGUARD_OCTOKIT_SCHEMAS"
	ghRequireEnv = "HOOKGUARD_REQUIRE_SCHEMAS"
)

// octokitSchema returns the path of schema.json, or skips the test (fails
// it when HOOKGUARD_REQUIRE_SCHEMAS=1) when the package is not there.
func octokitSchema(t *testing.T) string {
	t.Helper()
	missing := func(why string) string {
		msg := fmt.Sprintf("%s; fetch the package with\n\tnpm install --prefix DIR @octokit/webhooks-schemas\nand set %s=DIR/node_modules/@octokit/webhooks-schemas (or the path of its schema.json)", why, ghSchemaEnv)
		if os.Getenv(ghRequireEnv) == "1" {
			t.Fatalf("%s=1 but the GitHub webhook schemas are missing: %s", ghRequireEnv, msg)
		}
		t.Skipf("GitHub fixtures not checked against @octokit/webhooks-schemas: %s", msg)
		return ""
	}
	p := os.Getenv(ghSchemaEnv)
	if p == "" {
		return missing(ghSchemaEnv + " is not set")
	}
	st, err := os.Stat(p)
	if err != nil {
		return missing(fmt.Sprintf("%s=%s: %v", ghSchemaEnv, p, err))
	}
	if st.IsDir() {
		p = filepath.Join(p, "schema.json")
		if _, err := os.Stat(p); err != nil {
			return missing(fmt.Sprintf("%s names a directory without schema.json: %v", ghSchemaEnv, err))
		}
	}
	if v, err := os.ReadFile(filepath.Join(filepath.Dir(p), "package.json")); err == nil {
		var pkg struct{ Name, Version string }
		if json.Unmarshal(v, &pkg) == nil {
			t.Logf("schemas: %s %s", pkg.Name, pkg.Version)
		}
	}
	return p
}

// githubPayload returns a GitHub fixture's JSON payload: the body, or for
// the form content type its payload field.
func githubPayload(t *testing.T, f webhooktest.Fixture) []byte {
	t.Helper()
	if f.ContentType != "application/x-www-form-urlencoded" {
		return f.Body
	}
	v, err := url.ParseQuery(string(f.Body))
	if err != nil || !v.Has("payload") {
		t.Fatalf("%s: a form body is payload=<the JSON, URL-encoded> (%v)", f.Name, err)
	}
	return []byte(v.Get("payload"))
}

// ghSchemaDefinition names the definition of @octokit/webhooks-schemas that
// a GitHub payload of event type typ must validate against:
// "TYPE$ACTION", or "TYPE$event" for events without an action (push, ping).
// It fails the test when the fixture's file name does not say the same.
func ghSchemaDefinition(t *testing.T, f webhooktest.Fixture, payload []byte) string {
	t.Helper()
	if f.Type == "" {
		t.Fatalf("%s: no type in the sidecar: GitHub sends the event type in X-GitHub-Event", f.Name)
	}
	var head struct {
		Action *string `json:"action"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	want, def := f.Type, f.Type+"$event"
	if head.Action != nil {
		want, def = f.Type+"."+*head.Action, f.Type+"$"+*head.Action
	}
	// "push-form" is the push with another content type.
	if f.Event != want && !strings.HasPrefix(f.Event, want+"-") {
		t.Errorf("%s: the sidecar's type %q and the body's action make the event %q: the file name and the payload disagree (fix the type, the action or the name: %s.json, or %s-VARIANT for another encoding)", f.Name, f.Type, want, want, want)
	}
	return def
}

func TestGitHubFixturesMatchOctokitSchemas(t *testing.T) {
	path := octokitSchema(t)
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(file)
	file.Close()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defs, _ := doc.(map[string]any)["definitions"].(map[string]any)
	if len(defs) == 0 {
		t.Fatalf("%s has no definitions: is it @octokit/webhooks-schemas' schema.json?", path)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // date-time, uri and uri-template values are checked too
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: validURITemplate})
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	fixtures := webhooktest.Fixtures("github")
	if len(fixtures) == 0 {
		t.Fatal("no GitHub fixtures")
	}
	for _, f := range fixtures {
		t.Run(f.Event, func(t *testing.T) {
			payload := githubPayload(t, f)
			def := ghSchemaDefinition(t, f, payload)
			if _, ok := defs[def]; !ok {
				t.Fatalf("%s: @octokit/webhooks-schemas has no definition %q for X-GitHub-Event %q: the fixture cannot be checked", f.Name, def, f.Type)
			}
			sch, err := c.Compile(path + "#/definitions/" + def)
			if err != nil {
				t.Fatalf("compile %s: %v", def, err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				var ve *jsonschema.ValidationError
				if errors.As(err, &ve) {
					t.Fatalf("%s does not validate against %s:\n%v", f.Name, def, ve)
				}
				t.Fatal(err)
			}
		})
	}
}

// validURITemplate checks an RFC 6570 URI template such as GitHub's
// "https://api.github.com/repos/o/r/releases{/id}": expressions are
// non-empty, unnested and closed, and the template with its expressions
// removed is an absolute URI. (jsonschema v6's own uri-template check splits
// the path at "/" first, so it rejects the "{/id}" expressions GitHub's
// templates use.)
func validURITemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	var literal strings.Builder
	for rest := s; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			literal.WriteString(rest)
			break
		}
		if rest[open] == '}' {
			return fmt.Errorf("%q: } without {", s)
		}
		literal.WriteString(rest[:open])
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] == '{' {
			return fmt.Errorf("%q: { not closed before the next {", s)
		}
		if end == 0 {
			return fmt.Errorf("%q: empty expression {}", s)
		}
		rest = rest[open+end+2:]
	}
	u, err := url.Parse(literal.String())
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI once its expressions are removed", s)
	}
	return nil
}

// goGitHubLacks lists, per go-github v75 type, the payload keys GitHub
// sends (the octokit schema check passes with them) that the type has no
// field for: a handler decoding with go-github cannot read them. Any other
// key without a field fails the test, so that a fixture gaining a key
// go-github drops, or a go-github upgrade, is noticed and this list kept
// exact.
var goGitHubLacks = map[string][]string{
	// push's repository: created_at and pushed_at are Unix seconds there,
	// and go-github has a type of its own with fewer fields.
	"PushEventRepository": {
		"allow_forking", "assignees_url", "blobs_url", "branches_url", "collaborators_url",
		"comments_url", "commits_url", "compare_url", "contents_url", "contributors_url",
		"deployments_url", "downloads_url", "events_url", "forks", "forks_url",
		"git_commits_url", "git_refs_url", "git_tags_url", "has_discussions", "has_projects",
		"hooks_url", "is_template", "issue_comment_url", "issue_events_url", "issues_url",
		"keys_url", "labels_url", "languages_url", "license", "merges_url", "milestones_url",
		"mirror_url", "notifications_url", "open_issues", "releases_url", "stargazers",
		"stargazers_url", "subscribers_url", "subscription_url", "tags_url", "teams_url",
		"trees_url", "visibility", "watchers", "web_commit_signoff_required",
	},
	"Repository":        {"forks"}, // forks_count carries the same number
	"License":           {"node_id"},
	"Hook":              {"deliveries_url"},
	"Issue":             {"performed_via_github_app", "timeline_url"},
	"IssueComment":      {"performed_via_github_app"},
	"RepositoryRelease": {"mentions_count"},
}

// ghDecoded is what comparing a payload with its go-github value found.
type ghDecoded struct {
	problems []string     // a value the fixture sets is nil or different in the struct
	unmapped []ghUnmapped // a key the struct has no field for
}

// ghUnmapped is a payload key at path that go-github's struct typ has no
// field for.
type ghUnmapped struct{ path, typ, key string }

// ghCompare walks the JSON value v (decoded with UseNumber) beside rv,
// the Go value go-github decoded it into.
func ghCompare(path string, v any, rv reflect.Value, d *ghDecoded) {
	if v == nil {
		return // null: nothing to find in the struct
	}
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			d.problems = append(d.problems, fmt.Sprintf("%s: the fixture has %s, the decoded value is nil", path, ghShort(v)))
			return
		}
		if rv.Kind() == reflect.Interface {
			return // an any field holds whatever JSON decoding made of the value
		}
		if rv.Type().Implements(reflect.TypeFor[json.Unmarshaler]()) {
			if rv.Elem().IsZero() {
				d.problems = append(d.problems, fmt.Sprintf("%s: the fixture has %s, the decoded %s is zero", path, ghShort(v), rv.Type()))
			}
			return // a type with its own decoding, such as github.Timestamp
		}
		rv = rv.Elem()
	}
	switch v := v.(type) {
	case map[string]any:
		switch rv.Kind() {
		case reflect.Struct:
			fields := ghJSONFields(rv.Type())
			for _, k := range ghSortedKeys(v) {
				idx, ok := fields[k]
				if !ok {
					d.unmapped = append(d.unmapped, ghUnmapped{path + "." + k, rv.Type().Name(), k})
					continue
				}
				fv, err := rv.FieldByIndexErr(idx)
				if err != nil {
					d.problems = append(d.problems, fmt.Sprintf("%s.%s: %v", path, k, err))
					continue
				}
				ghCompare(path+"."+k, v[k], fv, d)
			}
		case reflect.Map:
			for _, k := range ghSortedKeys(v) {
				mv := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
				if !mv.IsValid() {
					d.problems = append(d.problems, fmt.Sprintf("%s.%s: missing from the decoded map", path, k))
					continue
				}
				ghCompare(path+"."+k, v[k], mv, d)
			}
		default:
			d.problems = append(d.problems, fmt.Sprintf("%s: an object decoded into %s", path, rv.Type()))
		}
	case []any:
		if rv.Kind() != reflect.Slice || rv.Len() != len(v) {
			d.problems = append(d.problems, fmt.Sprintf("%s: %d elements decoded into %s", path, len(v), rv.Type()))
			return
		}
		for i := range v {
			ghCompare(path+"[]", v[i], rv.Index(i), d)
		}
	default:
		got, ok := ghScalar(rv)
		if !ok || got != fmt.Sprint(v) {
			d.problems = append(d.problems, fmt.Sprintf("%s: the fixture has %s, decoded %s %q", path, ghShort(v), rv.Type(), got))
		}
	}
}

// ghScalar formats a decoded string, bool or number as JSON text would.
func ghScalar(rv reflect.Value) (string, bool) {
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), true
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64), true
	}
	return "", false
}

func ghShort(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func ghSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ghJSONFields maps the JSON names of t's fields, including those promoted
// from embedded structs, to their indexes, as encoding/json sees them.
func ghJSONFields(t reflect.Type) map[string][]int {
	out := make(map[string][]int)
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			continue // its fields are promoted, and VisibleFields lists them
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := out[name]; !dup || len(f.Index) < len(out[name]) {
			out[name] = f.Index
		}
	}
	return out
}

// TestGitHubFixturesDecodeIntoGoGitHub decodes every GitHub fixture with
// go-github's github.ParseWebHook and checks that no value the fixture
// sets is nil, zero or different in the struct a handler would read, and
// that every key go-github cannot represent is one goGitHubLacks lists.
func TestGitHubFixturesDecodeIntoGoGitHub(t *testing.T) {
	fixtures := webhooktest.Fixtures("github")
	if len(fixtures) == 0 {
		t.Fatal("no GitHub fixtures")
	}
	for _, f := range fixtures {
		t.Run(f.Event, func(t *testing.T) {
			payload := githubPayload(t, f)
			event, err := github.ParseWebHook(f.Type, payload)
			if err != nil {
				t.Fatalf("go-github cannot decode %s as X-GitHub-Event %q: %v", f.Name, f.Type, err)
			}
			dec := json.NewDecoder(bytes.NewReader(payload))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var d ghDecoded
			ghCompare(reflect.TypeOf(event).Elem().Name(), v, reflect.ValueOf(event), &d)
			for _, p := range d.problems {
				t.Errorf("%s: %s", f.Name, p)
			}
			for _, u := range d.unmapped {
				if !slices.Contains(goGitHubLacks[u.typ], u.key) {
					t.Errorf("%s: %s: go-github's %s has no field %q; if GitHub sends it (the octokit schema check says so), add it to goGitHubLacks[%q]", f.Name, u.path, u.typ, u.key, u.typ)
				}
			}
		})
	}
}

// TestGHCompareFails shows the walk behind TestGitHubFixturesDecodeIntoGoGitHub
// failing: a value the JSON sets but the struct lacks, holds as nil, or
// holds differently is reported, and a key without a field is listed.
func TestGHCompareFails(t *testing.T) {
	type inner struct {
		N *int `json:"n"`
	}
	type outer struct {
		S     *string  `json:"s"`
		In    *inner   `json:"in"`
		List  []string `json:"list"`
		Maybe *string  `json:"maybe"`
	}
	s, n := "x", 2
	tests := []struct {
		name         string
		json         string
		got          outer
		wantProblems int
		wantUnmapped int
	}{
		{"all decoded", `{"s":"x","in":{"n":2},"list":["a"],"maybe":null}`, outer{S: &s, In: &inner{N: &n}, List: []string{"a"}}, 0, 0},
		{"nil where the JSON has a value", `{"s":"x","in":{"n":2}}`, outer{S: &s, In: &inner{}}, 1, 0},
		{"nil struct", `{"in":{"n":2}}`, outer{}, 1, 0},
		{"different value", `{"s":"y"}`, outer{S: &s}, 1, 0},
		{"short slice", `{"list":["a","b"]}`, outer{List: []string{"a"}}, 1, 0},
		{"key without a field", `{"s":"x","extra":1}`, outer{S: &s}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.json))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var d ghDecoded
			ghCompare("outer", v, reflect.ValueOf(&tt.got), &d)
			if len(d.problems) != tt.wantProblems || len(d.unmapped) != tt.wantUnmapped {
				t.Errorf("problems %q, unmapped %v; want %d problems, %d unmapped", d.problems, d.unmapped, tt.wantProblems, tt.wantUnmapped)
			}
		})
	}
}

// TestGitHubPushFormIsThePush checks that the form-encoded push carries,
// in its payload field, the JSON push byte for byte: GitHub sends the same
// payload with either content type.
func TestGitHubPushFormIsThePush(t *testing.T) {
	push := webhooktest.MustFixture(t, "github/push")
	form := webhooktest.MustFixture(t, "github/push-form")
	if form.ContentType != "application/x-www-form-urlencoded" || form.Type != push.Type {
		t.Fatalf("github/push-form: content type %q, type %q; want the form content type and type %q", form.ContentType, form.Type, push.Type)
	}
	if got := githubPayload(t, form); !bytes.Equal(got, push.Body) {
		t.Errorf("github/push-form's payload (%d bytes) is not github/push's body (%d bytes)", len(got), len(push.Body))
	}
}
