package unixtime_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/unixtime"
	"github.com/hookguard/hookguard/verify"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  int64
		valid bool
	}{
		{"typical", "1614265330", 1614265330, true},
		{"zero", "0", 0, true},
		{"leading zeros", "0001614265330", 1614265330, true},
		{"max digits", "999999999999999", 999999999999999, true},
		{"too many digits", "1000000000000000", 0, false},
		{"too many zeros", "0000000000000001", 0, false},
		{"empty", "", 0, false},
		{"plus sign", "+1614265330", 0, false},
		{"minus sign", "-1614265330", 0, false},
		{"leading space", " 1614265330", 0, false},
		{"trailing space", "1614265330 ", 0, false},
		{"trailing newline", "1614265330\n", 0, false},
		{"letters", "16142a5330", 0, false},
		{"hex", "0x60380ef2", 0, false},
		{"fraction", "1614265330.5", 0, false},
		{"exponent", "1.6e9", 0, false},
		{"underscore", "1_614_265_330", 0, false},
		{"non-ascii digit", "１６１４", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := unixtime.Parse(tc.in)
			gotMs, errMs := unixtime.ParseMilli(tc.in)
			if !tc.valid {
				if !errors.Is(err, verify.ErrMalformedTimestamp) || !errors.Is(errMs, verify.ErrMalformedTimestamp) {
					t.Errorf("Parse, ParseMilli errors = %v, %v; want ErrMalformedTimestamp", err, errMs)
				}
				if !got.IsZero() || !gotMs.IsZero() {
					t.Errorf("failed parse returned non-zero times %v, %v", got, gotMs)
				}
				return
			}
			if err != nil || !got.Equal(time.Unix(tc.want, 0)) {
				t.Errorf("Parse = %v, %v; want %v", got, err, time.Unix(tc.want, 0))
			}
			if errMs != nil || !gotMs.Equal(time.UnixMilli(tc.want)) {
				t.Errorf("ParseMilli = %v, %v; want %v", gotMs, errMs, time.UnixMilli(tc.want))
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0", "1614265330", "001", "+1", "-1", " 1", "1 ", "999999999999999", "1000000000000000", "1e9", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := unixtime.Parse(s)
		tsMs, errMs := unixtime.ParseMilli(s)
		if (err == nil) != (errMs == nil) {
			t.Fatalf("Parse and ParseMilli disagree on %q: %v, %v", s, err, errMs)
		}
		n, stdErr := strconv.ParseUint(s, 10, 64)
		// strconv accepts underscores only with base 0, and a sign never
		// for ParseUint, so it matches the plain-digits rule exactly.
		wantOK := stdErr == nil && len(s) <= 15
		if (err == nil) != wantOK {
			t.Fatalf("Parse(%q) err = %v, strconv ok = %v", s, err, wantOK)
		}
		if err != nil {
			return
		}
		if !ts.Equal(time.Unix(int64(n), 0)) || !tsMs.Equal(time.UnixMilli(int64(n))) {
			t.Fatalf("Parse(%q) = %v, %v; want %d", s, ts, tsMs, n)
		}
	})
}
