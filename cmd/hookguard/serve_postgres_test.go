package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard/internal/pgtest"
	"github.com/hookguard/hookguard/providers"
)

// postStripe sends a signed Stripe event with ID id to the serve at addr
// and returns its status and whether it was answered as a duplicate.
func postStripe(ctx context.Context, client *http.Client, addr, id string) (int, bool, error) {
	p, err := providers.New("stripe", testSecret)
	if err != nil {
		return 0, false, err
	}
	body := fmt.Appendf(nil, `{"id":%q,"object":"event","type":"invoice.paid"}`, id)
	req, err := signOutgoing(p, providers.Outgoing{Body: body, URL: "http://" + addr + "/webhooks/stripe"})
	if err != nil {
		return 0, false, err
	}
	res, err := send(ctx, client, req)
	if err != nil {
		return 0, false, err
	}
	return res.Status, res.Header.Get("Hookguard-Duplicate") == "true", nil
}

// TestServePostgresSharesWork starts two serve processes on different
// ports with the same --postgres (the first with --migrate, which creates
// the schema; the second finds it), sends every event to both at once,
// and checks that each event is accepted by one, answered as a duplicate
// by the other, and printed (handled) exactly once across both. Their
// logs name the database and the queue, never the password.
func TestServePostgresSharesWork(t *testing.T) {
	pg := pgtest.Start(t, pgtest.WithFsync(false))
	dbURL := withPassword(t, pg.URL(), testPGPassword)
	a := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--postgres", dbURL, "--migrate")
	b := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--postgres", dbURL)
	client := &http.Client{Timeout: 10 * time.Second}
	const events = 20
	for i := range events {
		id := fmt.Sprintf("evt_pg_%d", i)
		var wg sync.WaitGroup
		var dup [2]bool
		for j, s := range []*server{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, d, err := postStripe(context.Background(), client, s.addr, id)
				if assert.NoError(t, err, "event %d to server %d", i, j) {
					assert.Equal(t, http.StatusOK, status, "event %d to server %d", i, j)
				}
				dup[j] = d
			}()
		}
		wg.Wait()
		assert.NotEqual(t, dup[0], dup[1], "event %d: duplicate flags %v; want exactly one duplicate", i, dup)
	}
	seen := map[string]int{}
	deadline := time.After(20 * time.Second)
	for len(seen) < events {
		var raw string
		select {
		case raw = <-a.stdout.lines:
		case raw = <-b.stdout.lines:
		case <-deadline:
			t.Fatalf("only %d of %d events printed", len(seen), events)
		}
		var l eventLine
		require.NoError(t, json.Unmarshal([]byte(raw), &l), "stdout line %q", raw)
		seen[l.ID]++
	}
	select {
	case raw := <-a.stdout.lines:
		t.Errorf("extra line %s", raw)
	case raw := <-b.stdout.lines:
		t.Errorf("extra line %s", raw)
	case <-time.After(300 * time.Millisecond): // no event may be printed twice
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s printed %d times; want once", id, n)
	}
	assert.Equal(t, 0, a.stop(), "serve a; stderr:\n%s", a.stderr)
	assert.Equal(t, 0, b.stop(), "serve b; stderr:\n%s", b.stderr)

	using := fmt.Sprintf(`msg="using postgres" host=127.0.0.1 port=%d database=%s queue=hookguard table=hookguard_dedupe`, pg.Port(), pg.Database())
	for name, s := range map[string]*server{"a": a, "b": b} {
		logs := s.stderr.String()
		assert.Contains(t, logs, using, "serve %s does not log the database it uses", name)
		assert.NotContains(t, logs, testPGPassword, "serve %s logged the password", name)
	}
	assert.Contains(t, a.stderr.String(), `msg="migrated postgres"`, "serve --migrate does not log the migration")
	assert.NotContains(t, b.stderr.String(), `msg="migrated postgres"`, "serve without --migrate migrated")
}

