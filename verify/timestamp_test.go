package verify_test

import (
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
)

func TestWindowCheck(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	custom := verify.Window{Past: 10 * time.Second, Future: 2 * time.Second}
	def := verify.DefaultTolerance
	tests := []struct {
		name string
		w    verify.Window
		ts   time.Time
		want error
	}{
		{"now", custom, now, nil},
		{"exactly Past old", custom, now.Add(-10 * time.Second), nil},
		{"one ns past Past", custom, now.Add(-10*time.Second - 1), verify.ErrTimestampTooOld},
		{"exactly Future ahead", custom, now.Add(2 * time.Second), nil},
		{"one ns past Future", custom, now.Add(2*time.Second + 1), verify.ErrTimestampTooNew},
		{"zero window: exactly default old", verify.Window{}, now.Add(-def), nil},
		{"zero window: one ns older", verify.Window{}, now.Add(-def - 1), verify.ErrTimestampTooOld},
		{"zero window: exactly default ahead", verify.Window{}, now.Add(def), nil},
		{"zero window: one ns newer", verify.Window{}, now.Add(def + 1), verify.ErrTimestampTooNew},
		{"negative Past uses default", verify.Window{Past: -time.Hour, Future: time.Second}, now.Add(-def - 1), verify.ErrTimestampTooOld},
		{"negative Past keeps default inside", verify.Window{Past: -time.Hour, Future: time.Second}, now.Add(-def), nil},
		{"negative Future uses default", verify.Window{Past: time.Second, Future: -1}, now.Add(def + 1), verify.ErrTimestampTooNew},
		{"only Past set: Future defaults", verify.Window{Past: time.Hour}, now.Add(def + 1), verify.ErrTimestampTooNew},
		{"only Future set: Past defaults", verify.Window{Future: time.Hour}, now.Add(-def - 1), verify.ErrTimestampTooOld},
		{"zero time is too old", verify.Window{}, time.Time{}, verify.ErrTimestampTooOld},
		{"unix epoch is too old", verify.Window{}, time.Unix(0, 0), verify.ErrTimestampTooOld},
		{"centuries ahead is too new", verify.Window{}, time.Unix(999999999999999, 0), verify.ErrTimestampTooNew},
		{"centuries ahead, huge window", verify.Window{Past: 1<<63 - 1, Future: 1<<63 - 1}, time.Unix(999999999999999, 0), verify.ErrTimestampTooNew},
		{"millennia behind, huge window", verify.Window{Past: 1<<63 - 1, Future: 1<<63 - 1}, time.Unix(-999999999999999, 0), verify.ErrTimestampTooOld},
		{"other time zone, same instant", custom, now.In(time.FixedZone("X", 5*3600)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// errors.Is with a nil want holds only for a nil error.
			assert.ErrorIs(t, tc.w.Check(tc.ts, now), tc.want, "Check")
		})
	}
}
