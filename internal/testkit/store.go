package testkit

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/hookguard/hookguard/dedupe"
)

// ErrStoreDown is what a [FlakyStore] returns while it is down and its
// Err field is nil.
var ErrStoreDown = errors.New("store: connection refused")

// FlakyStore is a real [dedupe.Memory] that can be switched to failing,
// and counts the calls that reached the memory store. Create one with
// [NewFlakyStore].
type FlakyStore struct {
	*dedupe.Memory

	// Down, while true, makes Reserve, Commit and Release fail with Err
	// without reaching the memory store.
	Down atomic.Bool
	// Reserves and Commits count the calls that reached the memory store.
	Reserves atomic.Int64
	Commits  atomic.Int64

	// Err is the error returned while Down; nil means ErrStoreDown. Set
	// it before the store is used.
	Err error
}

// NewFlakyStore returns a FlakyStore that is up and empty.
func NewFlakyStore() *FlakyStore {
	m, err := dedupe.NewMemory()
	if err != nil {
		// An internal invariant: NewMemory fails only on an invalid
		// option, and none is given.
		panic("testkit: " + err.Error())
	}
	return &FlakyStore{Memory: m}
}

func (s *FlakyStore) err() error {
	if s.Err != nil {
		return s.Err
	}
	return ErrStoreDown
}

// Reserve fails while s is down, else counts and reserves in memory.
func (s *FlakyStore) Reserve(ctx context.Context, key, token string, ttl time.Duration) (dedupe.Status, error) {
	if s.Down.Load() {
		return 0, s.err()
	}
	s.Reserves.Add(1)
	return s.Memory.Reserve(ctx, key, token, ttl)
}

// Commit fails while s is down, else counts and commits in memory.
func (s *FlakyStore) Commit(ctx context.Context, key, token string, ttl time.Duration) error {
	if s.Down.Load() {
		return s.err()
	}
	s.Commits.Add(1)
	return s.Memory.Commit(ctx, key, token, ttl)
}

// Release fails while s is down, else releases in memory.
func (s *FlakyStore) Release(ctx context.Context, key, token string) error {
	if s.Down.Load() {
		return s.err()
	}
	return s.Memory.Release(ctx, key, token)
}

// Forget fails while s is down, else forgets in memory.
func (s *FlakyStore) Forget(ctx context.Context, key string) error {
	if s.Down.Load() {
		return s.err()
	}
	return s.Memory.Forget(ctx, key)
}
