package rediskit_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
)

// redisLogChild names the environment variable that makes
// TestSetRedisLoggerDuringOutage run as the child process; it holds the
// file the child's slog handler writes to.
const redisLogChild = "REDISKIT_TEST_REDISLOG_FILE"

// TestSetRedisLoggerDuringOutage: during a Redis outage go-redis logs its
// own lines ("redis: connection pool: failed to dial after 2 attempts:
// ..."). Issue 15 found them printed on the process's standard error in
// go-redis's format, beside the program's slog output. With
// SetRedisLogger they must reach the slog handler given, at WARN, and
// nothing of them the process's standard error.
//
// The test runs itself as a child process, so that it can read that
// process's real standard error: go-redis's default logger holds the
// original os.Stderr, which no in-process capture can replace.
func TestSetRedisLoggerDuringOutage(t *testing.T) {
	if path := os.Getenv(redisLogChild); path != "" {
		redisOutageChild(t, path)
		return
	}
	redistest.Available(t)
	path := filepath.Join(t.TempDir(), "slog.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSetRedisLoggerDuringOutage$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), redisLogChild+"="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "--- PASS: TestSetRedisLoggerDuringOutage") {
		t.Fatalf("the child did not run the outage (skipped?); stdout:\n%s", stdout.String())
	}
	for name, out := range map[string]string{"standard error": stderr.String(), "standard output": stdout.String()} {
		if strings.Contains(out, "failed to dial") || strings.Contains(out, "redis: ") {
			t.Errorf("go-redis wrote to the child's %s:\n%s", name, out)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dials int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var rec struct {
			Level, Msg, Component string
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("slog line %q: %v", sc.Text(), err)
		}
		if rec.Component != "go-redis" {
			t.Errorf("slog line %q: component %q; want go-redis", sc.Text(), rec.Component)
			continue
		}
		if rec.Level != "WARN" {
			t.Errorf("go-redis line %q at %s; want WARN", rec.Msg, rec.Level)
		}
		if strings.Contains(rec.Msg, "failed to dial") {
			dials++
		}
	}
	if dials == 0 {
		t.Errorf("no go-redis dial failure reached the slog handler; its output:\n%s", b)
	}
}

// redisOutageChild is the child of TestSetRedisLoggerDuringOutage: it
// routes go-redis's lines to a JSON handler writing to path, kills Redis
// by its PID, and makes the client dial the dead server.
func redisOutageChild(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rediskit.SetRedisLogger(slog.New(slog.NewJSONHandler(f, nil)))
	srv := redistest.Start(t)
	rdb := srv.Client(func(o *redis.Options) {
		o.DialerRetries = 2
		o.DialerRetryTimeout = 10 * time.Millisecond
		o.MaxRetries = 1
	})
	ctx := t.Context()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	for range 2 {
		if err := rdb.Ping(ctx).Err(); err == nil {
			t.Fatal("PING succeeded after Redis was killed")
		}
	}
}

// TestGoRedisLineFormat: a go-redis line becomes one slog record at WARN,
// escaped by the handler (a newline or quote in it cannot forge a second
// line or field), and it is dropped when the logger is above WARN.
func TestGoRedisLineFormat(t *testing.T) {
	tests := []struct {
		name  string
		json  bool
		level slog.Level
		want  string // "" = nothing logged
	}{
		{name: "text", level: slog.LevelInfo, want: `level=WARN msg="redis: dial tcp: refused\nlevel=ERROR msg=\"forged\"" component=go-redis` + "\n"},
		{name: "json", json: true, level: slog.LevelInfo, want: `{"level":"WARN","msg":"redis: dial tcp: refused\nlevel=ERROR msg=\"forged\"","component":"go-redis"}` + "\n"},
		{name: "above WARN", level: slog.LevelError},
	}
	t.Cleanup(func() { rediskit.SetRedisLogger(nil) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			opts := &slog.HandlerOptions{Level: tt.level, ReplaceAttr: dropTime}
			var h slog.Handler = slog.NewTextHandler(&buf, opts)
			if tt.json {
				h = slog.NewJSONHandler(&buf, opts)
			}
			rediskit.SetRedisLogger(slog.New(h))
			// Call the adapter as go-redis calls its logger; the outage
			// test above checks that go-redis really calls it.
			rediskit.GoRedisPrintf(t.Context(), "redis: %s\n", errors.New("dial tcp: refused\nlevel=ERROR msg=\"forged\""))
			if got := buf.String(); got != tt.want {
				t.Errorf("logged %q; want %q", got, tt.want)
			}
		})
	}
}

// dropTime removes the time from records, so that lines compare exactly.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
