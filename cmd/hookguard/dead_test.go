package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/riverkit"
	"github.com/hookguard/hookguard/verify"
)

var quietLog = slog.New(slog.DiscardHandler)

// hdrVerifier accepts every request and takes the provider, event ID and
// type from the X-Provider, X-Id and X-Type headers: these tests are
// about dead letters, and need events of several providers.
type hdrVerifier struct{}

func (hdrVerifier) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	return verify.Delivery{Provider: req.Header.Get("X-Provider"), ID: req.Header.Get("X-Id"), Type: req.Header.Get("X-Type")}, nil
}

// dlEvent is an event the tests dead-letter, and the error its handler
// fails with.
type dlEvent struct {
	provider, typ, id, err, body string
}

var dlEvents = []dlEvent{
	{"stripe", "invoice.paid", "evt_1", "db timeout", `{"id":"evt_1","object":"event"}`},
	{"github", "push", "evt_2", "bad payload", `{"ref":"main"}`},
	{"stripe", "charge.failed", "evt_3", "db timeout", `{"id":"evt_3"}`},
}

// failAll is a handler that fails each event permanently with its
// dlEvent's error.
func failAll(evs []dlEvent) hookguard.Handler {
	return hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		for _, d := range evs {
			if d.id == e.ID {
				return hookguard.Permanent(errors.New(d.err))
			}
		}
		return hookguard.Permanent(errors.New("unknown event"))
	})
}

// deadCLIThrough posts each event to a receiver on q (its own store:
// the atomic path serve uses) and waits for the queue to dead-letter it.
func deadCLIThrough(t *testing.T, q hookguard.Queue, store dedupe.Store, dead <-chan hookguard.Event, evs []dlEvent) {
	t.Helper()
	r, err := hookguard.New(hdrVerifier{}, nil, hookguard.WithQueue(q), hookguard.WithStore(store), hookguard.WithAckTimeout(15*time.Second))
	require.NoError(t, err)
	for _, d := range evs {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(d.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Provider", d.provider)
		req.Header.Set("X-Id", d.id)
		req.Header.Set("X-Type", d.typ)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		require.Equal(t, http.StatusOK, w.Code, "delivery of %q", d.id)
		select {
		case e := <-dead:
			require.Equal(t, d.id, e.ID)
		case <-time.After(20 * time.Second):
			require.FailNow(t, "timed out waiting for the dead letter of "+d.id)
		}
	}
}

// handledBy returns a handler that sends the ID of every event it
// handles on the returned channel.
func handledBy() (hookguard.Handler, chan string) {
	ch := make(chan string, 16)
	return hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
		ch <- e.ID
		return nil
	}), ch
}

// expectHandled waits for id on ch.
func expectHandled(t *testing.T, ch <-chan string, id string) {
	t.Helper()
	select {
	case got := <-ch:
		require.Equal(t, id, got)
	case <-time.After(20 * time.Second):
		require.FailNow(t, "timed out waiting for the replayed "+id+" to be handled")
	}
}

// expectQuiet checks that nothing is handled for a while (several fetch
// polls of the queues here): a second replay must enqueue nothing.
func expectQuiet(t *testing.T, ch <-chan string) {
	t.Helper()
	select {
	case id := <-ch:
		t.Fatalf("%s handled again", id)
	case <-time.After(300 * time.Millisecond):
	}
}

// listJSON runs "dead list --json" with args and returns its lines.
func listJSON(t *testing.T, args ...string) []deadListLine {
	t.Helper()
	r := runCmd(t, "", append([]string{"dead", "list", "--json"}, args...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	var out []deadListLine
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var d deadListLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &d), "line %q", sc.Text())
		out = append(out, d)
	}
	return out
}

func jsonIDs(ds []deadListLine) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// tableIDs returns the EVENT ID column of a "dead list" table.
func tableIDs(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.NotEmpty(t, lines)
	if lines[0] == "no dead letters" {
		return []string{}
	}
	head := lines[0]
	require.True(t, strings.HasPrefix(head, "REF "), "table header %q", head)
	for _, col := range []string{"AGE", "PROVIDER", "TYPE", "EVENT ID", "ATTEMPTS", "REPLAYS", "ERROR"} {
		require.Contains(t, head, col)
	}
	at := strings.Index(head, "EVENT ID")
	ids := []string{}
	for _, l := range lines[1:] {
		ids = append(ids, strings.Fields(l[at:])[0])
	}
	return ids
}

