package rediskit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// CheckDurability reads the server's configuration and returns one
// warning for each setting under which it may lose an acknowledged event
// or a dedupe record:
//
//   - appendonly no: a restart loses everything written since the last
//     snapshot;
//   - appendfsync other than always: a crash of the machine (not just of
//     Redis) loses up to the last second of writes, unless replicas confirm
//     them (WAIT), which this package does not do;
//   - maxmemory-policy other than noeviction: under memory pressure Redis
//     deletes keys, queued events and dedupe records among them.
//
// It returns an error when the configuration cannot be read (managed
// services often disable CONFIG); the settings are then unknown, not
// wrong.
func CheckDurability(ctx context.Context, rdb redis.UniversalClient) ([]string, error) {
	cfg := map[string]string{}
	for _, name := range []string{"appendonly", "appendfsync", "maxmemory-policy"} {
		m, err := rdb.ConfigGet(ctx, name).Result()
		if err != nil {
			return nil, fmt.Errorf("rediskit: read Redis configuration: %w", err)
		}
		for k, v := range m {
			cfg[strings.ToLower(k)] = strings.ToLower(v)
		}
	}
	var warns []string
	if v := cfg["appendonly"]; v != "yes" {
		warns = append(warns, fmt.Sprintf("appendonly is %q: a Redis restart loses queued events and dedupe records written since the last snapshot; set appendonly yes", v))
	}
	if v := cfg["appendfsync"]; cfg["appendonly"] == "yes" && v != "always" {
		warns = append(warns, fmt.Sprintf("appendfsync is %q: a machine crash can lose the last second of acknowledged events; set appendfsync always, or run replicas and accept that risk", v))
	}
	if v := cfg["maxmemory-policy"]; v != "noeviction" {
		warns = append(warns, fmt.Sprintf("maxmemory-policy is %q: under memory pressure Redis evicts keys, queued events and dedupe records among them; set maxmemory-policy noeviction", v))
	}
	return warns, nil
}

// LogDurability runs [CheckDurability] and logs each warning at level
// Warn, or at level Info that the settings could not be read. [NewQueue]
// calls it; call it at start when you use only a [Store].
func LogDurability(ctx context.Context, rdb redis.UniversalClient, l *slog.Logger) {
	if l == nil {
		l = slog.Default()
	}
	warns, err := CheckDurability(ctx, rdb)
	if err != nil {
		l.LogAttrs(ctx, slog.LevelInfo, "rediskit: could not check whether Redis keeps acknowledged events; see the rediskit documentation for the settings it needs", slog.Any("error", err))
		return
	}
	for _, w := range warns {
		l.LogAttrs(ctx, slog.LevelWarn, "rediskit: Redis may lose data: "+w)
	}
}
