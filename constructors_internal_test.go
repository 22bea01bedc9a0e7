package hookguard

import (
	"net/http"
	"testing"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/stretchr/testify/require"
)

// The package's own tests cannot import internal/testkit, which imports
// the package; these do what its constructor helpers do.

// mustMemoryQueue returns NewMemoryQueue(h, opts...) and stops the test if
// it returns an error.
func mustMemoryQueue(tb testing.TB, h Handler, opts ...Option) *MemoryQueue {
	tb.Helper()
	q, err := NewMemoryQueue(h, opts...)
	require.NoError(tb, err, "NewMemoryQueue")
	return q
}

// mustMiddleware returns Middleware(v, opts...) and stops the test if it
// returns an error.
func mustMiddleware(tb testing.TB, v Verifier, opts ...Option) func(http.Handler) http.Handler {
	tb.Helper()
	mw, err := Middleware(v, opts...)
	require.NoError(tb, err, "Middleware")
	return mw
}

// mustMemory returns dedupe.NewMemory(opts...) and stops the test if it
// returns an error.
func mustMemory(tb testing.TB, opts ...dedupe.MemoryOption) *dedupe.Memory {
	tb.Helper()
	m, err := dedupe.NewMemory(opts...)
	require.NoError(tb, err, "dedupe.NewMemory")
	return m
}
