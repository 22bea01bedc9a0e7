package rediskit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// redisLog is the logger installed in go-redis by SetRedisLogger. It is
// installed once; later calls only swap its target.
var redisLog struct {
	once   sync.Once
	target atomic.Pointer[slog.Logger] // nil: slog.Default()
}

// SetRedisLogger sends the lines that go-redis itself logs (a dial that
// failed, a connection pool that gave up, a Sentinel failover, ...) to l
// at WARN, with the attribute component=go-redis, instead of go-redis's
// default logger, which prints them to standard error in its own format,
// beside the program's structured logs. The line is the record's message,
// so l's handler escapes it as it escapes every message. A nil l sends
// them to slog.Default().
//
// The setting is process-wide, as go-redis's logger is: it covers every
// go-redis client in the process, not only those given to this package,
// and the last call wins. The first call installs an adapter with
// redis.SetLogger, which sets a variable that go-redis reads without
// synchronisation: make that call before creating any client. Later calls
// only swap the adapter's target, atomically, so they are safe at any
// time. A later redis.SetLogger replaces the adapter for good.
//
// A function returning a value for redis.SetLogger would leave every
// caller to write go-redis's unsynchronised variable again each time the
// logger changes, while clients may be logging; this setter writes it
// once.
func SetRedisLogger(l *slog.Logger) {
	redisLog.target.Store(l)
	redisLog.once.Do(func() { redis.SetLogger(goRedisLogger{}) })
}

// goRedisLogger implements go-redis's logging interface on top of the
// logger given to SetRedisLogger.
type goRedisLogger struct{}

// Printf logs one go-redis line at WARN.
func (goRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l := redisLog.target.Load()
	if l == nil {
		l = slog.Default()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if !l.Enabled(ctx, slog.LevelWarn) {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, v...), "\n")
	l.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("component", "go-redis"))
}