// TestDeadRedis produces dead letters through a receiver and a Redis
// queue whose handler fails, then lists (with each filter), shows,
// replays (the replayed event is handled by a live queue with a fixed
// handler, once; the second replay says duplicate) and drops them with
// "hookguard dead".
func TestDeadRedis(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { testDeadRedis(t, shards) })
	}
}

// testDeadRedis is TestDeadRedis on a queue of the given shard count,
// given to the command as --shards.
func testDeadRedis(t *testing.T, shards int) {
	srv := redistest.Start(t)
	const name = "deadcli"
	dead := make(chan hookguard.Event, 8)
	failing, err := rediskit.NewQueue(t.Context(), srv.Client(), failAll(dlEvents), rediskit.WithName(name),
		rediskit.WithShards(shards),
		rediskit.WithBlock(50*time.Millisecond), rediskit.WithLogger(quietLog),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	require.NoError(t, err)
	deadCLIThrough(t, failing, failing.Store(), dead, dlEvents)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, failing.Shutdown(ctx))
	be := []string{"--redis", srv.URL(), "--name", name, "--shards", strconv.Itoa(shards)}

	t.Run("list", func(t *testing.T) { testDeadList(t, be) })

	all := listJSON(t, be...)
	require.Equal(t, []string{"evt_1", "evt_2", "evt_3"}, jsonIDs(all))
	assert.Equal(t, "stripe", all[0].Provider)
	assert.Equal(t, "invoice.paid", all[0].Type)
	assert.Equal(t, "db timeout", all[0].Error)
	assert.Equal(t, 1, all[0].Attempts)
	assert.Zero(t, all[0].Replays)
	assert.WithinDuration(t, time.Now(), all[0].At, time.Minute)

	t.Run("show", func(t *testing.T) { testDeadShow(t, be, all[0].Ref) })

	h, handled := handledBy()
	live, err := rediskit.NewQueue(t.Context(), srv.Client(), h, rediskit.WithName(name), rediskit.WithShards(shards),
		rediskit.WithBlock(50*time.Millisecond), rediskit.WithLogger(quietLog))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = live.Shutdown(ctx)
	})
	t.Run("replay", func(t *testing.T) { testDeadReplay(t, be, all, handled) })
	t.Run("drop", func(t *testing.T) { testDeadDrop(t, be, all) })

	// A queue of another name has none of these dead letters.
	other := runCmd(t, "", "dead", "show", all[1].Ref, "--redis", srv.URL(), "--name", "other", "--shards", strconv.Itoa(shards))
	assert.Equal(t, 1, other.code)
	assert.Contains(t, other.stderr, "no such dead letter")
}

