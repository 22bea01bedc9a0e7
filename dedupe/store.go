package dedupe

import (
	"context"
	"errors"
	"time"
)

// Status is the outcome of [Store.Reserve].
type Status int

const (
	// Reserved means the key was free and is now held, pending, for the
	// caller's token until it is committed, released or its TTL ends.
	Reserved Status = iota + 1
	// Pending means another delivery holds a pending reservation of the
	// key: its enqueue has not finished yet. The caller should ask the
	// sender to retry later (409), since the first copy may still fail.
	Pending
	// Seen means the key was committed: its event was enqueued already.
	Seen
)

// String returns "reserved", "pending" or "seen".
func (s Status) String() string {
	switch s {
	case Reserved:
		return "reserved"
	case Pending:
		return "pending"
	case Seen:
		return "seen"
	}
	return "unknown"
}

// ErrNotOwner is returned by Commit when the key is no longer held by the
// given token (it expired, was evicted, or another delivery holds it).
var ErrNotOwner = errors.New("dedupe: reservation is not held by this token")

// Store records which event IDs a receiver has taken in.
//
// The protocol for one delivery is: Reserve before the event is enqueued;
// Commit once the enqueue succeeded; Release when it failed, so the
// sender's retry gets through. Reserve must be atomic: of two concurrent
// calls with the same key, at most one returns [Reserved]. Release and
// Commit act only when the key is still held by token, so a slow delivery
// can never drop or confirm another delivery's reservation.
//
// Forget deletes a key's record, whatever its state and token, so that
// the next Reserve of the key succeeds. A receiver calls it when it gives
// an event up (a dead letter): the sender's redelivery of the event, once
// the handler is fixed, must be handled rather than dropped as a
// duplicate. Operators may call it too, to let one redelivery through.
//
// Implementations must be safe for concurrent use. Keys are opaque; the
// receiver scopes them by provider and endpoint before calling.
type Store interface {
	// Reserve holds key for token for ttl unless it is held or seen
	// already, and reports which.
	Reserve(ctx context.Context, key, token string, ttl time.Duration) (Status, error)
	// Commit marks key as seen for ttl, if token still holds it.
	Commit(ctx context.Context, key, token string, ttl time.Duration) error
	// Release frees key if token still holds it (pending or committed);
	// otherwise it does nothing and returns nil.
	Release(ctx context.Context, key, token string) error
	// Forget deletes key's record, held or seen, whoever holds it. A key
	// with no record is not an error.
	Forget(ctx context.Context, key string) error
}
