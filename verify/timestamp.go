package verify

import "time"

// DefaultTolerance is the default limit in each direction of a [Window].
const DefaultTolerance = 5 * time.Minute

// Window is how far a signed timestamp may lie from now: at most Past
// before it and at most Future after it. A zero or negative field means
// [DefaultTolerance]; a zero Window is never "no check". To skip the check,
// a preset offers an explicit option instead.
type Window struct {
	Past   time.Duration
	Future time.Duration
}

// Check returns nil when ts lies within the window around now,
// [ErrTimestampTooOld] when it is older than now-Past, and
// [ErrTimestampTooNew] when it is later than now+Future.
func (w Window) Check(ts, now time.Time) error {
	past, future := w.Past, w.Future
	if past <= 0 {
		past = DefaultTolerance
	}
	if future <= 0 {
		future = DefaultTolerance
	}
	// Compare instants rather than now.Sub(ts): Sub saturates at the
	// limits of Duration, and negating the saturated minimum overflows, so a
	// timestamp centuries ahead would otherwise pass as "not too new".
	if ts.Before(now.Add(-past)) {
		return ErrTimestampTooOld
	}
	if ts.After(now.Add(future)) {
		return ErrTimestampTooNew
	}
	return nil
}

// maxDigits bounds a timestamp's digits: enough for milliseconds until the
// year 33658, few enough that the value never overflows int64.
const maxDigits = 15

// ParseUnix parses a Unix time in whole seconds written as plain decimal
// digits (no sign, no spaces, no fraction). It returns
// [ErrMalformedTimestamp] for anything else.
func ParseUnix(s string) (time.Time, error) {
	n, ok := parseDigits(s)
	if !ok {
		return time.Time{}, ErrMalformedTimestamp
	}
	return time.Unix(n, 0), nil
}

// ParseUnixMilli parses a Unix time in milliseconds written as plain decimal
// digits. It returns [ErrMalformedTimestamp] for anything else.
func ParseUnixMilli(s string) (time.Time, error) {
	n, ok := parseDigits(s)
	if !ok {
		return time.Time{}, ErrMalformedTimestamp
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