// TestServePostgresNeedsMigration: serve never changes the schema on its
// own. On an empty database it exits 1, with a line saying to run
// "hookguard migrate", and leaves the database empty. After "migrate
// --table app_dedupe", serve without --table still finds no dedupe table
// and says to pass it; with --table app_dedupe it starts and records its
// dedupe keys there.
func TestServePostgresNeedsMigration(t *testing.T) {
	pg := pgtest.Start(t, pgtest.WithFsync(false))
	dbURL := withPassword(t, pg.URL(), testPGPassword)
	serveArgs := []string{"serve", "--addr", "127.0.0.1:0", "--secret", "stripe=" + testSecret, "--postgres", dbURL}

	r := runCmd(t, "", serveArgs...)
	assert.Equal(t, exitFail, r.code, "serve on an empty database; stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, `run "hookguard migrate --postgres URL" once first, or pass --migrate to serve`)
	assert.Equal(t, 1, strings.Count(r.stderr, "hookguard serve: "), r.stderr)
	assertNoPassword(t, r)
	assert.False(t, tableExists(t, pg, "river_job"), "serve without --migrate created River's tables")
	assert.False(t, tableExists(t, pg, "hookguard_dedupe"), "serve without --migrate created the dedupe table")

	m := runCmd(t, "", "migrate", "--postgres", dbURL, "--table", "app_dedupe")
	require.Equal(t, 0, m.code, "migrate: %s", m.stderr)
	r = runCmd(t, "", serveArgs...)
	assert.Equal(t, exitFail, r.code, "serve with another table than migrate's; stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, `run "hookguard migrate --postgres URL" once first`)

	s := startServe(t, append(serveArgs[1:], "--table", "app_dedupe")...)
	status, dup, err := postStripe(context.Background(), &http.Client{Timeout: 10 * time.Second}, s.addr, "evt_pg_table")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.False(t, dup)
	select {
	case raw := <-s.stdout.lines:
		assert.Contains(t, raw, `"id":"evt_pg_table"`)
	case <-time.After(15 * time.Second):
		t.Fatalf("the event was not handled within 15s; stderr:\n%s", s.stderr)
	}
	var n int
	require.NoError(t, pg.Pool().QueryRow(context.Background(), "SELECT count(*) FROM app_dedupe").Scan(&n))
	assert.Positive(t, n, "no dedupe record in app_dedupe")
	assert.Equal(t, 0, s.stop(), "stderr:\n%s", s.stderr)
	assert.NotContains(t, s.stderr.String(), testPGPassword)
}

// TestServePostgresFlagErrors: serve refuses --redis with --postgres,
// --migrate or --table without --postgres, --shards or --former-shards
// without --redis or out of range, a bad URL and an unreachable
// database, before it listens, and never prints the password.
func TestServePostgresFlagErrors(t *testing.T) {
	unreachable := "postgres://postgres:" + testPGPassword + "@" + net.JoinHostPort("127.0.0.1", strconv.Itoa(closedPort(t))) + "/hookguard?sslmode=disable"
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"redis and postgres", []string{"--redis", "redis://127.0.0.1:1/0", "--postgres", unreachable}, exitUsage, "--redis and --postgres both hold dedupe and the queue: give one of them"},
		{"migrate without postgres", []string{"--migrate"}, exitUsage, "--migrate and --table apply to --postgres only"},
		{"table without postgres", []string{"--table", "app_dedupe"}, exitUsage, "--migrate and --table apply to --postgres only"},
		{"shards without redis", []string{"--shards", "3"}, exitUsage, "--shards and --former-shards apply to --redis only"},
		{"former shards without redis", []string{"--former-shards", "1"}, exitUsage, "--shards and --former-shards apply to --redis only"},
		{"zero shards", []string{"--redis", "redis://127.0.0.1:1/0", "--shards", "0"}, exitUsage, "--shards 0: want 1 to 1024"},
		{"former shards equal", []string{"--redis", "redis://127.0.0.1:1/0", "--shards", "3", "--former-shards", "3"}, exitUsage, "--former-shards 3: want the count before a change of --shards"},
		{"bad url", []string{"--postgres", "postgres://postgres:" + testPGPassword + "@127.0.0.1:notaport/db"}, exitUsage, "--postgres: not a PostgreSQL URL"},
		{"bad table", []string{"--postgres", unreachable, "--table", "no-dashes"}, exitUsage, "--table: riverkit: invalid option"},
		{"unreachable", []string{"--postgres", unreachable}, exitFail, "cannot reach the database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--secret", "stripe=" + testSecret}, tc.args...)
			r := runCmd(t, "", args...)
			assert.Equal(t, tc.wantCode, r.code, "stderr: %s", r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "hookguard serve: "), r.stderr)
			assert.Contains(t, r.stderr, tc.wantStderr)
			assert.NotContains(t, r.stderr, "listening")
			assertNoPassword(t, r)
		})
	}
}
