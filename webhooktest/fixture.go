package webhooktest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
)

//go:embed testdata
var fixtureFS embed.FS

// Fixture is one recorded-style delivery of a provider: the body exactly as
// the provider sends it, and what travels beside it in headers.
type Fixture struct {
	// Name is "PROVIDER/EVENT", for example "stripe/charge.refunded":
	// what [LookupFixture] and "hookguard send --fixture" take.
	Name string
	// Provider is the preset's name, as [providers.New] takes it.
	Provider string
	// Event is the file name without its extension.
	Event string
	// Description says in one line what the event is.
	Description string
	// Reference names, in one line, the published source the body was
	// written from: the provider's documentation page (a URL) or an SDK
	// type. Empty when the sidecar names none.
	Reference string
	// Type is the event type for providers that send it in a header
	// (GitHub X-GitHub-Event, Shopify X-Shopify-Topic); empty for those
	// that put it in the body.
	Type string
	// ContentType is the body's media type, application/json unless the
	// sidecar says otherwise.
	ContentType string
	// Body is the body, byte for byte.
	Body []byte
	// Header holds extra, unsigned headers the provider sends with the
	// event; it never holds a signature.
	Header http.Header
}

// clone returns a deep copy, so callers cannot alter the shared index.
func (f Fixture) clone() Fixture {
	f.Body = bytes.Clone(f.Body)
	f.Header = f.Header.Clone()
	return f
}

// sidecar is the JSON of a fixture's EVENT.meta.json file.
type sidecar struct {
	Description string            `json:"description"`
	Reference   string            `json:"reference"`
	Type        string            `json:"type"`
	ContentType string            `json:"content_type"`
	Headers     map[string]string `json:"headers"`
}

// ErrUnknownFixture is returned by [LookupFixture] for a name that is not
// one of the embedded fixtures.
var ErrUnknownFixture = errors.New("webhooktest: unknown fixture")

// ErrInvalidFixture means an embedded fixture is malformed: its sidecar
// is missing or invalid, or its body does not parse.
var ErrInvalidFixture = errors.New("webhooktest: invalid fixture")

// index holds every embedded fixture, sorted by name, and the first error
// met while loading them.
var index = sync.OnceValues(func() ([]Fixture, error) { return loadFixtures(fixtureFS, "testdata") })

// loadFixtures reads every fixture under root of fsys: one directory per
// provider, each holding EVENT.json or EVENT.form bodies and their
// EVENT.meta.json sidecars. It returns the fixtures that loaded and every
// problem joined.
func loadFixtures(fsys fs.FS, root string) ([]Fixture, error) {
	dirs, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, err
	}
	var out []Fixture
	var errs []error
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "fuzz" { // testdata/fuzz holds fuzz corpora, not a provider
			continue
		}
		provider := d.Name()
		files, err := fs.ReadDir(fsys, path.Join(root, provider))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, file := range files {
			name := file.Name()
			event, kind := strings.TrimSuffix(name, ".json"), "json"
			switch {
			case strings.HasSuffix(name, ".meta.json"):
				if !hasBody(files, strings.TrimSuffix(name, ".meta.json")) {
					errs = append(errs, fmt.Errorf("%w: %s/%s has no body (%s.json or %s.form)", ErrInvalidFixture, provider, name, strings.TrimSuffix(name, ".meta.json"), strings.TrimSuffix(name, ".meta.json")))
				}
				continue
			case strings.HasSuffix(name, ".form"):
				event, kind = strings.TrimSuffix(name, ".form"), "form"
			case !strings.HasSuffix(name, ".json"):
				errs = append(errs, fmt.Errorf("%w: %s/%s: a fixture body ends in .json or .form", ErrInvalidFixture, provider, name))
				continue
			}
			f, err := loadFixture(fsys, path.Join(root, provider), provider, event, name, kind)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b Fixture) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			errs = append(errs, fmt.Errorf("%w: %s has both a .json and a .form body", ErrInvalidFixture, out[i].Name))
		}
	}
	return out, errors.Join(errs...)
}

func hasBody(files []fs.DirEntry, event string) bool {
	for _, f := range files {
		if f.Name() == event+".json" || f.Name() == event+".form" {
			return true
		}
	}
	return false
}

// loadFixture reads and checks one fixture.
func loadFixture(fsys fs.FS, dir, provider, event, file, kind string) (Fixture, error) {
	name := provider + "/" + event
	fail := func(format string, args ...any) (Fixture, error) {
		return Fixture{}, fmt.Errorf("%w: %s: %s", ErrInvalidFixture, name, fmt.Sprintf(format, args...))
	}
	body, err := fs.ReadFile(fsys, path.Join(dir, file))
	if err != nil {
		return fail("%v", err)
	}
	raw, err := fs.ReadFile(fsys, path.Join(dir, event+".meta.json"))
	if err != nil {
		return fail("no sidecar %s.meta.json: every fixture needs one, with at least a description", event)
	}
	var meta sidecar
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return fail("sidecar %s.meta.json: %v", event, err)
	}
	if strings.TrimSpace(meta.Description) == "" || strings.Contains(meta.Description, "\n") {
		return fail("sidecar %s.meta.json: description must be one non-empty line", event)
	}
	if strings.Contains(meta.Reference, "\n") || meta.Reference != strings.TrimSpace(meta.Reference) {
		return fail("sidecar %s.meta.json: reference must be one line without surrounding spaces, or absent", event)
	}
	if meta.ContentType == "" {
		meta.ContentType = "application/json"
	}
	if err := checkBody(body, kind, meta.ContentType); err != nil {
		return fail("%v", err)
	}
	h := http.Header{}
	for k, v := range meta.Headers {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "signature") || strings.Contains(lk, "hmac") || lk == "content-type" {
			return fail("sidecar %s.meta.json: header %s is set when signing; list only unsigned extra headers", event, k)
		}
		h.Set(k, v)
	}
	return Fixture{
		Name: name, Provider: provider, Event: event,
		Description: meta.Description, Reference: meta.Reference, Type: meta.Type, ContentType: meta.ContentType,
		Body: body, Header: h,
	}, nil
}

// LookupFixture returns the embedded fixture called name, "PROVIDER/EVENT"
// as listed by [AllFixtures]. The result is a copy the caller may modify.
func LookupFixture(name string) (Fixture, error) {
	all, err := index()
	i, found := slices.BinarySearchFunc(all, name, func(f Fixture, name string) int { return strings.Compare(f.Name, name) })
	if !found {
		if err != nil {
			return Fixture{}, fmt.Errorf("%w %q (some fixtures failed to load: %v)", ErrUnknownFixture, name, err)
		}
		return Fixture{}, fmt.Errorf("%w %q: run \"hookguard send --list\", or see AllFixtures, for the names", ErrUnknownFixture, name)
	}
	return all[i].clone(), nil
}

// MustFixture returns the fixture called name, or fails the test.
func MustFixture(tb testing.TB, name string) Fixture {
	tb.Helper()
	f, err := LookupFixture(name)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// Fixtures returns the embedded fixtures of provider, sorted by name; none
// for a provider without fixtures.
func Fixtures(provider string) []Fixture {
	all, _ := index()
	var out []Fixture
	for _, f := range all {
		if f.Provider == provider {
			out = append(out, f.clone())
		}
	}
	return out
}

// AllFixtures returns every embedded fixture, sorted by name.
func AllFixtures() []Fixture {
	all, _ := index()
	out := make([]Fixture, len(all))
	for i, f := range all {
		out[i] = f.clone()
	}
	return out
}
