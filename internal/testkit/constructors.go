package testkit

import (
	"net/http"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
)

// NewMemory returns dedupe.NewMemory(opts...) and stops the test if it
// returns an error.
func NewMemory(tb testing.TB, opts ...dedupe.MemoryOption) *dedupe.Memory {
	tb.Helper()
	m, err := dedupe.NewMemory(opts...)
	if err != nil {
		tb.Fatalf("dedupe.NewMemory: %v", err)
	}
	return m
}

// NewMemoryQueue returns hookguard.NewMemoryQueue(h, opts...) and stops
// the test if it returns an error. The caller shuts the queue down.
func NewMemoryQueue(tb testing.TB, h hookguard.Handler, opts ...hookguard.Option) *hookguard.MemoryQueue {
	tb.Helper()
	q, err := hookguard.NewMemoryQueue(h, opts...)
	if err != nil {
		tb.Fatalf("hookguard.NewMemoryQueue: %v", err)
	}
	return q
}

// Middleware returns hookguard.Middleware(v, opts...) and stops the test
// if it returns an error.
func Middleware(tb testing.TB, v hookguard.Verifier, opts ...hookguard.Option) func(http.Handler) http.Handler {
	tb.Helper()
	mw, err := hookguard.Middleware(v, opts...)
	if err != nil {
		tb.Fatalf("hookguard.Middleware: %v", err)
	}
	return mw
}
