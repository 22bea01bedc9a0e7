package dedupe_test

import (
	"testing"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewMemoryInvalidOptions is the regression test for options that
// panicked where they were called: a bad value, which may come from
// configuration, is now an error from NewMemory that wraps ErrInvalidOption
// and names the option and the value.
func TestNewMemoryInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts func() []dedupe.MemoryOption
		want string // the option and value the error must name
	}{
		{"WithMaxEntries(0)", func() []dedupe.MemoryOption { return []dedupe.MemoryOption{dedupe.WithMaxEntries(0)} }, "WithMaxEntries(0)"},
		{"WithMaxEntries(-5)", func() []dedupe.MemoryOption { return []dedupe.MemoryOption{dedupe.WithMaxEntries(-5)} }, "WithMaxEntries(-5)"},
		{"WithShards(0)", func() []dedupe.MemoryOption { return []dedupe.MemoryOption{dedupe.WithShards(0)} }, "WithShards(0)"},
		{"WithShards(-1)", func() []dedupe.MemoryOption { return []dedupe.MemoryOption{dedupe.WithShards(-1)} }, "WithShards(-1)"},
		{"first invalid option wins", func() []dedupe.MemoryOption {
			return []dedupe.MemoryOption{dedupe.WithMaxEntries(10), dedupe.WithShards(0), dedupe.WithMaxEntries(0)}
		}, "WithShards(0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []dedupe.MemoryOption
			require.NotPanics(t, func() { opts = tt.opts() }, "building the options panicked")
			m, err := dedupe.NewMemory(opts...)
			require.ErrorIs(t, err, dedupe.ErrInvalidOption, "NewMemory")
			require.Nil(t, m, "NewMemory returned a store with an error")
			assert.Contains(t, err.Error(), tt.want+": ", "the error must name the option and value")
		})
	}
}

// TestNewMemoryValidOptions checks that the smallest valid values and a
// nil option are accepted.
func TestNewMemoryValidOptions(t *testing.T) {
	m, err := dedupe.NewMemory(dedupe.WithMaxEntries(1), dedupe.WithShards(1), nil)
	require.NoError(t, err, "NewMemory(WithMaxEntries(1), WithShards(1), nil)")
	require.NotNil(t, m, "NewMemory(WithMaxEntries(1), WithShards(1), nil)")
}