// TestDeadPostgres is TestDeadRedis on a River queue in PostgreSQL, with
// its queue and table named by --queue and --table. No output holds the
// URL's password.
func TestDeadPostgres(t *testing.T) {
	pg := pgtest.Start(t, pgtest.WithFsync(false))
	const queue, table = "dead_cli", "dead_dedupe"
	require.NoError(t, riverkit.Migrate(t.Context(), pg.Pool(), riverkit.WithTable(table)))
	fast := riverkit.WithRiverConfig(func(c *river.Config) {
		c.FetchCooldown = 5 * time.Millisecond
		c.FetchPollInterval = 50 * time.Millisecond
	})
	opts := []riverkit.Option{riverkit.WithQueue(queue), riverkit.WithTable(table), riverkit.WithBackoff(0, 0),
		riverkit.WithMaintenance(0, 1), riverkit.WithLogger(quietLog), fast}
	dead := make(chan hookguard.Event, 8)
	failing, err := riverkit.NewQueue(t.Context(), pg.Pool(), failAll(dlEvents),
		append(opts, riverkit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))...)
	require.NoError(t, err)
	deadCLIThrough(t, failing, failing.Store(), dead, dlEvents)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, failing.Shutdown(ctx))
	be := []string{"--postgres", withPassword(t, pg.URL(), testPGPassword), "--queue", queue, "--table", table}

	t.Run("list", func(t *testing.T) { testDeadList(t, be) })
	all := listJSON(t, be...)
	require.Equal(t, []string{"evt_1", "evt_2", "evt_3"}, jsonIDs(all))
	t.Run("show", func(t *testing.T) { testDeadShow(t, be, all[0].Ref) })

	h, handled := handledBy()
	live, err := riverkit.NewQueue(t.Context(), pg.Pool(), h, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = live.Shutdown(ctx)
	})
	t.Run("replay", func(t *testing.T) { testDeadReplay(t, be, all, handled) })
	t.Run("drop", func(t *testing.T) { testDeadDrop(t, be, all) })

	// The default queue holds none of them; a database without the
	// schema is an error that says so.
	other := runCmd(t, "", "dead", "list", "--postgres", be[1], "--table", table)
	assert.Equal(t, 0, other.code, other.stderr)
	assert.Equal(t, "no dead letters\n", other.stdout)
	assertNoPassword(t, other)
	bare := pgtest.Start(t, pgtest.WithFsync(false))
	r := runCmd(t, "", "dead", "list", "--postgres", withPassword(t, bare.URL(), testPGPassword))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no hookguard schema")
	assertNoPassword(t, r)
}

// testDeadList checks the table and each filter on dlEvents' dead
// letters.
func testDeadList(t *testing.T, be []string) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"all", nil, []string{"evt_1", "evt_2", "evt_3"}},
		{"provider", []string{"--provider", "stripe"}, []string{"evt_1", "evt_3"}},
		{"type", []string{"--type", "push"}, []string{"evt_2"}},
		{"provider and type", []string{"--provider", "stripe", "--type", "charge.failed"}, []string{"evt_3"}},
		{"error", []string{"--error", "bad payload"}, []string{"evt_2"}},
		{"error matches case", []string{"--error", "DB TIMEOUT"}, []string{}},
		{"since duration", []string{"--since", "1h"}, []string{"evt_1", "evt_2", "evt_3"}},
		{"until duration", []string{"--until", "1h"}, []string{}},
		{"since time", []string{"--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, []string{}},
		{"until time", []string{"--until", time.Now().Add(time.Hour).Format(time.RFC3339)}, []string{"evt_1", "evt_2", "evt_3"}},
		{"limit", []string{"--limit", "2"}, []string{"evt_1", "evt_2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, "", append(append([]string{"dead", "list"}, be...), tc.args...)...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, tc.want, tableIDs(t, r.stdout), "table:\n%s", r.stdout)
			assert.Equal(t, tc.want, jsonIDs(listJSON(t, append(be, tc.args...)...)))
			if tc.name == "limit" {
				assert.Contains(t, r.stderr, "more may match")
			} else {
				assert.Empty(t, r.stderr)
			}
			assertNoPassword(t, r)
		})
	}
	r := runCmd(t, "", append([]string{"dead", "list"}, be...)...)
	lines := strings.Split(r.stdout, "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	for _, want := range []string{"stripe", "invoice.paid", "evt_1", "db timeout", "s  "} {
		assert.Contains(t, lines[1], want, "first row")
	}
}

