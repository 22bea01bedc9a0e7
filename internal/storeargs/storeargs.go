// Package storeargs checks the arguments of a dedupe.Store call the same
// way in every store the repository ships besides the in-memory one
// (rediskit, riverkit), so that each refuses exactly what the contract
// refuses, with the same errors.
package storeargs

import (
	"time"

	"github.com/hookguard/hookguard/dedupe"
)

// Check returns dedupe.ErrEmptyKey for an empty key, dedupe.ErrEmptyToken
// for an empty token, and, when checkTTL is set, dedupe.ErrInvalidTTL for
// a ttl that is not positive.
func Check(key, token string, ttl time.Duration, checkTTL bool) error {
	switch {
	case key == "":
		return dedupe.ErrEmptyKey
	case token == "":
		return dedupe.ErrEmptyToken
	case checkTTL && ttl <= 0:
		return dedupe.ErrInvalidTTL
	}
	return nil
}
