package storeargs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookguard/hookguard/dedupe"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		key, token string
		ttl        time.Duration
		checkTTL   bool
		want       error
	}{
		{"k", "t", time.Second, true, nil},
		{"", "t", time.Second, true, dedupe.ErrEmptyKey},
		{"k", "", time.Second, true, dedupe.ErrEmptyToken},
		{"k", "t", 0, true, dedupe.ErrInvalidTTL},
		{"k", "t", -time.Second, true, dedupe.ErrInvalidTTL},
		{"k", "t", 0, false, nil},
	} {
		err := Check(tc.key, tc.token, tc.ttl, tc.checkTTL)
		if tc.want == nil {
			require.NoError(t, err)
			continue
		}
		require.ErrorIs(t, err, tc.want)
	}
}
