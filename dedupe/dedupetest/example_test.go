package dedupetest_test

import (
	"testing"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/dedupe/dedupetest"
)

// newStore returns an empty store for one subtest. Here it is hookguard's
// in-memory store; for your own (SQL, DynamoDB, ...) return a store on a
// fresh table or key prefix.
func newStore(t *testing.T) dedupe.Store {
	m, err := dedupe.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runConformance is what a test of your store's package calls:
//
//	func TestStoreConformance(t *testing.T) { dedupetest.Run(t, newStore) }
//
// A store that reads a clock you control can skip real waits for TTLs
// with dedupetest.WithAdvance.
func runConformance(t *testing.T) {
	dedupetest.Run(t, newStore)
}

// Example runs the conformance kit against a dedupe store: put newStore
// and a test that calls Run in a _test.go file of your store's package.
func Example() {
	_ = runConformance // called from a test function: Run needs its *testing.T
}
