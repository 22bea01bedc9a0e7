package verify

import (
	"errors"
	"net/http"
	"time"
)

// Sentinel errors for the kinds of failure a caller acts on. Provider
// presets wrap them in an [*Error] that adds the provider name and a reason
// a person can act on; match them with [errors.Is].
var (
	// ErrMissingSignature means the request carries no signature header.
	ErrMissingSignature = errors.New("verify: missing signature")
	// ErrMalformedSignature means the signature header is present but no
	// entry in it could be parsed and decoded.
	ErrMalformedSignature = errors.New("verify: malformed signature")
	// ErrSignatureMismatch means no configured secret produced any of the
	// signatures the request carries.
	ErrSignatureMismatch = errors.New("verify: signature mismatch")
	// ErrMissingTimestamp means the scheme signs a timestamp and the request
	// carries none.
	ErrMissingTimestamp = errors.New("verify: missing timestamp")
	// ErrMalformedTimestamp means the timestamp is not a plain decimal number
	// of the expected unit.
	ErrMalformedTimestamp = errors.New("verify: malformed timestamp")
	// ErrTimestampTooOld means the signed timestamp lies further in the past
	// than the window allows: a replay or a very late retry.
	ErrTimestampTooOld = errors.New("verify: timestamp too old")
	// ErrTimestampTooNew means the signed timestamp lies further in the
	// future than the window allows: a clock skew or a forged timestamp.
	ErrTimestampTooNew = errors.New("verify: timestamp too new")
	// ErrMissingHeader means a header the scheme needs to rebuild the signed
	// content (other than the signature and timestamp) is absent.
	ErrMissingHeader = errors.New("verify: missing header")
	// ErrEmptySecret is a configuration error: no secret, or an empty one,
	// was given. hookguard never reads "no secret" as "skip verification".
	ErrEmptySecret = errors.New("verify: empty secret")
	// ErrInvalidSecret is a configuration error: the secret or key could not
	// be decoded in the format the scheme uses.
	ErrInvalidSecret = errors.New("verify: invalid secret")
)

// Sentinel errors for a JSON body that decoders would not agree on. The
// presets read an event's ID and type with a scanner that refuses such a
// body, wrapping one of these in an error whose text names the member. A
// body from a genuine sender never triggers them; a receiver refuses the
// delivery with a 400. Match them with [errors.Is].
var (
	// ErrAmbiguousJSON means an object along the path holds two or more
	// members whose names match the wanted one as encoding/json matches a
	// name to a struct field (ignoring case, with Unicode simple folding,
	// so "ID", "Id" and "\u0069d" all match "id"), or a single member whose
	// name matches only that way. encoding/json decodes the last such
	// member into a struct, a map keeps only the exact name, and other
	// decoders take the first: the body has no one value for the name.
	ErrAmbiguousJSON = errors.New("verify: ambiguous JSON member")
	// ErrInvalidJSONString means the value looked for is a string that
	// holds invalid UTF-8 or an escaped lone surrogate ("\ud800"), which
	// encoding/json decodes to U+FFFD: two different values would read as
	// the same string, and an event ID must not.
	ErrInvalidJSONString = errors.New("verify: JSON string is not valid Unicode")
)

// Error is the error a provider preset returns when a request fails
// verification. Its text is safe to send to the client: it never holds a
// computed signature, a secret or the body.
//
// Unwrap returns one of the sentinel errors of this package, so
// errors.Is(err, verify.ErrSignatureMismatch) works through it.
type Error struct {
	// Provider is the preset's name, for example "stripe".
	Provider string
	// Reason says what was wrong and what to check, for example
	// "no Stripe-Signature header: is this endpoint registered with Stripe?".
	Reason string
	// Status is the HTTP status the failure maps to (400 or 401).
	Status int
	// Err is the sentinel error that classifies the failure.
	Err error
	// Skew is set when the signed timestamp fell outside the replay
	// window ([ErrTimestampTooOld], [ErrTimestampTooNew]): how far the
	// receiver's clock was past that timestamp, negative when the
	// timestamp lies in the future. A steady skew on many deliveries
	// points at a clock to fix (NTP) rather than at replays.
	Skew time.Duration
}

// Fail returns an [*Error] for provider that wraps kind, with the HTTP
// status that kind maps to (see [StatusCode]).
func Fail(provider string, kind error, reason string) *Error {
	return &Error{Provider: provider, Reason: reason, Status: StatusCode(kind), Err: kind}
}

// Error returns "provider: reason".
func (e *Error) Error() string {
	if e.Provider == "" {
		return e.Reason
	}
	return e.Provider + ": " + e.Reason
}

// Unwrap returns the sentinel error that classifies e.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode maps a verification error to the HTTP status a receiver
// should answer with: 400 for a missing or malformed signature, timestamp
// or header; 401 for a signature mismatch or a timestamp outside the
// window; 500 for a configuration error. It returns the Status of an
// [*Error] when err is one, and 0 when err is nil or of no known kind.
func StatusCode(err error) int {
	if err == nil {
		return 0
	}
	var ve *Error
	if errors.As(err, &ve) && ve.Status != 0 {
		return ve.Status
	}
	switch {
	case errors.Is(err, ErrSignatureMismatch),
		errors.Is(err, ErrTimestampTooOld),
		errors.Is(err, ErrTimestampTooNew):
		return http.StatusUnauthorized
	case errors.Is(err, ErrMissingSignature),
		errors.Is(err, ErrMalformedSignature),
		errors.Is(err, ErrMissingTimestamp),
		errors.Is(err, ErrMalformedTimestamp),
		errors.Is(err, ErrMissingHeader):
		return http.StatusBadRequest
	case errors.Is(err, ErrEmptySecret), errors.Is(err, ErrInvalidSecret):
		return http.StatusInternalServerError
	}
	return 0
}