// testDeadShow checks "dead show" on the dead letter of dlEvents[0].
func testDeadShow(t *testing.T, be []string, ref string) {
	r := runCmd(t, "", append([]string{"dead", "show", ref}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	for _, want := range []string{
		"ref:         " + ref + "\n",
		"provider:    stripe\n",
		"type:        invoice.paid\n",
		"event id:    evt_1\n",
		"attempts:    1\n",
		"replays:     0\n",
		"error:\n  db timeout\n",
		"  Content-Type: application/json\n",
		"  X-Id: evt_1\n",
		"body (31 bytes, JSON, indented here):\n  {\n    \"id\": \"evt_1\",\n    \"object\": \"event\"\n  }\n",
	} {
		assert.Contains(t, r.stdout, want)
	}
	assertNoPassword(t, r)
	// Flags after the reference work too.
	again := runCmd(t, "", append([]string{"dead", "show"}, append(be, ref)...)...)
	assert.Equal(t, 0, again.code, again.stderr)
	assert.Contains(t, again.stdout, "event id:    evt_1\n")

	gone := runCmd(t, "", append([]string{"dead", "show", "999999"}, be...)...)
	assert.Equal(t, 1, gone.code)
	assert.Contains(t, gone.stderr, "no such dead letter")
}

// testDeadReplay replays dlEvents[0] twice (handled once), then
// dlEvents[1] with --all and a filter.
func testDeadReplay(t *testing.T, be []string, all []deadListLine, handled <-chan string) {
	r := runCmd(t, "", append([]string{"dead", "replay", all[0].Ref}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, all[0].Ref+": replayed\nreplayed 1, already handled 0, failed 0\n", r.stdout)
	expectHandled(t, handled, "evt_1")

	r = runCmd(t, "", append([]string{"dead", "replay", all[0].Ref}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, all[0].Ref+": already handled (duplicate)\nreplayed 0, already handled 1, failed 0\n", r.stdout)
	expectQuiet(t, handled)
	assert.Equal(t, 1, listJSON(t, append(be, "--type", "invoice.paid")...)[0].Replays)

	// --all with a filter: evt_2 is replayed; with no filter, evt_1 is a
	// duplicate, evt_2 too, and evt_3 is replayed.
	r = runCmd(t, "", append([]string{"dead", "replay", "--all", "--provider", "github"}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, all[1].Ref+": replayed\nreplayed 1, already handled 0, failed 0\n", r.stdout)
	expectHandled(t, handled, "evt_2")
	r = runCmd(t, "", append([]string{"dead", "replay", "--all"}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.True(t, strings.HasSuffix(r.stdout, "replayed 1, already handled 2, failed 0\n"), r.stdout)
	expectHandled(t, handled, "evt_3")
	expectQuiet(t, handled)

	// A reference that names nothing fails, the others go on.
	r = runCmd(t, "", append([]string{"dead", "replay", "999999", all[0].Ref}, be...)...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "999999: failed: ")
	assert.Contains(t, r.stdout, "replayed 0, already handled 1, failed 1\n")
	assertNoPassword(t, r)
}

// testDeadDrop drops: refused without --yes when standard input is not a
// terminal; asked on a terminal; done with --yes.
func testDeadDrop(t *testing.T, be []string, all []deadListLine) {
	r := runCmd(t, "y\n", append([]string{"dead", "drop", all[2].Ref}, be...)...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "pass --yes")
	assert.Empty(t, r.stdout)
	r = runCmd(t, "", append([]string{"dead", "drop", "--all"}, be...)...)
	assert.Equal(t, exitUsage, r.code)
	assert.Len(t, listJSON(t, be...), 3, "nothing dropped without --yes")

	deadIsTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { deadIsTerminal = defaultDeadIsTerminal })
	r = runCmd(t, "n\n", append([]string{"dead", "drop", "--all", "--provider", "stripe"}, be...)...)
	assert.Equal(t, exitFail, r.code)
	assert.Contains(t, r.stderr, "drop 2 dead letters? [y/N] ")
	assert.Contains(t, r.stderr, "nothing dropped")
	r = runCmd(t, "", append([]string{"dead", "drop", all[2].Ref}, be...)...)
	assert.Equal(t, exitFail, r.code, "no answer is no")
	assert.Len(t, listJSON(t, be...), 3, "nothing dropped after no")
	r = runCmd(t, "y\n", append([]string{"dead", "drop", all[2].Ref}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, "drop 1 dead letters? [y/N] ")
	assert.Equal(t, all[2].Ref+": dropped\ndropped 1, failed 0\n", r.stdout)
	deadIsTerminal = defaultDeadIsTerminal

	r = runCmd(t, "", append([]string{"dead", "drop", "--yes", all[1].Ref}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, all[1].Ref+": dropped\ndropped 1, failed 0\n", r.stdout)
	assert.Equal(t, []string{"evt_1"}, jsonIDs(listJSON(t, be...)))
	r = runCmd(t, "", append([]string{"dead", "drop", "--yes", all[1].Ref}, be...)...)
	assert.Equal(t, exitFail, r.code, "dropping again")
	assert.Contains(t, r.stderr, "no such dead letter")

	r = runCmd(t, "", append([]string{"dead", "drop", "--yes", "--all"}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, all[0].Ref+": dropped\ndropped 1, failed 0\n", r.stdout)
	r = runCmd(t, "", append([]string{"dead", "drop", "--yes", "--all"}, be...)...)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, "no dead letters match; nothing dropped\n", r.stdout)
	assertNoPassword(t, r)
}

// defaultDeadIsTerminal is deadIsTerminal as the program sets it.
var defaultDeadIsTerminal = deadIsTerminal

// TestDeadEscapes: an event whose type, ID, headers, body and error hold
// terminal escape sequences and a bidirectional override is printed with
// them escaped by list (table and JSON) and show.
func TestDeadEscapes(t *testing.T) {
	srv := redistest.Start(t)
	const name = "deadesc"
	evil := dlEvent{
		provider: "stripe",
		typ:      "invoice\x1b]0;pwned\x07.paid",
		id:       "evt_\x1b[2J\u202eevil",
		err:      "boom \x1b[31mred\x1b[0m\nsecond line",
		body:     "{\"note\":\"\u202eright-to-left\"}",
	}
	raw := dlEvent{provider: "stripe", typ: "raw", id: "evt_raw", err: "x", body: "not json \x1b[31m\x9b2J\n"}
	dead := make(chan hookguard.Event, 4)
	failing, err := rediskit.NewQueue(t.Context(), srv.Client(), failAll([]dlEvent{evil, raw}), rediskit.WithName(name),
		rediskit.WithBlock(50*time.Millisecond), rediskit.WithLogger(quietLog),
		rediskit.WithDeadLetter(func(e hookguard.Event, _ error) { dead <- e }))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = failing.Shutdown(ctx)
	})
	deadCLIThrough(t, failing, failing.Store(), dead, []dlEvent{evil, raw})
	be := []string{"--redis", srv.URL(), "--name", name}

	clean := func(t *testing.T, what, out string) {
		t.Helper()
		assert.NotContains(t, out, "\x1b", "%s holds ESC", what)
		assert.NotContains(t, out, "\x07", "%s holds BEL", what)
		assert.NotContains(t, out, "\u202e", "%s holds a bidirectional override", what)
		assert.NotContains(t, out, "\x9b", "%s holds a raw CSI byte", what)
	}
	list := runCmd(t, "", append([]string{"dead", "list"}, be...)...)
	require.Equal(t, 0, list.code, list.stderr)
	clean(t, "list", list.stdout)
	assert.Contains(t, list.stdout, `"invoice\x1b]0;pwned\a.paid"`)
	assert.Contains(t, list.stdout, `"evt_\x1b[2J\u202eevil"`)
	assert.Contains(t, list.stdout, `boom \x1b[31mred\x1b[0m"...`)

	js := runCmd(t, "", append([]string{"dead", "list", "--json"}, be...)...)
	require.Equal(t, 0, js.code, js.stderr)
	clean(t, "list --json", js.stdout)
	ds := listJSON(t, be...)
	require.Len(t, ds, 2)
	assert.Equal(t, evil.typ, ds[0].Type, "the JSON still decodes to the original")
	assert.Equal(t, evil.id, ds[0].ID)
	assert.Equal(t, evil.err, ds[0].Error)

	show := runCmd(t, "", append([]string{"dead", "show", ds[0].Ref}, be...)...)
	require.Equal(t, 0, show.code, show.stderr)
	clean(t, "show", show.stdout)
	assert.Contains(t, show.stdout, `"evt_\x1b[2J\u202eevil"`)
	assert.Contains(t, show.stdout, "  X-Type: invoice\\x1b]0;pwned\\a.paid\n")
	assert.Contains(t, show.stdout, "error:\n  boom \\x1b[31mred\\x1b[0m\n  second line\n")
	assert.Contains(t, show.stdout, `"note": "\u202eright-to-left"`)

	show = runCmd(t, "", append([]string{"dead", "show", ds[1].Ref}, be...)...)
	require.Equal(t, 0, show.code, show.stderr)
	clean(t, "show of a raw body", show.stdout)
	assert.Contains(t, show.stdout, "body (18 bytes):\n  not json \\x1b[31m\\x9b2J\n")

	bad := runCmd(t, "", append([]string{"dead", "show", "\x1b[2Jref"}, be...)...)
	assert.Equal(t, exitFail, bad.code)
	clean(t, "an error naming a reference", bad.stderr)
}

// TestDeadUsage: bad usage exits 2 with a message, before any
// connection; an unreachable queue exits 1; a URL's password is never
// printed.
func TestDeadUsage(t *testing.T) {
	const pw = "s3cr3t-Redis-pw"
	rurl := "redis://:" + pw + "@127.0.0.1:1/0"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"dead"}, "Usage: hookguard dead"},
		{"unknown subcommand", []string{"dead", "purge"}, "unknown subcommand purge"},
		{"no backend", []string{"dead", "list"}, "--redis URL or --postgres URL"},
		{"both backends", []string{"dead", "list", "--redis", rurl, "--postgres", "postgres://x@127.0.0.1/db"}, "one of --redis and --postgres"},
		{"queue with redis", []string{"dead", "list", "--redis", rurl, "--queue", "q"}, "--queue and --table apply to --postgres"},
		{"name with postgres", []string{"dead", "list", "--postgres", "postgres://127.0.0.1/db", "--name", "n"}, "--name, --shards and --former-shards apply to --redis"},
		{"bad name", []string{"dead", "list", "--redis", "redis://127.0.0.1:1/0", "--name", "a{b}"}, "WithName"},
		{"bad since", []string{"dead", "list", "--redis", rurl, "--since", "yesterday"}, "--since"},
		{"negative since", []string{"dead", "list", "--redis", rurl, "--since", "-2h"}, "positive duration"},
		{"negative limit", []string{"dead", "list", "--redis", rurl, "--limit", "-1"}, "--limit -1"},
		{"list with a reference", []string{"dead", "list", "1-0", "--redis", rurl}, "list takes no reference"},
		{"show without reference", []string{"dead", "show", "--redis", rurl}, "show takes one reference"},
		{"replay nothing", []string{"dead", "replay", "--redis", rurl}, "references"},
		{"replay refs and all", []string{"dead", "replay", "1-0", "--all", "--redis", rurl}, "not both"},
		{"replay refs and filter", []string{"dead", "replay", "1-0", "--provider", "x", "--redis", rurl}, "give no filter"},
		{"drop without yes", []string{"dead", "drop", "1-0", "--redis", rurl}, "pass --yes"},
		{"bad redis url", []string{"dead", "list", "--redis", "redis://:" + pw + "@host:%zz/0"}, "--redis"},
		{"bad postgres url", []string{"dead", "list", "--postgres", "postgres://u:" + pw + "@host:%zz/db"}, "--postgres"},
		{"bad queue", []string{"dead", "list", "--postgres", "postgres://127.0.0.1:1/db", "--queue", "Bad Name"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, "", tc.args...)
			assert.Equal(t, exitUsage, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stderr+r.stdout, pw)
		})
	}

	down := runCmd(t, "", "dead", "list", "--redis", rurl)
	assert.Equal(t, exitFail, down.code)
	assert.Contains(t, down.stderr, "127.0.0.1:1")
	assert.NotContains(t, down.stderr+down.stdout, pw)

	help := runCmd(t, "", "dead", "replay", "-h")
	assert.Equal(t, 0, help.code)
	for _, f := range []string{"--all", "--redis", "--postgres", "--name", "--queue", "--table", "--provider", "--since"} {
		assert.Regexp(t, `\n  `+f+`[ \n]`, help.stdout)
	}
	assert.Equal(t, runCmd(t, "", "dead", "-h"), runCmd(t, "", "help", "dead"), "help dead")
}
