package providers

import (
	"errors"
	"testing"
	"time"
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
		if err != nil {
			t.Fatal(err)
		}
		plain, err := New(name, secret)
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		timed := plain.Info().Timestamped
		if !timed {
			untimed++
		}
		for optName, o := range opts {
			_, err := New(name, secret, o)
			switch {
			case timed && err != nil:
				t.Errorf("%s signs a timestamp but refuses %s: %v", name, optName, err)
			case !timed && !errors.Is(err, ErrInvalidOption):
				t.Errorf("%s signs no timestamp but New(%s) = %v; want ErrInvalidOption", name, optName, err)
			}
		}
	}
	if untimed == 0 {
		t.Fatal("no preset without a timestamp: the test checked nothing")
	}
	// HubSpot signs a timestamp in v3 only.
	for _, v := range []string{"v1", "v2"} {
		if _, err := NewHubSpot("s", WithSignatureVersion(v), WithTolerance(time.Minute, time.Minute)); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("HubSpot %s with WithTolerance: %v; want ErrInvalidOption", v, err)
		}
	}
	if _, err := NewHubSpot("s", WithSignatureVersion("v3"), WithTolerance(time.Minute, time.Minute)); err != nil {
		t.Errorf("HubSpot v3 with WithTolerance: %v", err)
	}
}
