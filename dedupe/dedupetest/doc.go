// Package dedupetest checks that an implementation of [dedupe.Store]
// behaves as the store contract requires, in the spirit of
// [testing/slogtest].
//
// Call [Run] from a test of the implementation's package:
//
//	func TestStore(t *testing.T) {
//		dedupetest.Run(t, func(t *testing.T) dedupe.Store {
//			return newTestStore(t) // a fresh, empty store
//		})
//	}
//
// Stores that can read a fake clock pass [WithAdvance] so that the expiry
// subtests run without waiting; others are tested in real time with a short
// TTL (see [WithShortTTL]).
package dedupetest
