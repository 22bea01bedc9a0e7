package main

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard/internal/pgtest"
)

// testPGPassword is put in --postgres URLs to check that it is never
// printed. pgtest's servers trust loopback, so it is sent nowhere.
const testPGPassword = "pw-Xq7s3cr3t-h2"

// withPassword returns the URL raw with user postgres and password pw.
func withPassword(t *testing.T, raw, pw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.User = url.UserPassword("postgres", pw)
	return u.String()
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// assertNoPassword checks that neither output of r holds the password.
func assertNoPassword(t *testing.T, r result) {
	t.Helper()
	assert.NotContains(t, r.stdout, testPGPassword, "stdout holds the password")
	assert.NotContains(t, r.stderr, testPGPassword, "stderr holds the password")
}

// tableExists reports whether the relation name exists in pg's database.
func tableExists(t *testing.T, pg *pgtest.Server, name string) bool {
	t.Helper()
	var reg *string
	require.NoError(t, pg.Pool().QueryRow(context.Background(), "SELECT to_regclass($1)::text", name).Scan(&reg))
	return reg != nil
}

// TestMigrate runs "hookguard migrate" on an empty database, then again:
// the first run creates River's tables and the dedupe table and says so,
// the second changes nothing and says so. A third run with --table
// creates that table only. No run prints the URL's password.
func TestMigrate(t *testing.T) {
	pg := pgtest.Start(t, pgtest.WithFsync(false))
	dbURL := withPassword(t, pg.URL(), testPGPassword)
	where := net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.Port())) + "/" + pg.Database()
	require.False(t, tableExists(t, pg, "river_job"))

	first := runCmd(t, "", "migrate", "--postgres", dbURL)
	require.Equal(t, 0, first.code, "stderr: %s", first.stderr)
	assert.Empty(t, first.stderr)
	assert.Equal(t, 1, strings.Count(first.stdout, "\n"), "want one line: %q", first.stdout)
	assert.True(t, strings.HasPrefix(first.stdout, "migrated "+where+": River schema version 0 -> "), first.stdout)
	assert.Contains(t, first.stdout, ", created table hookguard_dedupe\n")
	assert.True(t, tableExists(t, pg, "river_job"), "no river_job after migrate")
	assert.True(t, tableExists(t, pg, "hookguard_dedupe"), "no hookguard_dedupe after migrate")
	assertNoPassword(t, first)

	again := runCmd(t, "", "migrate", "--postgres", dbURL)
	require.Equal(t, 0, again.code, "stderr: %s", again.stderr)
	assert.True(t, strings.HasPrefix(again.stdout, where+" is up to date, nothing changed: River schema at version "), again.stdout)
	assert.Contains(t, again.stdout, ", table hookguard_dedupe exists\n")
	assert.Equal(t, 1, strings.Count(again.stdout, "\n"), "want one line: %q", again.stdout)
	assertNoPassword(t, again)

	other := runCmd(t, "", "migrate", "--postgres", dbURL, "--table", "app_dedupe")
	require.Equal(t, 0, other.code, "stderr: %s", other.stderr)
	assert.True(t, strings.HasPrefix(other.stdout, "migrated "+where+": River schema at version "), other.stdout)
	assert.Contains(t, other.stdout, ", created table app_dedupe\n")
	assert.True(t, tableExists(t, pg, "app_dedupe"), "no app_dedupe after migrate --table app_dedupe")
}

// TestMigrateErrors: migrate fails with one line on standard error, and
// the right status, for a bad URL, a database that cannot be reached and
// a bad table name, and never prints the password of the URL.
func TestMigrateErrors(t *testing.T) {
	unreachable := "postgres://postgres:" + testPGPassword + "@127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/hookguard?sslmode=disable"
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		oneLine    bool
	}{
		{name: "no url", args: nil, wantCode: exitUsage, wantStderr: "--postgres URL is required"},
		{name: "bad port", args: []string{"--postgres", "postgres://postgres:" + testPGPassword + "@127.0.0.1:notaport/db"},
			wantCode: exitUsage, wantStderr: "--postgres: not a PostgreSQL URL", oneLine: true},
		{name: "bad key=value", args: []string{"--postgres", "host=127.0.0.1 password=" + testPGPassword + " port=abc"},
			wantCode: exitUsage, wantStderr: "--postgres: not a PostgreSQL URL", oneLine: true},
		{name: "not a url", args: []string{"--postgres", "http://user:" + testPGPassword + "@nope:x"},
			wantCode: exitUsage, wantStderr: "--postgres: not a PostgreSQL URL", oneLine: true},
		{name: "unreachable", args: []string{"--postgres", unreachable},
			wantCode: exitFail, wantStderr: "cannot reach the database", oneLine: true},
		{name: "bad table", args: []string{"--postgres", unreachable, "--table", "Bad-Table"},
			wantCode: exitUsage, wantStderr: "--table: riverkit: invalid option", oneLine: true},
		{name: "stray argument", args: []string{"--postgres", unreachable, testPGPassword},
			wantCode: exitUsage, wantStderr: "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, "", append([]string{"migrate"}, tc.args...)...)
			assert.Equal(t, tc.wantCode, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, tc.wantStderr)
			assert.True(t, strings.HasPrefix(r.stderr, "hookguard migrate: "), r.stderr)
			if tc.oneLine {
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "want one line: %q", r.stderr)
			}
			assertNoPassword(t, r)
		})
	}
}

// TestPasswordsIn: the password is found in a malformed URL or key=value
// string too, as written and decoded, so that no error can echo it.
func TestPasswordsIn(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"postgres://u:pw@h:5432/db", []string{"pw"}},
		{"postgres://u:p%40ss@h:bad/db", []string{"p%40ss", "p@ss"}},
		{"postgres://u:a@b@h/db", []string{"a@b"}},
		{"postgres://u@h/db", nil},
		{"host=h password=pw port=x", []string{"pw"}},
		{"host=h password = 'p w' port=x", []string{"'p w'", "p w"}},
	} {
		assert.Equal(t, tc.want, passwordsIn(tc.raw), tc.raw)
	}
}
