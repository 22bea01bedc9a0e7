package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/riverkit"
)

// errHandlerBug is what the failing handler of the dead-letter tests
// returns: the text the inspector must show.
var errHandlerBug = errors.New("handler bug: nil customer in invoice.paid")

// quiet is the logger of the test's own queues: their handler fails on
// purpose.
var quiet = slog.New(slog.DiscardHandler)

var failingHandler = hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return errHandlerBug })

// deadLetterThrough sends a signed Stripe event with ID id to a receiver
// whose queue q gives up on it at once (its handler fails), and waits
// until q has dead-lettered it: a dead letter made by the real pipeline,
// receiver, dedupe, queue and worker.
func deadLetterThrough(t *testing.T, q hookguard.Queue, store hookguard.Option, dead <-chan hookguard.Event, id string) {
	t.Helper()
	p, err := providers.New("stripe", testSecret)
	require.NoError(t, err)
	rcv, err := hookguard.New(p, nil, hookguard.WithQueue(q), store)
	require.NoError(t, err)
	hs := httptest.NewServer(rcv)
	defer hs.Close()
	status, dup, err := postStripe(context.Background(), &http.Client{Timeout: 10 * time.Second}, hs.Listener.Addr().String(), id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.False(t, dup)
	select {
	case e := <-dead:
		require.Equal(t, id, e.ID)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s was not dead-lettered within 20s", id)
	}
}

// redisDeadLetter dead-letters the event id in the default queue of the
// Redis at rs, as serve --redis names it, and returns serve's flags for it.
func redisDeadLetter(t *testing.T, id string) []string {
	return redisDeadLetterShards(t, id, 1)
}

// redisDeadLetterShards is redisDeadLetter on a queue of the given shard
// count, given to serve as --shards.
func redisDeadLetterShards(t *testing.T, id string, shards int) []string {
	rs := redistest.Start(t)
	dead := make(chan hookguard.Event, 1)
	q, err := rediskit.NewQueue(context.Background(), rs.Client(), failingHandler, rediskit.WithMaxAttempts(1), rediskit.WithLogger(quiet),
		rediskit.WithShards(shards),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	require.NoError(t, err)
	deadLetterThrough(t, q, hookguard.WithStore(q.Store()), dead, id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, q.Shutdown(ctx))
	return []string{"--redis", rs.URL(), "--shards", strconv.Itoa(shards)}
}

// postgresDeadLetter dead-letters the event id in the default River
// queue of a new PostgreSQL, as serve --postgres names it, and returns
// serve's flags for it.
func postgresDeadLetter(t *testing.T, id string) []string {
	pg := pgtest.Start(t, pgtest.WithFsync(false))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, riverkit.Migrate(ctx, pg.Pool()))
	dead := make(chan hookguard.Event, 1)
	q, err := riverkit.NewQueue(ctx, pg.Pool(), failingHandler, riverkit.WithMaxAttempts(1), riverkit.WithLogger(quiet),
		riverkit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	require.NoError(t, err)
	deadLetterThrough(t, q, hookguard.WithStore(q.Store()), dead, id)
	require.NoError(t, q.Shutdown(ctx))
	return []string{"--postgres", withPassword(t, pg.URL(), testPGPassword)}
}

// uiRequest sends method path to the UI listener of srv with the given
// Host ("" for the address's) and headers, and returns the status and
// body.
func uiRequest(t *testing.T, srv *server, method, path, host string, h http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+srv.uiAddr+path, nil)
	require.NoError(t, err)
	for k, vs := range h {
		req.Header[k] = vs
	}
	if host != "" {
		req.Host = host
	}
	res, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b
}

// listDead returns the dead letters serve's inspector lists with query.
func listDead(t *testing.T, srv *server, query string) []inspDeadJSON {
	t.Helper()
	code, b := uiRequest(t, srv, http.MethodGet, "/inspector/api/dead"+query, "", nil)
	require.Equal(t, http.StatusOK, code, "GET /inspector/api/dead%s: %s", query, b)
	var l inspDeadListJSON
	require.NoError(t, json.Unmarshal(b, &l))
	require.NotNil(t, l.DeadLetters, "the list is null, not []: %s", b)
	return l.DeadLetters
}

// metricValue returns the value of the sample of /metrics named name
// (with any labels), and whether there is one.
func metricValue(t *testing.T, srv *server, name string) (float64, bool) {
	t.Helper()
	code, b := uiRequest(t, srv, http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, code)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(?:\{[^}]*\})? (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return v, true
}

// assertMetrics checks the dead-letter metrics of srv.
func assertMetrics(t *testing.T, srv *server, held, replayed, dropped float64) {
	t.Helper()
	for name, want := range map[string]float64{
		"hookguard_dead_letters_held":           held,
		"hookguard_dead_letters_replayed_total": replayed,
		"hookguard_dead_letters_dropped_total":  dropped,
	} {
		got, ok := metricValue(t, srv, name)
		if assert.True(t, ok, "/metrics lacks %s", name) {
			assert.Equal(t, want, got, name)
		}
	}
}

// TestInspectorDeadLetters runs the dead-letter API of serve's inspector
// against real Redis and real PostgreSQL. A dead letter made through the
// real pipeline (a receiver, the queue, a handler that fails) is listed
// with its error, attempts, provider, type and ID, filtered, and shown
// with its body indented and no credential. Replay refuses, with re-send's
// own statuses, a request without the custom header, a cross-site one and
// one with a rebinding Host; then it queues the event once (serve's
// handler prints it once) and answers duplicate the second time. /metrics
// shows one held and one replayed; drop removes it (held 0, dropped 1)
// and a second drop is 404.
func TestInspectorDeadLetters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backend func(t *testing.T, id string) []string
		refRE   string
	}{
		{"redis", redisDeadLetter, `^[0-9]+-[0-9]+$`},
		{"redis sharded", func(t *testing.T, id string) []string { return redisDeadLetterShards(t, id, 3) }, `^[0-9]+-[0-9]+@hookguard:s[0-2]of3(\.[0-9]+)?$`},
		{"postgres", postgresDeadLetter, `^[0-9]+$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "evt_dead_" + strings.ReplaceAll(tc.name, " ", "_")
			flags := tc.backend(t, id)
			srv := startServe(t, append([]string{"--addr", "127.0.0.1:0", "--secret", "stripe=" + testSecret}, flags...)...)

			// The page knows there are dead letters to list.
			code, page := uiRequest(t, srv, http.MethodGet, "/", "", nil)
			require.Equal(t, http.StatusOK, code)
			assert.Contains(t, string(page), `data-durable="true"`)
			assert.Contains(t, string(page), `id="dead-letters"`)

			ds := listDead(t, srv, "")
			require.Len(t, ds, 1, "dead letters: %+v", ds)
			d := ds[0]
			assert.Regexp(t, tc.refRE, d.Ref)
			assert.Equal(t, "stripe", d.Provider)
			assert.Equal(t, "invoice.paid", d.Type)
			assert.Equal(t, id, d.ID)
			assert.Contains(t, d.Error, errHandlerBug.Error())
			assert.Equal(t, 1, d.Attempts)
			assert.Equal(t, 0, d.Replays)
			assert.WithinDuration(t, time.Now(), d.At, time.Minute)
			assert.GreaterOrEqual(t, d.AgeS, 0.0)

			for _, f := range []struct {
				query string
				n     int
			}{
				{"?provider=stripe", 1}, {"?provider=github", 0},
				{"?type=invoice.paid", 1}, {"?type=invoice.created", 0},
				{"?error=nil+customer", 1}, {"?error=timeout", 0},
				{"?limit=1", 1},
			} {
				assert.Len(t, listDead(t, srv, f.query), f.n, "filter %s", f.query)
			}
			for _, bad := range []string{"?limit=0", "?limit=-1", "?limit=1001", "?limit=x"} {
				code, b := uiRequest(t, srv, http.MethodGet, "/inspector/api/dead"+bad, "", nil)
				assert.Equal(t, http.StatusBadRequest, code, "%s: %s", bad, b)
			}

			// One dead letter in full.
			code, b := uiRequest(t, srv, http.MethodGet, "/inspector/api/dead/"+d.Ref, "", nil)
			require.Equal(t, http.StatusOK, code, "%s", b)
			var det inspDeadDetailJSON
			require.NoError(t, json.Unmarshal(b, &det))
			assert.Equal(t, d.Ref, det.Ref)
			assert.True(t, strings.HasPrefix(det.Body, "{\n  \"id\": \""+id+"\",\n"), "body not indented: %q", det.Body)
			assert.NotContains(t, string(b), "v1=", "the detail holds a signature")
			assert.NotEmpty(t, det.Headers)
			for _, h := range det.Headers {
				assert.NotEqual(t, "Stripe-Signature", h[0], "a credential header is shown")
			}
			for _, ref := range []string{"999999", "1-1", "not-a-ref"} {
				code, b := uiRequest(t, srv, http.MethodGet, "/inspector/api/dead/"+ref, "", nil)
				assert.Equal(t, http.StatusNotFound, code, "%s: %s", ref, b)
			}

			// Refused like re-send: the same statuses for the same faults.
			_, port, err := net.SplitHostPort(srv.uiAddr)
			require.NoError(t, err)
			withHeader := http.Header{"X-Hookguard-Inspector": {"replay"}}
			for _, g := range []struct {
				name string
				host string
				h    http.Header
				want int
			}{
				{"no custom header", "", nil, http.StatusForbidden},
				{"wrong custom header", "", http.Header{"X-Hookguard-Inspector": {"yes"}}, http.StatusForbidden},
				{"cross-site", "", http.Header{"X-Hookguard-Inspector": {"replay"}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://attacker.example"}}, http.StatusForbidden},
				{"same-site", "", http.Header{"X-Hookguard-Inspector": {"replay"}, "Sec-Fetch-Site": {"same-site"}, "Origin": {"http://sub.localhost:" + port}}, http.StatusForbidden},
				{"rebinding host", "attacker.example:" + port, withHeader, http.StatusMisdirectedRequest},
				{"other port", "localhost:1", withHeader, http.StatusMisdirectedRequest},
			} {
				resend, _ := uiRequest(t, srv, http.MethodPost, "/inspector/api/deliveries/1/replay", g.host, g.h)
				replay, b := uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/replay", g.host, g.h)
				assert.Equal(t, g.want, resend, "%s: re-send", g.name)
				assert.Equal(t, g.want, replay, "%s: dead-letter replay: %s", g.name, b)
				drop, b := uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/drop", g.host, g.h)
				assert.Equal(t, g.want, drop, "%s: drop: %s", g.name, b)
			}
			assert.Equal(t, 0, listDead(t, srv, "")[0].Replays, "a refused request replayed")
			assertMetrics(t, srv, 1, 0, 0)

			// Replay: queued once, handled once by serve's handler.
			code, b = uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/replay", "", withHeader)
			require.Equal(t, http.StatusOK, code, "%s", b)
			assert.Contains(t, string(b), `"result":"replayed"`)
			select {
			case line := <-srv.stdout.lines:
				var l eventLine
				require.NoError(t, json.Unmarshal([]byte(line), &l))
				assert.Equal(t, id, l.ID)
				assert.Equal(t, "invoice.paid", l.Type)
			case <-time.After(20 * time.Second):
				t.Fatalf("the replayed event was not handled within 20s; stderr:\n%s", srv.stderr)
			}
			code, b = uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/replay", "", withHeader)
			require.Equal(t, http.StatusOK, code, "%s", b)
			assert.Contains(t, string(b), `"result":"duplicate"`)
			select {
			case line := <-srv.stdout.lines:
				t.Errorf("a second replay was handled: %s", line)
			case <-time.After(500 * time.Millisecond): // the handler would print it at once
			}
			ds = listDead(t, srv, "")
			require.Len(t, ds, 1, "the dead letter stays until dropped")
			assert.Equal(t, 1, ds[0].Replays)
			assertMetrics(t, srv, 1, 1, 0)

			// Drop.
			dropHeader := http.Header{"X-Hookguard-Inspector": {"drop"}}
			code, b = uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/drop", "", dropHeader)
			require.Equal(t, http.StatusOK, code, "%s", b)
			assert.Contains(t, string(b), `"result":"dropped"`)
			code, b = uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/drop", "", dropHeader)
			assert.Equal(t, http.StatusNotFound, code, "second drop: %s", b)
			code, b = uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/"+d.Ref+"/replay", "", withHeader)
			assert.Equal(t, http.StatusNotFound, code, "replay after drop: %s", b)
			assert.Empty(t, listDead(t, srv, ""))
			assertMetrics(t, srv, 0, 1, 1)

			assert.Equal(t, 0, srv.stop(), "stderr:\n%s", srv.stderr)
			assert.NotContains(t, srv.stderr.String(), testPGPassword)
		})
	}
}

// TestInspectorDeadLettersNeedDurableBackend: without --redis or
// --postgres, every dead-letter route answers 404 with a message naming
// them (after the same guard as re-send), the page says so, and /metrics
// has no dead-letter gauge.
func TestInspectorDeadLettersNeedDurableBackend(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret)
	for _, r := range []struct {
		method, path string
		h            http.Header
	}{
		{http.MethodGet, "/inspector/api/dead", nil},
		{http.MethodGet, "/inspector/api/dead/1-0", nil},
		{http.MethodPost, "/inspector/api/dead/1-0/replay", http.Header{"X-Hookguard-Inspector": {"replay"}}},
		{http.MethodPost, "/inspector/api/dead/1-0/drop", http.Header{"X-Hookguard-Inspector": {"drop"}}},
	} {
		code, b := uiRequest(t, srv, r.method, r.path, "", r.h)
		assert.Equal(t, http.StatusNotFound, code, "%s %s", r.method, r.path)
		var msg map[string]string
		if assert.NoError(t, json.Unmarshal(b, &msg), "%s %s: %s", r.method, r.path, b) {
			assert.Contains(t, msg["error"], "dead letters are kept only with --redis or --postgres")
		}
	}
	code, _ := uiRequest(t, srv, http.MethodPost, "/inspector/api/dead/1-0/replay", "", nil)
	assert.Equal(t, http.StatusForbidden, code, "replay without the custom header")

	code, page := uiRequest(t, srv, http.MethodGet, "/", "", nil)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(page), `data-durable="false"`)
	assert.Contains(t, string(page), "Dead letters are kept only with")
	assert.NotContains(t, string(page), `id="dead-letters"`)

	_, ok := metricValue(t, srv, "hookguard_dead_letters_held")
	assert.False(t, ok, "hookguard_dead_letters_held without a durable backend")
}

// TestInspectorDeadLettersInBrowser drives the page's Dead letters panel
// in headless Chromium against serve --redis: the dead letter shows with
// its error, attempts, provider, type and ID, its ID (which holds markup)
// as text; a click shows its body; the Replay button queues it once (the
// handler prints it) and says duplicate the second time.
func TestInspectorDeadLettersInBrowser(t *testing.T) {
	ctx, step, poll := startBrowser(t)
	id := `evt_<img src=x onerror="document.title='pwned'">`
	flags := redisDeadLetter(t, id)
	srv := startServe(t, append([]string{"--addr", "127.0.0.1:0", "--secret", "stripe=" + testSecret}, flags...)...)
	ref := listDead(t, srv, "")[0].Ref

	step("opening the page", chromedp.Navigate("http://"+srv.uiAddr+"/"), chromedp.WaitVisible(chromedp.CSS("#dead-letters")))
	poll("the dead letter's row", `document.querySelectorAll("#dead-letters tbody tr[data-ref]").length === 1`)
	row, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
		const tr = document.querySelector("#dead-letters tbody tr[data-ref]");
		const td = c => tr.querySelector("td." + c).textContent;
		return {ref: tr.dataset.ref, provider: td("provider"), type: td("type"), id: td("id"), attempts: td("attempts"),
			error: td("error"), age: td("age"), imgs: document.querySelectorAll("img").length, title: document.title};
	})()`))
	require.NoError(t, err)
	assert.Equal(t, ref, row["ref"])
	assert.Equal(t, "stripe", row["provider"])
	assert.Equal(t, "invoice.paid", row["type"])
	assert.Equal(t, id, row["id"], "the event ID is not shown as text")
	assert.Equal(t, "1", row["attempts"])
	assert.Contains(t, row["error"], errHandlerBug.Error())
	assert.Regexp(t, `^[0-9]+[smhd]`, row["age"])
	assert.EqualValues(t, 0, row["imgs"], "markup from the event became an element")
	assert.NotEqual(t, "pwned", row["title"])

	// Its detail: the body, and no Re-send button (that is for deliveries).
	step("opening the dead letter", chromedp.Click(chromedp.CSS(`#dead-letters tr[data-ref] td.error`)), chromedp.WaitVisible(chromedp.CSS("#detail")))
	poll("the dead letter's detail", `document.getElementById("detail").dataset.ref === "`+ref+`"`)
	detail, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		title: document.getElementById("detail-title").textContent,
		body: document.getElementById("body").textContent,
		resend: document.getElementById("replay").hidden})`))
	require.NoError(t, err)
	assert.Contains(t, detail["title"], "Dead letter "+ref)
	assert.Contains(t, detail["body"], "\n  \"id\": ")
	assert.Equal(t, true, detail["resend"], "the Re-send button shows for a dead letter")

	// Replay, then replay again.
	step("clicking Replay", chromedp.Click(chromedp.CSS(`#dead-letters tr[data-ref] button.replay`)))
	poll("the replay's answer", `document.getElementById("dead").dataset.last === "`+ref+` replayed"`)
	select {
	case line := <-srv.stdout.lines:
		var l eventLine
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		assert.Equal(t, id, l.ID)
	case <-time.After(20 * time.Second):
		t.Fatalf("the replayed event was not handled within 20s; stderr:\n%s", srv.stderr)
	}
	poll("the replay count", `document.querySelector("#dead-letters tr[data-ref] td.replays").textContent === "1"`)
	step("clicking Replay again", chromedp.Click(chromedp.CSS(`#dead-letters tr[data-ref] button.replay`)))
	poll("the second replay's answer", `document.getElementById("dead").dataset.last === "`+ref+` duplicate"`)
	note, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("dead-note").textContent`))
	require.NoError(t, err)
	assert.Contains(t, note, "not replayed (duplicate)")
	select {
	case line := <-srv.stdout.lines:
		t.Errorf("a second replay was handled: %s", line)
	case <-time.After(500 * time.Millisecond):
	}
	assertMetrics(t, srv, 1, 1, 0)
}
