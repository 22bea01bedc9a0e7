package hookguard

import "time"

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
	// was turned away before verification (method, rate limit, body).
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
