package verify_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard/verify"
)

func TestStatusCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{verify.ErrMissingSignature, http.StatusBadRequest},
		{verify.ErrMalformedSignature, http.StatusBadRequest},
		{verify.ErrMissingTimestamp, http.StatusBadRequest},
		{verify.ErrMalformedTimestamp, http.StatusBadRequest},
		{verify.ErrMissingHeader, http.StatusBadRequest},
		{verify.ErrSignatureMismatch, http.StatusUnauthorized},
		{verify.ErrTimestampTooOld, http.StatusUnauthorized},
		{verify.ErrTimestampTooNew, http.StatusUnauthorized},
		{verify.ErrEmptySecret, http.StatusInternalServerError},
		{verify.ErrInvalidSecret, http.StatusInternalServerError},
		{nil, 0},
		{errors.New("something else"), 0},
	}
	for _, tc := range tests {
		name := "nil"
		if tc.err != nil {
			name = tc.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			if got := verify.StatusCode(tc.err); got != tc.want {
				t.Errorf("StatusCode = %d, want %d", got, tc.want)
			}
			if tc.err == nil {
				return
			}
			wrapped := fmt.Errorf("context: %w", tc.err)
			if got := verify.StatusCode(wrapped); got != tc.want {
				t.Errorf("StatusCode(wrapped) = %d, want %d", got, tc.want)
			}
			f := verify.Fail("acme", tc.err, "reason")
			if f.Status != tc.want {
				t.Errorf("Fail(...).Status = %d, want %d", f.Status, tc.want)
			}
			if !errors.Is(fmt.Errorf("outer: %w", f), tc.err) {
				t.Error("errors.Is through a wrapped *Error failed")
			}
		})
	}
}

func TestError(t *testing.T) {
	err := verify.Fail("stripe", verify.ErrSignatureMismatch, "no v1 signature matches: check the endpoint secret")
	if got, want := err.Error(), "stripe: no v1 signature matches: check the endpoint secret"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if err.Provider != "stripe" || err.Status != http.StatusUnauthorized || err.Err != verify.ErrSignatureMismatch {
		t.Errorf("Fail fields = %+v", *err)
	}
	wrapped := fmt.Errorf("handler: %w", err)
	if !errors.Is(wrapped, verify.ErrSignatureMismatch) {
		t.Error("errors.Is(wrapped, ErrSignatureMismatch) = false")
	}
	if errors.Is(wrapped, verify.ErrMissingSignature) {
		t.Error("errors.Is matched the wrong sentinel")
	}
	var ve *verify.Error
	if !errors.As(wrapped, &ve) || ve != err {
		t.Fatalf("errors.As did not find the *Error")
	}
	if got := errors.Unwrap(err); got != verify.ErrSignatureMismatch {
		t.Errorf("Unwrap = %v", got)
	}
	if got := (&verify.Error{Reason: "bare"}).Error(); got != "bare" {
		t.Errorf("Error() without provider = %q, want %q", got, "bare")
	}

	// An explicit Status wins over the sentinel's; a zero Status falls
	// back to the sentinel.
	custom := &verify.Error{Provider: "p", Reason: "r", Status: http.StatusTeapot, Err: verify.ErrSignatureMismatch}
	if got := verify.StatusCode(fmt.Errorf("x: %w", custom)); got != http.StatusTeapot {
		t.Errorf("StatusCode(custom) = %d, want %d", got, http.StatusTeapot)
	}
	zero := &verify.Error{Provider: "p", Reason: "r", Err: verify.ErrMissingHeader}
	if got := verify.StatusCode(zero); got != http.StatusBadRequest {
		t.Errorf("StatusCode(zero Status) = %d, want 400", got)
	}
	unknown := verify.Fail("p", errors.New("other"), "r")
	if unknown.Status != 0 || verify.StatusCode(unknown) != 0 {
		t.Errorf("Fail with an unknown kind: Status %d, StatusCode %d; want 0, 0", unknown.Status, verify.StatusCode(unknown))
	}
}
