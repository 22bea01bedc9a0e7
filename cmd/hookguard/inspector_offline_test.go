package main

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	// assetRef finds what the page loads: scripts, stylesheets, icons,
	// images (not <a> links, which are navigation).
	assetRef = regexp.MustCompile(`<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)="([^"]*)"`)
	// absURL finds absolute URLs in any text.
	absURL = regexp.MustCompile(`(?i)https?://[^\s"'<>();\\]+`)
)

// svgNS is the only absolute URL the inspector may contain: the SVG
// namespace name, which app.js passes to createElementNS and browsers
// never fetch.
const svgNS = "http://www.w3.org/2000/svg"

// The inspector uses no external resources, so it works offline: the page
// and every asset it loads come from serve itself, name no other origin,
// and are sent with a Content-Security-Policy that forbids loading
// anything else.
func TestInspectorWorksOffline(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret)
	c := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) string {
		t.Helper()
		res, err := c.Get("http://" + srv.uiAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, res.StatusCode)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !slices.ContainsFunc(strings.Split(csp, ";"), func(d string) bool { return strings.TrimSpace(d) == "default-src 'none'" }) {
			t.Errorf("GET %s: Content-Security-Policy %q lacks default-src 'none'", path, csp)
		}
		for _, u := range absURL.FindAllString(csp, -1) {
			t.Errorf("GET %s: Content-Security-Policy allows %s", path, u)
		}
		for _, u := range absURL.FindAllString(string(body), -1) {
			if u != svgNS {
				t.Errorf("GET %s: the body names %s", path, u)
			}
		}
		return string(body)
	}

	page := get("/")
	var assets []string
	for _, m := range assetRef.FindAllStringSubmatch(page, -1) {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "data:"):
			// inline: nothing to fetch
		case strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "//"):
			assets = append(assets, ref)
		default:
			t.Errorf("the page loads %q, which is not a path on serve", ref)
		}
	}
	for _, want := range []string{"/inspector/static/app.js", "/inspector/static/style.css"} {
		if !slices.Contains(assets, want) {
			t.Errorf("the page does not load %s; it loads %q", want, assets)
		}
	}
	for _, a := range assets {
		body := get(a)
		// A stylesheet could still pull in another file.
		if strings.Contains(body, "@import") {
			t.Errorf("%s imports another stylesheet", a)
		}
	}
}
