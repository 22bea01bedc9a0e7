// Package verify holds the scheme-independent primitives that every
// hookguard provider preset is built from: secrets that cannot be logged,
// keyed HMAC states that are pooled so a warm verification allocates
// nothing, Ed25519 checks, signature decoding into fixed-size buffers,
// timestamp windows checked in both directions against an explicit clock,
// and the sentinel and typed errors that callers match with [errors.Is] and
// [errors.As].
//
// Package verify knows nothing about routing, status pages or queues. It
// works on a [Request] (method, URL, headers and the exact body bytes) and
// an explicit now, so it is easy to test and to reuse.
//
// # Security
//
// MACs are compared with [crypto/hmac.Equal]. A request is accepted when any
// configured secret matches any signature it carries, which is what key
// rotation needs on both sides. Errors never contain a computed signature or
// a secret, so their text is safe to send back to a client.
package verify
