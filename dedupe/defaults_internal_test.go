package dedupe

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMemoryDefaultBound checks the documented default bound of a Memory,
// 1<<20 records, and that the shards' own bounds add up to exactly the
// store's bound: none lost to rounding, none added.
func TestMemoryDefaultBound(t *testing.T) {
	require.Equal(t, 1<<20, DefaultMaxEntries, "DefaultMaxEntries")
	tests := []struct {
		name       string
		opts       []MemoryOption
		wantMax    int
		wantShards int
	}{
		{"no options", nil, 1 << 20, DefaultShards},
		{"bound not a multiple of the shards", []MemoryOption{WithMaxEntries(1000)}, 1000, DefaultShards},
		{"fewer entries than shards", []MemoryOption{WithMaxEntries(3)}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMemory(t, tt.opts...)
			require.Len(t, m.shards, tt.wantShards, "shards")
			total, lo, hi := 0, m.shards[0].max, m.shards[0].max
			for i := range m.shards {
				s := &m.shards[i]
				total += s.max
				lo, hi = min(lo, s.max), max(hi, s.max)
			}
			require.Equal(t, tt.wantMax, total, "shard bounds must add up to the store's bound")
			require.LessOrEqual(t, hi-lo, 1, "shard bounds range from %d to %d; the bound must be split evenly", lo, hi)
		})
	}
}
