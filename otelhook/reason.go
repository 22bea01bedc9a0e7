package otelhook

import (
	"errors"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/verify"
)

// reasons maps errors to the bounded reason values, most specific first:
// a verification error wraps both ErrVerification and a verify sentinel.
var reasons = [...]struct {
	err    error
	reason string
}{
	{verify.ErrSignatureMismatch, "signature_mismatch"},
	{verify.ErrMissingSignature, "missing_signature"},
	{verify.ErrMalformedSignature, "malformed_signature"},
	{verify.ErrTimestampTooOld, "stale"},
	{verify.ErrTimestampTooNew, "timestamp_in_future"},
	{verify.ErrMissingTimestamp, "missing_timestamp"},
	{verify.ErrMalformedTimestamp, "malformed_timestamp"},
	{verify.ErrMissingHeader, "missing_header"},
	{verify.ErrEmptySecret, "misconfigured"},
	{verify.ErrInvalidSecret, "misconfigured"},
	{hookguard.ErrVerification, "verification_failed"},
	{hookguard.ErrMethodNotAllowed, "method_not_allowed"},
	{hookguard.ErrBodyTooLarge, "body_too_large"},
	{hookguard.ErrBodyRead, "body_read"},
	{hookguard.ErrRateLimited, "rate_limited"},
	{hookguard.ErrDeliveryPending, "pending"},
	{hookguard.ErrStoreUnavailable, "store_unavailable"},
	{hookguard.ErrQueueFull, "queue_full"},
	{hookguard.ErrShuttingDown, "shutting_down"},
}

// Reason returns a short, fixed name for why a request was refused, for
// use as a metric attribute or a label: "signature_mismatch", "stale",
// "timestamp_in_future", "missing_signature", "malformed_signature",
// "missing_timestamp", "malformed_timestamp", "missing_header",
// "misconfigured", "verification_failed", "method_not_allowed",
// "body_too_large", "body_read", "rate_limited", "pending",
// "store_unavailable", "queue_full", "shutting_down", or "other" for any
// other error (such as one from a user's Queue). It returns "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "other"
}
