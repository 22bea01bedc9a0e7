package hookguard_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// modulePath is this module's path; its own packages are not dependencies.
const modulePath = "github.com/hookguard/hookguard"

// corePackages are the packages the README promises depend on the standard
// library and golang.org/x/time/rate only.
var corePackages = []string{
	modulePath,
	modulePath + "/verify",
	modulePath + "/providers",
	modulePath + "/dedupe",
}

// goTool returns the go command that runs the tests: go test puts its
// toolchain's bin directory first on PATH. Outside go test it falls back
// to GOROOT/bin/go of the toolchain that built the test binary.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	//lint:ignore SA1019 only a fallback, for a test binary run where it was built
	bin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Skip("no go command: neither go on PATH nor GOROOT/bin/go; cannot list the core's dependencies")
	return ""
}

// allowedCoreDep reports whether a core package may import path: a
// standard-library package (no dot in the first path element, which
// covers the standard library's vendor/golang.org/x/... copies), one of the
// module's own packages, or golang.org/x/time/rate.
func allowedCoreDep(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	switch {
	case !strings.Contains(first, "."):
		return true
	case path == modulePath || strings.HasPrefix(path, modulePath+"/"):
		return true
	}
	return path == "golang.org/x/time/rate"
}

// TestCoreDependencies checks the README's promise that the core (the root
// package, verify, providers, dedupe) depends on the standard library and
// golang.org/x/time/rate only. Test-only dependencies do not count.
func TestCoreDependencies(t *testing.T) {
	cmd := exec.Command(goTool(t), append([]string{"list", "-deps"}, corePackages...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list -deps; its standard error:\n%s", stderr.String())
	deps := strings.Fields(string(out))
	for _, p := range corePackages {
		require.Contains(t, deps, p, "go list -deps did not list %s itself", p)
	}
	var bad []string
	for _, p := range deps {
		if !allowedCoreDep(p) {
			bad = append(bad, p)
		}
	}
	require.Empty(t, bad, "the core depends on packages outside the standard library and golang.org/x/time/rate")
}

// TestKitsImportNoAssertionLibrary checks that the test kits' own code
// imports no assertion library: users call them from their tests, written
// with or without testify, and only the kits' tests may use testify.
func TestKitsImportNoAssertionLibrary(t *testing.T) {
	for _, kit := range []string{
		modulePath + "/webhooktest",
		modulePath + "/queuetest",
		modulePath + "/dedupe/dedupetest",
	} {
		t.Run(kit, func(t *testing.T) {
			out, err := exec.Command(goTool(t), "list", "-deps", kit).Output()
			require.NoError(t, err, "go list -deps %s", kit)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, kit, "go list -deps did not list the kit itself")
			for _, p := range deps {
				require.False(t, strings.HasPrefix(p, "github.com/stretchr/testify"), "%s's non-test code depends on %s", kit, p)
			}
		})
	}
}
