package testkit

import (
	"os"
	"os/exec"
)

// RunChild runs the test named test of the current test binary in a child
// process, verbosely and once, with env (KEY=value) added to the
// environment, and returns its combined output and its error (non-nil
// when the child failed). Tests use it to check that something fails the
// test that runs it, such as a conformance kit given a broken store.
func RunChild(test string, env ...string) ([]byte, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}
