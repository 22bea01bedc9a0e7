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
