package queuetest_test

import (
	"github.com/hookguard/hookguard/internal/testkit"
	"os"
	"testing"
	"time"

	"github.com/hookguard/hookguard/queuetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const badOptionEnv = "QUEUETEST_BAD_OPTION"

// badOptions are the invalid options the kit must report as a test
// failure, by the name TestBadOptionHelper knows them by.
var badOptions = map[string]func() queuetest.Option{
	"WithTimeout(0s)":  func() queuetest.Option { return queuetest.WithTimeout(0) },
	"WithTimeout(-1s)": func() queuetest.Option { return queuetest.WithTimeout(-time.Second) },
	"WithGrace(-1ms)":  func() queuetest.Option { return queuetest.WithGrace(-time.Millisecond) },
	"WithEvents(9)":    func() queuetest.Option { return queuetest.WithEvents(9) },
	"WithEvents(0)":    func() queuetest.Option { return queuetest.WithEvents(0) },
}

// TestBadOptionHelper runs the kit with one invalid option; it does
// something only when TestRunReportsBadOptions starts it in a child
// process, because the kit fails the test that runs it.
func TestBadOptionHelper(t *testing.T) {
	name := os.Getenv(badOptionEnv)
	if name == "" {
		t.Skip("run by TestRunReportsBadOptions")
	}
	opt, ok := badOptions[name]
	require.True(t, ok, "unknown option %q", name)
	queuetest.Run(t, func(_ *testing.T, c queuetest.Config) queuetest.Queue {
		assert.Fail(t, "Run built a queue despite an invalid option")
		return newRefQueue(c, "")
	}, opt())
}

// TestRunReportsBadOptions checks that an invalid option neither panics
// where it is built nor when Run applies it: Run fails the test that runs
// it, with a message that names the option and its value, before any
// subtest starts.
func TestRunReportsBadOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per option")
	}
	for name, opt := range badOptions {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() { opt() }, "building %s panicked", name)
			out, err := testkit.RunChild("TestBadOptionHelper", badOptionEnv+"="+name)
			require.Error(t, err, "the kit passed with %s:\n%s", name, out)
			text := string(out)
			assert.Contains(t, text, "queuetest: invalid option: "+name+": ", "the output must report the option and its value")
			assert.NotContains(t, text, "panic:", "the kit panicked")
			assert.NotContains(t, text, "=== RUN   TestBadOptionHelper/", "subtests ran despite the invalid option")
		})
	}
}
