package hookguard

import (
	"context"
	"time"
)

// Outcomes reported in [Answer.Outcome].
const (
	OutcomeAccepted  = "accepted"  // verified and enqueued (or handed to next)
	OutcomeDuplicate = "duplicate" // verified, seen before, answered 200
	OutcomeHandshake = "handshake" // a provider handshake was answered
	OutcomePending   = "pending"   // another copy is still being accepted (409)
	OutcomeRejected  = "rejected"  // refused; Answer.Err says why
)

// Answer describes one request that a [Receiver] or [Middleware] answered,
// for [Hooks.OnAnswered]. It holds no secret, signature or body.
type Answer struct {
	// Provider is the preset's name; empty when the request was turned
	// away before verification (method, rate limit, body).
	Provider string
	// ID and Type are the event's ID and type, once verification got that
	// far; empty otherwise.
	ID, Type string
	// Outcome is one of the Outcome constants.
	Outcome string
	// Status is the HTTP status sent (for [Middleware], the next
	// handler's).
	Status int
	// Err says why a request was not accepted; nil for accepted,
	// duplicate and handshake requests.
	Err error
	// SecretIndex is the index of the secret or key that verified the
	// request (0 is the primary), or -1 when it was not verified; see
	// verify.Delivery.SecretIndex. Watch it to retire an old secret once
	// it stops matching.
	SecretIndex int
	// Latency is the time from the start of ServeHTTP until the answer was
	// written: the time the sender waited on hookguard (for [Middleware],
	// including the next handler).
	Latency time.Duration
}

// Hooks are optional callbacks for metrics and alerting. Every field may be
// nil. Hooks are called synchronously, outside any lock held by hookguard,
// possibly from many goroutines at once; keep them fast and safe for
// concurrent use. They never receive a secret or a signature; an [Event]
// they receive carries the body, so do not log it carelessly.
type Hooks struct {
	// OnAccepted is called when a verified event was enqueued (or, for
	// [Middleware], handed to the next handler).
	OnAccepted func(e Event)
	// OnDuplicate is called when a verified event was recognised as a
	// duplicate and answered 200 without being enqueued again.
	OnDuplicate func(e Event)
	// OnRejected is called for every request not answered 2xx: status is
	// what was sent, err says why. provider is empty when the request
	// was turned away before verification (method, rate limit, body),
	// except for [ErrInsecureTransport], which names the verifier's
	// provider when it has a Name method (every preset has).
	OnRejected func(provider string, status int, err error)
	// OnHandshake is called when a provider handshake (such as Slack's
	// url_verification) was answered.
	OnHandshake func(provider string)
	// OnHandled is called after every attempt of the handler, with the
	// attempt number (1-based), its error (nil on success) and how long
	// it ran.
	OnHandled func(e Event, attempt int, err error, d time.Duration)
	// OnDeadLetter is called once for every event that will not be
	// handled successfully: its retries ran out, it failed with a
	// [Permanent] error, or the queue shut down before it could finish.
	// err is the last error. Persist the event here if it must not be
	// lost.
	OnDeadLetter func(e Event, err error)
	// OnStoreFallback is called when the dedupe store failed and the
	// receiver fell back to its local in-memory store (see
	// [WithFailClosed] for the alternative).
	OnStoreFallback func(err error)
	// OnAnswered is called once for every request a [Receiver] or
	// [Middleware] answered, after the answer was written, with the
	// request's context (so a tracing middleware can annotate its span).
	// It sees every outcome, so it alone is enough to count requests.
	OnAnswered func(ctx context.Context, a Answer)
	// OnEnqueued is called by a [MemoryQueue] after it took e in. With
	// OnHandled (err == nil) and OnDeadLetter, each of which ends an
	// event exactly once, it gives the queue's depth. It may run after
	// the event's first attempt began.
	OnEnqueued func(e Event)
}

func (h *Hooks) accepted(e Event) {
	if h.OnAccepted != nil {
		h.OnAccepted(e)
	}
}

func (h *Hooks) duplicate(e Event) {
	if h.OnDuplicate != nil {
		h.OnDuplicate(e)
	}
}

func (h *Hooks) rejected(provider string, status int, err error) {
	if h.OnRejected != nil {
		h.OnRejected(provider, status, err)
	}
}

func (h *Hooks) handshake(provider string) {
	if h.OnHandshake != nil {
		h.OnHandshake(provider)
	}
}

func (h *Hooks) handled(e Event, attempt int, err error, d time.Duration) {
	if h.OnHandled != nil {
		h.OnHandled(e, attempt, err, d)
	}
}

func (h *Hooks) deadLetter(e Event, err error) {
	if h.OnDeadLetter != nil {
		h.OnDeadLetter(e, err)
	}
}

func (h *Hooks) storeFallback(err error) {
	if h.OnStoreFallback != nil {
		h.OnStoreFallback(err)
	}
}

func (h *Hooks) enqueued(e Event) {
	if h.OnEnqueued != nil {
		h.OnEnqueued(e)
	}
}

// answered reports rec to OnAnswered; call it only when that is set.
func (c *core) answered(ctx context.Context, rec *record) {
	var lat time.Duration
	if !rec.start.IsZero() {
		lat = time.Since(rec.start)
	}
	c.cfg.hooks.OnAnswered(ctx, Answer{
		Provider:    rec.provider,
		ID:          rec.id,
		Type:        rec.typ,
		Outcome:     rec.outcome,
		Status:      rec.status,
		Err:         rec.err,
		SecretIndex: rec.secret - 1,
		Latency:     lat,
	})
}

// Join returns hooks that call h's hook and then o's, for every field, so
// that hooks from several sources (metrics, tracing, your alerting) all
// fire. [WithHooks] and [WithDeadLetter] join what they are given to what
// was set before.
func (h Hooks) Join(o Hooks) Hooks {
	return Hooks{
		OnAccepted:      chain1(h.OnAccepted, o.OnAccepted),
		OnDuplicate:     chain1(h.OnDuplicate, o.OnDuplicate),
		OnRejected:      chain3(h.OnRejected, o.OnRejected),
		OnHandshake:     chain1(h.OnHandshake, o.OnHandshake),
		OnHandled:       chain4(h.OnHandled, o.OnHandled),
		OnDeadLetter:    chain2(h.OnDeadLetter, o.OnDeadLetter),
		OnStoreFallback: chain1(h.OnStoreFallback, o.OnStoreFallback),
		OnAnswered:      chain2(h.OnAnswered, o.OnAnswered),
		OnEnqueued:      chain1(h.OnEnqueued, o.OnEnqueued),
	}
}

func chain1[A any](f, g func(A)) func(A) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A) { f(a); g(a) }
}

func chain2[A, B any](f, g func(A, B)) func(A, B) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A, b B) { f(a, b); g(a, b) }
}

func chain3[A, B, C any](f, g func(A, B, C)) func(A, B, C) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A, b B, c C) { f(a, b, c); g(a, b, c) }
}

func chain4[A, B, C, D any](f, g func(A, B, C, D)) func(A, B, C, D) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(a A, b B, c C, d D) { f(a, b, c, d); g(a, b, c, d) }
}
