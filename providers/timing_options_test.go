package providers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimingOptionsRefusedWithoutTimestamp is the regression test for
// options that did nothing: NewGitHub(s, WithTolerance(...)) returned a
// preset, though GitHub signs no timestamp and there is no window to set.
// Every preset that signs no timestamp refuses WithTolerance and
// WithoutTimestampCheck with ErrInvalidOption; every timestamped one takes
// them.
func TestTimingOptionsRefusedWithoutTimestamp(t *testing.T) {
	opts := map[string]Option{
		"WithTolerance":         WithTolerance(time.Minute, time.Minute),
		"WithoutTimestampCheck": WithoutTimestampCheck(),
	}
	untimed := 0
	for _, name := range Names() {
		secret, err := testSecret(name)
		require.NoError(t, err)
		plain, err := New(name, secret)
		require.NoError(t, err, "New(%q)", name)
		timed := plain.Info().Timestamped
		if !timed {
			untimed++
		}
		for optName, o := range opts {
			_, err := New(name, secret, o)
			if timed {
				assert.NoError(t, err, "%s signs a timestamp but refuses %s", name, optName)
			} else {
				assert.ErrorIs(t, err, ErrInvalidOption, "%s signs no timestamp but New(%s)", name, optName)
			}
		}
	}
	require.NotZero(t, untimed, "no preset without a timestamp: the test checked nothing")
	// HubSpot signs a timestamp in v3 only.
	for _, v := range []string{"v1", "v2"} {
		_, err := NewHubSpot("s", WithSignatureVersion(v), WithTolerance(time.Minute, time.Minute))
		assert.ErrorIs(t, err, ErrInvalidOption, "HubSpot %s with WithTolerance", v)
	}
	_, err := NewHubSpot("s", WithSignatureVersion("v3"), WithTolerance(time.Minute, time.Minute))
	assert.NoError(t, err, "HubSpot v3 with WithTolerance")
}
