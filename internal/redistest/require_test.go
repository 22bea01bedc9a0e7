package redistest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hookguard/hookguard/internal/redistest"
)

// TestMissingBinaryHelper calls Start with a redis-server path that does
// not exist; TestMissingBinary runs it in a child process.
func TestMissingBinaryHelper(t *testing.T) {
	if os.Getenv("REDISTEST_CHILD") == "" {
		t.Skip("run by TestMissingBinary")
	}
	redistest.Start(t)
	t.Error("Start returned without a redis-server")
}

// TestMissingBinary: without redis-server a test is skipped with a clear
// message, unless HOOKGUARD_REQUIRE_REDIS=1 makes it fail.
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
		cmd.Env = append(os.Environ(), "REDISTEST_CHILD=1", redistest.BinaryEnv+"=", redistest.RequireEnv+"="+tc.require, "PATH="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "redis-server not found") {
			t.Errorf("%s=%q: err %v, output:\n%s\nwant %q and the reason", redistest.RequireEnv, tc.require, err, out, tc.want)
		}
	}
}
