package rediskit_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
	"github.com/hookguard/hookguard/rediskit"
)

func TestCheckDurability(t *testing.T) {
	tests := []struct {
		name string
		opts []redistest.Option
		want []string // a substring of each warning, in order
	}{
		{"durable", nil, nil},
		{"everysec", []redistest.Option{redistest.WithConfig("appendfsync", "everysec")}, []string{"appendfsync"}},
		{"no aof, evicting", []redistest.Option{redistest.WithConfig("appendonly", "no"), redistest.WithConfig("maxmemory-policy", "allkeys-lru")},
			[]string{"appendonly", "maxmemory-policy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, tc.opts...)
			warns, err := rediskit.CheckDurability(t.Context(), srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != len(tc.want) {
				t.Fatalf("warnings %q; want %d mentioning %v", warns, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(warns[i], w) {
					t.Errorf("warning %d = %q; want it about %s", i, warns[i], w)
				}
			}
		})
	}
}

// TestNewQueueWarnsAtStart: the queue logs through slog when the server
// may lose events.
func TestNewQueueWarnsAtStart(t *testing.T) {
	srv := redistest.Start(t, redistest.WithConfig("maxmemory-policy", "allkeys-lru"))
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	newTestQueue(t, srv.Client(), hookguard.HandlerFunc(nil), rediskit.WithLogger(logger))
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "maxmemory-policy") {
		t.Fatalf("log = %q; want a warning about maxmemory-policy", out)
	}
}

func TestConsumerNamesUnique(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	h := hookguard.HandlerFunc(nil)
	a := newTestQueue(t, rdb, h)
	b := newTestQueue(t, rdb, h)
	if a.Consumer() == b.Consumer() || a.Consumer() == "" {
		t.Fatalf("consumer names %q and %q; want distinct", a.Consumer(), b.Consumer())
	}
}
