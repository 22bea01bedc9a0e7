package queuetest_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoAssertionLibrary checks that the kit's own code imports no
// assertion library: users call it from their tests, written with or
// without testify, and its tests alone may use testify.
func TestNoAssertionLibrary(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH; cannot list the kit's dependencies")
	}
	out, err := exec.Command(goCmd, "list", "-deps", "github.com/hookguard/hookguard/queuetest").Output()
	require.NoError(t, err, "go list -deps github.com/hookguard/hookguard/queuetest")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/hookguard/hookguard/queuetest", "go list -deps did not list the kit itself")
	for _, p := range deps {
		require.False(t, strings.HasPrefix(p, "github.com/stretchr/testify"), "the kit's non-test code depends on %s", p)
	}
}
