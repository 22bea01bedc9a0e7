package dedupe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/dedupe"
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
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("building the options panicked: %v", p)
					}
				}()
				opts = tt.opts()
			}()
			m, err := dedupe.NewMemory(opts...)
			if !errors.Is(err, dedupe.ErrInvalidOption) || m != nil {
				t.Fatalf("NewMemory = %v, %v; want nil and an error wrapping ErrInvalidOption", m, err)
			}
			if !strings.Contains(err.Error(), tt.want+": ") {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

// TestNewMemoryValidOptions checks that the smallest valid values and a
// nil option are accepted.
func TestNewMemoryValidOptions(t *testing.T) {
	m, err := dedupe.NewMemory(dedupe.WithMaxEntries(1), dedupe.WithShards(1), nil)
	if err != nil || m == nil {
		t.Fatalf("NewMemory(WithMaxEntries(1), WithShards(1), nil) = %v, %v; want a store", m, err)
	}
}
