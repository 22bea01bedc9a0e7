package hookguard_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard"
)

func TestDeadLetterFilterMatch(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := hookguard.DeadLetter{
		Ref:      "1-0",
		Event:    hookguard.Event{Provider: "stripe", Type: "invoice.paid", ID: "evt_1"},
		Err:      "db timeout after 5s",
		Attempts: 3,
		At:       at,
	}
	for _, tc := range []struct {
		name string
		f    hookguard.DeadLetterFilter
		want bool
	}{
		{"zero selects all", hookguard.DeadLetterFilter{}, true},
		{"provider", hookguard.DeadLetterFilter{Provider: "stripe"}, true},
		{"other provider", hookguard.DeadLetterFilter{Provider: "github"}, false},
		{"provider is exact", hookguard.DeadLetterFilter{Provider: "strip"}, false},
		{"type", hookguard.DeadLetterFilter{Type: "invoice.paid"}, true},
		{"other type", hookguard.DeadLetterFilter{Type: "invoice.created"}, false},
		{"type is exact", hookguard.DeadLetterFilter{Type: "invoice"}, false},
		{"error substring", hookguard.DeadLetterFilter{ErrContains: "timeout"}, true},
		{"error substring is case-sensitive", hookguard.DeadLetterFilter{ErrContains: "Timeout"}, false},
		{"error absent", hookguard.DeadLetterFilter{ErrContains: "refused"}, false},
		{"since equal is in", hookguard.DeadLetterFilter{Since: at}, true},
		{"since after", hookguard.DeadLetterFilter{Since: at.Add(time.Nanosecond)}, false},
		{"until equal is out", hookguard.DeadLetterFilter{Until: at}, false},
		{"until after", hookguard.DeadLetterFilter{Until: at.Add(time.Nanosecond)}, true},
		{"window", hookguard.DeadLetterFilter{Since: at.Add(-time.Hour), Until: at.Add(time.Hour)}, true},
		{"all set", hookguard.DeadLetterFilter{Provider: "stripe", Type: "invoice.paid", ErrContains: "db", Since: at, Until: at.Add(time.Second)}, true},
		{"all set, one misses", hookguard.DeadLetterFilter{Provider: "stripe", Type: "invoice.paid", ErrContains: "db", Since: at, Until: at}, false},
		{"limit is ignored", hookguard.DeadLetterFilter{Limit: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.f.Match(d))
		})
	}
}

func TestDeadLetterFilterLimit(t *testing.T) {
	require.NoError(t, hookguard.DeadLetterFilter{}.Validate())
	assert.Equal(t, hookguard.DefaultDeadLetterLimit, hookguard.DeadLetterFilter{}.Max())
	assert.Equal(t, 7, hookguard.DeadLetterFilter{Limit: 7}.Max())
	err := hookguard.DeadLetterFilter{Limit: -1}.Validate()
	require.ErrorIs(t, err, hookguard.ErrInvalidFilter)
	assert.Contains(t, err.Error(), "Limit -1")
}
