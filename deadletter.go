package hookguard

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DeadLetter is an event a durable queue gave up on, as the queue keeps
// it: rediskit's Queue in its dead-letter stream, riverkit's Queue as a
// discarded River job. Both list, show, replay and drop them with the
// same methods (DeadLetters, DeadLetter, ReplayDeadLetter,
// DropDeadLetter).
type DeadLetter struct {
	// Ref is the backend's reference to the dead letter: the entry ID in
	// the dead-letter stream (Redis), the River job ID (PostgreSQL).
	Ref string
	// Event is the event as it was taken in: its headers without
	// credentials, the body as received, and its DedupeKeys. Attempt is
	// the number of attempts made.
	Event Event
	// Err is the text of the last attempt's error.
	Err string
	// Attempts is how many attempts were made.
	Attempts int
	// At is when the queue gave the event up.
	At time.Time
	// Replays is how many times the dead letter was replayed.
	Replays int
}

// DefaultDeadLetterLimit is how many dead letters a listing returns at
// most when [DeadLetterFilter.Limit] is 0.
const DefaultDeadLetterLimit = 100

// DeadLetterFilter selects dead letters; the zero value selects all (up
// to [DefaultDeadLetterLimit]).
type DeadLetterFilter struct {
	// Provider and Type, when set, select the dead letters whose event
	// has exactly this provider and type.
	Provider, Type string
	// ErrContains, when set, selects the dead letters whose error text
	// holds it (case-sensitive).
	ErrContains string
	// Since and Until, when set, select the dead letters given up at or
	// after Since and before Until.
	Since, Until time.Time
	// Limit is how many dead letters a listing returns at most, oldest
	// first; 0 means [DefaultDeadLetterLimit]. A negative limit is an
	// error (see [DeadLetterFilter.Validate]).
	Limit int
}

// ErrNoDeadLetter is wrapped by the error of a dead-letter method given a
// reference that names no dead letter of the queue: it was dropped,
// removed by retention, or belongs to another queue. List the dead
// letters to find the current references.
var ErrNoDeadLetter = errors.New("hookguard: no such dead letter (dropped, removed by retention, or of another queue); list the dead letters for current references")

// ErrInvalidFilter is wrapped by the error a listing returns for a
// [DeadLetterFilter] it cannot use; the error says what is allowed.
var ErrInvalidFilter = errors.New("hookguard: invalid dead-letter filter")

// Validate returns an error wrapping [ErrInvalidFilter] when f cannot be
// used: a negative Limit.
func (f DeadLetterFilter) Validate() error {
	if f.Limit < 0 {
		return fmt.Errorf("%w: Limit %d is negative; use 0 for the default of %d", ErrInvalidFilter, f.Limit, DefaultDeadLetterLimit)
	}
	return nil
}

// Max returns how many dead letters a listing with f returns at most:
// Limit, or [DefaultDeadLetterLimit] when Limit is 0 (or negative, which
// [DeadLetterFilter.Validate] refuses).
func (f DeadLetterFilter) Max() int {
	if f.Limit <= 0 {
		return DefaultDeadLetterLimit
	}
	return f.Limit
}

// Match reports whether f selects d. It ignores Limit.
func (f DeadLetterFilter) Match(d DeadLetter) bool {
	switch {
	case f.Provider != "" && d.Event.Provider != f.Provider,
		f.Type != "" && d.Event.Type != f.Type,
		f.ErrContains != "" && !strings.Contains(d.Err, f.ErrContains),
		!f.Since.IsZero() && d.At.Before(f.Since),
		!f.Until.IsZero() && !d.At.Before(f.Until):
		return false
	}
	return true
}
