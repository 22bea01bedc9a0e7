package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/redistest"
)

// TestServeRedisOutageLogsThroughSlog: when Redis dies under serve
// --redis, go-redis logs its dial failures. Issue 15 found them printed
// on standard error in go-redis's own format ("redis: 2026/01/02 ...
// pool.go:762: ..."), beside serve's slog lines. They must come out of
// serve's logger, at WARN, in serve's format, like every other line serve
// logs while it runs.
func TestServeRedisOutageLogsThroughSlog(t *testing.T) {
	rs := redistest.Start(t)
	s := startServe(t, "--addr", "127.0.0.1:0", "--secret", "stripe="+testSecret, "--redis", rs.URL(), "--shutdown-timeout", "3s")
	rs.Kill()

	var logged string
	deadline := time.Now().Add(10 * time.Second)
	for {
		logged = s.stderr.String()
		if strings.Contains(logged, "failed to dial") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var dials int
	for line := range strings.Lines(logged) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, "time=") {
			t.Errorf("serve's standard error has a line not written by its logger: %q", line)
			continue
		}
		if strings.Contains(line, "failed to dial") {
			dials++
			if !strings.Contains(line, " level=WARN ") || !strings.Contains(line, " component=go-redis") {
				t.Errorf("go-redis line %q; want level=WARN and component=go-redis", line)
			}
		}
	}
	if dials == 0 {
		t.Errorf("no go-redis dial failure in serve's log within 10s of the outage; stderr:\n%s", logged)
	}
	s.stop() // it may fail: its queue cannot reach Redis
}
