package dedupe

import (
	"errors"
	"time"
)

// Argument errors. Every [Store] in this module returns them, wrapped or
// as they are, for calls that can never succeed; match them with
// [errors.Is]. They signal a bug in the caller, not a duplicate.
var (
	// ErrEmptyKey means Reserve, Commit or Release was called with an empty
	// key. An empty key would make unrelated events collide: build the key
	// from a provider scope and a non-empty event ID.
	ErrEmptyKey = errors.New("dedupe: empty key: scope the key by provider and pass a non-empty event ID")
	// ErrEmptyToken means Reserve, Commit or Release was called with an empty
	// token. Two deliveries that share the empty token could release or
	// confirm each other's reservation: give every delivery its own token.
	ErrEmptyToken = errors.New("dedupe: empty token: give every delivery a unique non-empty token")
	// ErrInvalidTTL means Reserve or Commit was called with a TTL that is zero
	// or negative. Pass how long the record must be kept, for example the
	// sender's retry horizon for Commit.
	ErrInvalidTTL = errors.New("dedupe: ttl must be positive")
)

// ErrInvalidOption is wrapped by the error [NewMemory] returns when an
// option was given a value it cannot use; the wrapping error names the
// option and the value and says what is allowed. Options never panic: a
// value read from configuration is reported by the constructor.
var ErrInvalidOption = errors.New("dedupe: invalid option")

// checkArgs validates the arguments every Store method shares. ttl is
// checked only when checkTTL is set (Release takes none).
func checkArgs(key, token string, ttl time.Duration, checkTTL bool) error {
	switch {
	case key == "":
		return ErrEmptyKey
	case token == "":
		return ErrEmptyToken
	case checkTTL && ttl <= 0:
		return ErrInvalidTTL
	}
	return nil
}
