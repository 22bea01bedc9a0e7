package verify_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			assert.Equal(t, tc.want, verify.StatusCode(tc.err), "StatusCode")
			if tc.err == nil {
				return
			}
			wrapped := fmt.Errorf("context: %w", tc.err)
			assert.Equal(t, tc.want, verify.StatusCode(wrapped), "StatusCode(wrapped)")
			f := verify.Fail("acme", tc.err, "reason")
			assert.Equal(t, tc.want, f.Status, "Fail(...).Status")
			assert.ErrorIs(t, fmt.Errorf("outer: %w", f), tc.err, "errors.Is through a wrapped *Error")
		})
	}
}

func TestError(t *testing.T) {
	err := verify.Fail("stripe", verify.ErrSignatureMismatch, "no v1 signature matches: check the endpoint secret")
	assert.Equal(t, "stripe: no v1 signature matches: check the endpoint secret", err.Error(), "Error()")
	assert.Equal(t, "stripe", err.Provider, "Fail fields: Provider")
	assert.Equal(t, http.StatusUnauthorized, err.Status, "Fail fields: Status")
	assert.Same(t, verify.ErrSignatureMismatch, err.Err, "Fail fields: Err")
	wrapped := fmt.Errorf("handler: %w", err)
	assert.ErrorIs(t, wrapped, verify.ErrSignatureMismatch)
	assert.NotErrorIs(t, wrapped, verify.ErrMissingSignature, "errors.Is matched the wrong sentinel")
	var ve *verify.Error
	require.ErrorAs(t, wrapped, &ve, "errors.As did not find the *Error")
	require.Same(t, err, ve, "errors.As found another *Error")
	assert.Same(t, verify.ErrSignatureMismatch, errors.Unwrap(err), "Unwrap")
	assert.Equal(t, "bare", (&verify.Error{Reason: "bare"}).Error(), "Error() without provider")

	// An explicit Status wins over the sentinel's; a zero Status falls
	// back to the sentinel.
	custom := &verify.Error{Provider: "p", Reason: "r", Status: http.StatusTeapot, Err: verify.ErrSignatureMismatch}
	assert.Equal(t, http.StatusTeapot, verify.StatusCode(fmt.Errorf("x: %w", custom)), "StatusCode(custom)")
	zero := &verify.Error{Provider: "p", Reason: "r", Err: verify.ErrMissingHeader}
	assert.Equal(t, http.StatusBadRequest, verify.StatusCode(zero), "StatusCode(zero Status)")
	unknown := verify.Fail("p", errors.New("other"), "r")
	assert.Zero(t, unknown.Status, "Fail with an unknown kind: Status")
	assert.Zero(t, verify.StatusCode(unknown), "Fail with an unknown kind: StatusCode")
}
