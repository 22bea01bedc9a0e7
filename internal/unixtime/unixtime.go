// Package unixtime parses the Unix timestamps webhook senders put in
// headers and bodies. Its errors are [verify.ErrMalformedTimestamp], so
// a caller classifies them as package verify's own.
package unixtime

import (
	"time"

	"github.com/hookguard/hookguard/verify"
)

// maxDigits bounds a timestamp's digits: enough for milliseconds until the
// year 33658, few enough that the value never overflows int64.
const maxDigits = 15

// Parse parses a Unix time in whole seconds written as plain decimal
// digits (no sign, no spaces, no fraction). It returns
// [verify.ErrMalformedTimestamp] for anything else.
func Parse(s string) (time.Time, error) {
	n, ok := parseDigits(s)
	if !ok {
		return time.Time{}, verify.ErrMalformedTimestamp
	}
	return time.Unix(n, 0), nil
}

// ParseMilli parses a Unix time in milliseconds written as plain decimal
// digits. It returns [verify.ErrMalformedTimestamp] for anything else.
func ParseMilli(s string) (time.Time, error) {
	n, ok := parseDigits(s)
	if !ok {
		return time.Time{}, verify.ErrMalformedTimestamp
	}
	return time.UnixMilli(n), nil
}

func parseDigits(s string) (int64, bool) {
	if len(s) == 0 || len(s) > maxDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
