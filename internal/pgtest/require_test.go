package pgtest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/pgtest"
)

// TestMissingBinaryHelper calls Start with a binaries directory that holds
// none; TestMissingBinary runs it in a child process.
func TestMissingBinaryHelper(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "missing" {
		t.Skip("run by TestMissingBinary")
	}
	pgtest.Start(t)
	t.Error("Start returned without PostgreSQL")
}

// TestMissingBinary: without initdb and postgres a test is skipped with a
// clear message, unless HOOKGUARD_REQUIRE_POSTGRES=1 makes it fail.
func TestMissingBinary(t *testing.T) {
	for _, tc := range []struct {
		require  string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestMissingBinaryHelper"},
		{"1", true, "--- FAIL: TestMissingBinaryHelper"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingBinaryHelper$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "PGTEST_CHILD=missing", pgtest.BinDirEnv+"="+t.TempDir(), pgtest.RequireEnv+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "initdb and postgres not found") {
			t.Errorf("%s=%q: err %v, output:\n%s\nwant %q and the reason", pgtest.RequireEnv, tc.require, err, out, tc.want)
		}
	}
}
