// Package queuetest checks that an implementation of [hookguard.Queue]
// keeps the queue contract, in the spirit of [testing/slogtest] and
// package dedupetest.
//
// Call [Run] from a test of the implementation's package, with a function
// that builds a queue around the handler and settings the kit gives:
//
//	func TestQueue(t *testing.T) {
//		queuetest.Run(t, func(t *testing.T, c queuetest.Config) queuetest.Queue {
//			return newTestQueue(t, c) // retry backoff of a few milliseconds
//		})
//	}
//
// The kit checks at-least-once delivery with acknowledgement only after
// success: every event whose Enqueue returned nil is handled, a failing
// handler is retried, a handled event is not handled again, an event that
// fails its last attempt (or fails with hookguard.Permanent) reaches the
// dead-letter hook with its last error, a panic is a failed attempt,
// Shutdown hands every unfinished event on (to the dead-letter hook, or to
// the next queue on the same backend) and Enqueue after Shutdown fails with
// hookguard.ErrShuttingDown and leaves no trace.
package queuetest
