package pgtest_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/internal/pgtest"
)

// TestDiesWithTestProcessHelper starts a server, prints its PID and waits
// to be killed; TestDiesWithTestProcess runs it in a child process.
func TestDiesWithTestProcessHelper(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "die" {
		t.Skip("run by TestDiesWithTestProcess")
	}
	s := pgtest.Start(t, pgtest.WithFsync(false))
	fmt.Printf("DIR=%s\nPID=%d\n", s.Dir(), s.PID())
	time.Sleep(time.Minute)
}

// TestDiesWithTestProcess: when a test binary is killed (a timeout, a
// crash) its server does not outlive it.
func TestDiesWithTestProcess(t *testing.T) {
	pgtest.Available(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiesWithTestProcessHelper$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=die")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "DIR="); ok && strings.Contains(v, "pgtest-") {
			// The killed child cannot clean up after itself.
			t.Cleanup(func() { _ = os.RemoveAll(v) })
		}
		if v, ok := strings.CutPrefix(sc.Text(), "PID="); ok {
			pid, _ = strconv.Atoi(v)
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if pid == 0 {
		t.Fatal("the child printed no server PID")
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("server %d still runs 10s after its test process was killed", pid)
		}
		time.Sleep(20 * time.Millisecond) // polling a process we do not own
	}
}

// alive reports whether pid runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
