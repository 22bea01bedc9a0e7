// Package dedupe records which webhook events a receiver has taken in, so
// that a sender's retries and replays of an event are answered without
// running its handler twice.
//
// # Protocol
//
// A [Store] holds one record per key; the receiver builds the key from a
// provider and endpoint scope plus the provider's event ID. Each delivery
// carries its own token, for example a random request ID, and goes through
// three steps:
//
//  1. Reserve(key, token, shortTTL) before the event is enqueued. [Reserved]
//     means this delivery holds the key and goes on; [Pending] means another
//     delivery of the same event holds it and has not finished enqueueing,
//     so the sender should retry later (the first copy may still fail);
//     [Seen] means the event was enqueued already and the delivery can be
//     acknowledged without doing anything.
//  2. Commit(key, token, longTTL) once the event is safely enqueued. The
//     record turns Seen and is kept for longTTL.
//  3. Release(key, token) instead, when the enqueue failed, so that the
//     sender's retry is taken in.
//
// Commit and Release act only while the token still holds the key: a slow
// delivery whose reservation expired can neither confirm nor drop the
// reservation of the delivery that took over. Reserve is atomic per key: of
// any number of concurrent calls with one key, at most one returns Reserved.
//
// # TTL
//
// The reservation TTL bounds how long a crashed delivery blocks its event;
// a few seconds more than the enqueue deadline is enough. A pending record
// whose TTL ended counts as free. The commit TTL must cover the replay
// window (twice the signature timestamp tolerance) and the sender's retry
// horizon, for example three days for Stripe.
//
// # Memory store
//
// [NewMemory] returns a [Memory], a sharded in-process Store for a single
// instance. It is bounded by [WithMaxEntries] and evicts the oldest records
// first once full; it drops expired records lazily and starts no goroutine.
// Each record costs about 50 bytes whatever its key's length, since a
// record keeps a 128-bit hash of the key and no pointer: a million event
// IDs take about 50 MB of heap, which the garbage collector never has to
// scan. A Memory forgets everything on restart and is not
// shared between processes: a service that runs several instances needs a
// shared Store (for example one backed by Redis or SQL), or duplicates that
// reach different instances are not detected.
//
// # Writing a Store
//
// Package [github.com/hookguard/hookguard/dedupe/dedupetest] runs the
// behaviour every Store must have against any implementation. Stores return
// [ErrNotOwner] from Commit when the token no longer holds the key,
// [ErrEmptyKey], [ErrEmptyToken] and [ErrInvalidTTL] for arguments that can
// never work, and ctx.Err() when the context is done before the call.
package dedupe
