package rediskit

import (
	"errors"
	"fmt"
)

// Configuration errors returned by [NewQueue] and [NewStore], which check
// every value before they touch Redis and never panic on one.
var (
	// ErrInvalidOption is wrapped by the error returned for an option
	// given a value it cannot use; the wrapping error names the option
	// and the value and says what is allowed.
	ErrInvalidOption = errors.New("rediskit: invalid option")
	// ErrNilClient means [NewQueue] or [NewStore] got a nil Redis client.
	ErrNilClient = errors.New("rediskit: nil Redis client: pass a *redis.Client, *redis.ClusterClient or other redis.UniversalClient")
)

// invalid returns an error wrapping ErrInvalidOption.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}
