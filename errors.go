package hookguard

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/hookguard/hookguard/verify"
)

// Errors a [Receiver] or [Middleware] reports to [Hooks.OnRejected] and
// whose text it sends, as a short plain-text reason, to the sender. None of
// them carries request data, so their text is safe to send back.
var (
	// ErrMethodNotAllowed means the request did not use POST (405).
	ErrMethodNotAllowed = errors.New("hookguard: method not allowed: webhooks must be sent with POST")
	// ErrBodyTooLarge means the body is longer than the limit set with
	// [WithMaxBodySize] (413). Raise the limit if the sender's events are
	// legitimately that large.
	ErrBodyTooLarge = errors.New("hookguard: request body too large; raise the limit with WithMaxBodySize if this sender needs it")
	// ErrUnsupportedEncoding means the request had a Content-Encoding
	// other than identity (415). hookguard verifies the exact bytes
	// received and never decompresses them, which also keeps a
	// compression bomb from inflating in memory; webhook senders do not
	// compress their bodies.
	ErrUnsupportedEncoding = errors.New("hookguard: compressed bodies are not accepted (Content-Encoding); send the body as signed, uncompressed")
	// ErrBodyRead means the body could not be read in full (400), for
	// example because the client went away or sent fewer bytes than its
	// Content-Length announced.
	ErrBodyRead = errors.New("hookguard: could not read the request body")
	// ErrInsecureTransport means a delivery did not arrive over TLS (403)
	// for a verifier whose sender proves itself with a shared token (see
	// [SharedTokenVerifier]), or for any verifier with [WithRequireTLS].
	// It is answered before the body is read, so the token is never
	// compared. "Over TLS" means the connection was TLS (r.TLS is set), or
	// the peer is a proxy listed in [WithTrustedProxies] that says
	// X-Forwarded-Proto: https; a loopback peer whose request carries no
	// forwarding header is let through for local development.
	ErrInsecureTransport = errors.New("hookguard: plain HTTP refused: this endpoint takes webhooks only over HTTPS, since a shared token sent in clear can be read and replayed: serve TLS, or put the endpoint behind a TLS proxy listed in WithTrustedProxies")
	// ErrRateLimited means a rate limit set with [WithRateLimit] or
	// [WithPerIPRateLimit] was exceeded (429).
	ErrRateLimited = errors.New("hookguard: rate limit exceeded; retry later")
	// ErrDeliveryPending means another copy of the same event is still
	// being accepted (409). The sender should retry: if the first copy
	// fails, the retry gets through.
	ErrDeliveryPending = errors.New("hookguard: another copy of this event is still being accepted; retry later")
	// ErrStoreUnavailable means the dedupe store failed and the receiver
	// was built with [WithFailClosed] (503).
	ErrStoreUnavailable = errors.New("hookguard: dedupe store unavailable; retry later")
	// ErrVerification wraps, together with the Verifier's own error, every
	// verification failure reported to [Hooks.OnRejected]. The answer is
	// the status [verify.StatusCode] gives (401 when it gives none) and the
	// text of the [*verify.Error] or verify sentinel; any other error's
	// text is not sent, this one's is.
	ErrVerification = errors.New("hookguard: signature verification failed")
	// ErrQueueFull means the queue had no room for the event (503). The
	// event was not marked seen, so the sender's retry is accepted once
	// there is room.
	ErrQueueFull = errors.New("hookguard: queue full; retry later")
	// ErrShuttingDown means the receiver or queue is shutting down and
	// takes no new events (503).
	ErrShuttingDown = errors.New("hookguard: shutting down; retry later")
)

// Configuration errors returned by [New], [Middleware] and
// [NewMemoryQueue], which check every value before anything starts and
// never panic on one.
var (
	// ErrNilVerifier means [New] or [Middleware] got a nil [Verifier].
	// There is no way to receive webhooks without checking signatures.
	ErrNilVerifier = errors.New("hookguard: nil Verifier: pass a provider preset such as providers.NewGitHub(secret)")
	// ErrNilHandler means [New] got a nil [Handler] and no [WithQueue],
	// or [NewMemoryQueue] got a nil Handler.
	ErrNilHandler = errors.New("hookguard: nil Handler: pass a Handler, or a Queue with WithQueue")
	// ErrInvalidOption means an option was given a value it cannot use,
	// or an option that does not apply where it was given; the wrapping
	// error names the option and the value, and says what to do.
	ErrInvalidOption = errors.New("hookguard: invalid option")
)

// verifySentinels lists package verify's sentinels whose text is safe to
// send back when a verifier wraps them in something else.
var verifySentinels = [...]error{
	verify.ErrMissingSignature,
	verify.ErrMalformedSignature,
	verify.ErrSignatureMismatch,
	verify.ErrMissingTimestamp,
	verify.ErrMalformedTimestamp,
	verify.ErrTimestampTooOld,
	verify.ErrTimestampTooNew,
	verify.ErrMissingHeader,
}

// verifyFailure maps a Verifier's error to a status and a reason that is
// safe to send: the text of a *verify.Error (which never contains a
// signature or secret), else the text of the verify sentinel it wraps, else
// a generic one. Misconfiguration (an empty secret) is 500 with a generic
// reason, so nothing about the configuration leaks.
func verifyFailure(err error) (int, string) {
	status := verify.StatusCode(err)
	if status == 0 {
		status = http.StatusUnauthorized
	}
	if status >= 500 {
		return status, "hookguard: receiver misconfigured"
	}
	var ve *verify.Error
	if errors.As(err, &ve) {
		return status, ve.Error()
	}
	for _, s := range verifySentinels {
		if errors.Is(err, s) {
			return status, s.Error()
		}
	}
	return status, ErrVerification.Error()
}

// statusOf is the single table from the pipeline's own errors to HTTP
// statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnsupportedEncoding):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrBodyRead):
		return http.StatusBadRequest
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrInsecureTransport):
		return http.StatusForbidden
	case errors.Is(err, ErrDeliveryPending):
		return http.StatusConflict
	}
	// Queue full, shutting down, store down and any error from a
	// user-supplied Queue: transient, so the sender retries.
	return http.StatusServiceUnavailable
}

// reasonOf is the text sent for one of the pipeline's own errors. Errors
// from a user's Queue are not echoed: they may name internal systems.
func reasonOf(err error) string {
	for _, s := range [...]error{
		ErrMethodNotAllowed, ErrBodyTooLarge, ErrUnsupportedEncoding, ErrBodyRead, ErrRateLimited,
		ErrInsecureTransport, ErrDeliveryPending, ErrStoreUnavailable, ErrQueueFull, ErrShuttingDown,
	} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "hookguard: queue unavailable; retry later"
}

// writeText writes a short plain-text answer.
func writeText(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	vals := []string{"text/plain; charset=utf-8", "nosniff"} // one allocation, not shared
	h["Content-Type"] = vals[0:1:1]
	h["X-Content-Type-Options"] = vals[1:2:2]
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
	_, _ = io.WriteString(w, "\n")
}

// retryAfterValue renders d as whole seconds, at least 1.
func retryAfterValue(secs int64) string {
	if secs < 1 {
		secs = 1
	}
	return strconv.FormatInt(secs, 10)
}

// permanentError marks an error that must not be retried.
type permanentError struct{ err error }

func (p *permanentError) Error() string {
	if p.err == nil {
		return "hookguard: permanent failure"
	}
	return p.err.Error()
}

func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as permanent: a [MemoryQueue] sends the event to the
// dead-letter hook at once instead of retrying it. Use it for failures a
// retry cannot fix, such as a payload the handler does not understand.
// Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	if IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with
// [Permanent].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
