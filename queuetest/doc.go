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
//
// A queue that keeps the events it gives up on as dead letters, to list,
// show, replay and drop (rediskit.Queue and riverkit.Queue do), is also
// checked with [RunDeadLetters]:
//
//	func TestDeadLetters(t *testing.T) {
//		queuetest.RunDeadLetters(t, func(t *testing.T, c queuetest.DeadLetterConfig) queuetest.DeadLetterQueue {
//			return newTestQueue(t, c) // a fresh backend per subtest
//		})
//	}
//
// It makes every dead letter through the queue itself, with events whose
// handler fails, and checks the listing (oldest first, every field of the
// event kept) and each filter field, DeadLetter, unknown references,
// replays (one replay handles the event once and is counted, a second
// enqueues nothing, a dead letter whose event the sender redelivered is
// not replayed, a replay that fails again is a new dead letter), the
// release of the event's dedupe keys by its dead letter, drops, and
// replay after Shutdown.
package queuetest
