package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium (or Chrome) binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startBrowser starts headless Chromium for one test and returns its
// context (45 s for the test's actions), step, which runs actions and
// fails the test on error, and poll, which waits up to 15 s for a
// JavaScript condition. The test's cleanup stops the browser.
//
// It skips the test in -short mode or when no Chromium is installed,
// unless HOOKGUARD_REQUIRE_BROWSER=1 (as CI sets), where a missing
// browser fails it.
func startBrowser(t *testing.T) (ctx context.Context, step func(what string, actions ...chromedp.Action[chromedp.Void]), poll func(what, js string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := findChromium()
	if bin == "" {
		if os.Getenv("HOOKGUARD_REQUIRE_BROWSER") == "1" {
			t.Fatal("HOOKGUARD_REQUIRE_BROWSER=1 but no chromium binary is on PATH; install it with: apt-get install -y chromium")
		}
		t.Skip("no chromium binary on PATH (apt-get install -y chromium); skipping the browser test. Set HOOKGUARD_REQUIRE_BROWSER=1 to make this a failure")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.WindowSize(1400, 860),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	// The first action starts the browser and must not run under a
	// timeout (chromedp.Run's doc); later ones do.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 45*time.Second)
	t.Cleanup(cancel)
	step = func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll = func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	return ctx, step, poll
}

// TestInspectorInBrowser drives the inspector page in headless Chromium:
// the page, opened before any delivery, must show a valid, a duplicate and
// a tampered delivery with the right outcomes without a reload; a click
// shows a delivery's masked headers and indented body; the Re-send button
// must add a duplicate row. It saves a screenshot and logs its path (set
// HOOKGUARD_INSPECTOR_SCREENSHOT to a file path to write it there too).
//
// It skips when no Chromium is installed, unless HOOKGUARD_REQUIRE_BROWSER=1
// (as CI sets), where a missing browser fails it.
func TestInspectorInBrowser(t *testing.T) {
	ctx, step, poll := startBrowser(t)
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret)
	ic := newInspectorClient(t, srv)

	rowsJS := `Array.from(document.querySelectorAll("#deliveries tbody tr[data-seq]")).map(tr => [tr.dataset.seq, tr.querySelector("td.outcome").textContent.trim(), tr.querySelector("td.reason").textContent.trim(), tr.querySelector("td.result").textContent.trim()])`
	rows := func() [][]string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](rowsJS))
		if err != nil {
			t.Fatalf("reading the rows: %v", err)
		}
		return v
	}

	step("opening the page", chromedp.Navigate("http://"+srv.uiAddr+"/"), chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	if got := rows(); len(got) != 0 {
		t.Fatalf("rows before any delivery: %v", got)
	}

	// The three deliveries arrive while the page is open.
	if got := ic.post("evt_browser_1", false); got != http.StatusOK {
		t.Fatalf("valid = %d", got)
	}
	if got := ic.post("evt_browser_1", false); got != http.StatusOK {
		t.Fatalf("duplicate = %d", got)
	}
	if got := ic.post("evt_browser_2", true); got != http.StatusUnauthorized {
		t.Fatalf("tampered = %d", got)
	}
	poll("three rows, the first handled", `document.querySelectorAll("#deliveries tbody tr[data-seq]").length === 3 && document.querySelector('#deliveries tr[data-seq="1"] td.result').textContent === "handled"`)
	want := [][]string{
		{"3", "rejected", "signature_mismatch", ""},
		{"2", "duplicate", "", ""},
		{"1", "accepted", "", "handled"},
	}
	if got := rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows = %v; want %v", got, want)
	}

	// The detail of the valid delivery: signature masked, body indented.
	step("opening delivery 1", chromedp.Click(chromedp.CSS(`#deliveries tr[data-seq="1"] td.id`)), chromedp.WaitVisible(chromedp.CSS("#detail")))
	poll("the detail of delivery 1", `document.getElementById("detail").dataset.seq === "1" && document.querySelector("#headers tbody").rows.length > 0`)
	detail, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		title: document.getElementById("detail-title").textContent,
		headers: document.querySelector("#headers").textContent,
		body: document.getElementById("body").textContent})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail["title"], "POST /webhooks/stripe") {
		t.Errorf("detail title = %q", detail["title"])
	}
	if !strings.Contains(detail["headers"], "Stripe-Signature") || !strings.Contains(detail["headers"], "masked") || strings.Contains(detail["headers"], "v1=") {
		t.Errorf("headers = %q; want Stripe-Signature masked", detail["headers"])
	}
	if !strings.Contains(detail["body"], "\n  \"id\": \"evt_browser_1\"") {
		t.Errorf("body = %q; want indented JSON", detail["body"])
	}

	// Re-send it: the receiver has seen it, so a duplicate row appears.
	step("clicking Re-send", chromedp.Click(chromedp.CSS("#replay")))
	poll("the replayed row", `document.querySelectorAll("#deliveries tbody tr[data-seq]").length === 4`)
	got := rows()
	if !reflect.DeepEqual(got[0], []string{"4", "duplicate", "", ""}) {
		t.Errorf("newest row after Re-send = %v; want delivery 4, a duplicate", got[0])
	}
	replayOf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#deliveries tr[data-seq="4"] .replay-of').textContent`))
	if err != nil || replayOf != "↻1" {
		t.Errorf("row 4 marks a replay of %q (%v); want ↻1", replayOf, err)
	}
	poll("the chart", `document.querySelectorAll("#chart rect").length >= 3`)
	totals, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("totals").textContent`))
	if totals != "1 accepted · 2 duplicate · 1 rejected" {
		t.Errorf("chart totals = %q", totals)
	}

	// The server agrees with the page.
	var s stateJSON
	_, raw := ic.do(http.MethodGet, "/inspector/api/state", nil, nil)
	if err := json.Unmarshal(raw, &s); err != nil || len(s.Deliveries) != 4 {
		t.Errorf("state after the browser run: %v, %d deliveries", err, len(s.Deliveries))
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir, err := os.MkdirTemp("", "hookguard-inspector-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inspector.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("inspector screenshot: %s", path)
	if out := os.Getenv("HOOKGUARD_INSPECTOR_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("inspector screenshot also written to %s", out)
	}
}
