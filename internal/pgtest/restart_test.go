package pgtest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookguard/hookguard/internal/pgtest"
)

// TestKillRestart: after Kill (a crash) or Stop the server's processes
// are all gone, its port is free and the pool fails; after Restart the
// server answers on the same port, the same pool works again by itself
// (a broken idle connection fails one query and is replaced), and every
// row committed before the outage, the last one included, is there. Twice in a row, to show that a restarted server can be killed
// again.
func TestKillRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		down func(*pgtest.Server)
	}{
		{"kill", (*pgtest.Server).Kill},
		{"stop", (*pgtest.Server).Stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := pgtest.Start(t, pgtest.WithFsync(false), pgtest.WithSetting("synchronous_commit", "on"))
			ctx := t.Context()
			pool, port := s.Pool(), s.Port()
			if _, err := pool.Exec(ctx, "CREATE TABLE t (n int)"); err != nil {
				t.Fatal(err)
			}
			want := 0
			for cycle := range 2 {
				if _, err := pool.Exec(ctx, "INSERT INTO t SELECT generate_series(1, 100)"); err != nil {
					t.Fatal(err)
				}
				// The last commit right before the crash must survive too.
				if _, err := pool.Exec(ctx, "INSERT INTO t VALUES (0)"); err != nil {
					t.Fatal(err)
				}
				want += 101
				// Leave several idle connections in the pool, all of which
				// the outage breaks.
				var held []*pgxpool.Conn
				for range 3 {
					c, err := pool.Acquire(ctx)
					if err != nil {
						t.Fatal(err)
					}
					held = append(held, c)
				}
				for _, c := range held {
					c.Release()
				}
				pid := s.PID()
				kids := children(t, pid)
				if len(kids) == 0 && procAvailable() {
					t.Fatalf("cycle %d: postgres %d has no child processes; want its backends and background workers", cycle, pid)
				}
				start := time.Now()
				tc.down(s)
				t.Logf("cycle %d: %s took %v (%d child processes)", cycle, tc.name, time.Since(start), len(kids))

				if s.PID() != 0 {
					t.Errorf("cycle %d: PID() = %d after %s; want 0", cycle, s.PID(), tc.name)
				}
				for _, k := range append(kids, pid) {
					if running(k) {
						t.Errorf("cycle %d: process %d of the cluster still runs after %s", cycle, k, tc.name)
					}
				}
				ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				if err != nil {
					t.Errorf("cycle %d: port %d not free after %s: %v", cycle, port, tc.name, err)
				} else {
					_ = ln.Close()
				}
				qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if _, err := pool.Exec(qctx, "SELECT 1"); err == nil {
					t.Errorf("cycle %d: the pool still answers after %s", cycle, tc.name)
				}
				cancel()

				start = time.Now()
				s.Restart()
				t.Logf("cycle %d: Restart took %v", cycle, time.Since(start))
				if s.PID() == 0 || s.PID() == pid || s.Port() != port || s.Pool() != pool {
					t.Fatalf("cycle %d: after Restart PID %d (was %d), port %d (was %d), same pool %v; want a new process on the same port with the same pool",
						cycle, s.PID(), pid, s.Port(), port, s.Pool() == pool)
				}
				// The pool drops its dead connections and dials new ones.
				var n, failures int
				deadline := time.Now().Add(10 * time.Second)
				for {
					err := pool.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n)
					if err == nil {
						break
					}
					failures++
					if time.Now().After(deadline) {
						t.Fatalf("cycle %d: the pool still fails 10s after Restart (%d failures): %v", cycle, failures, err)
					}
					time.Sleep(10 * time.Millisecond)
				}
				t.Logf("cycle %d: the pool failed %d times after Restart before it worked", cycle, failures)
				if n != want {
					t.Errorf("cycle %d: %d rows after the restart; want the %d committed before it", cycle, n, want)
				}
			}
		})
	}
}

// TestCleanupAfterKill: a server killed, or killed and restarted, when
// its test ends is cleaned up like a running one: its directory is
// removed and no process is left.
func TestCleanupAfterKill(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restart bool
	}{
		{"killed at the end", false},
		{"restarted at the end", true},
	} {
		var dir string
		var pid int
		t.Run(tc.name, func(t *testing.T) {
			s := pgtest.Start(t, pgtest.WithFsync(false))
			dir = s.Dir()
			s.Kill()
			if tc.restart {
				s.Restart()
			}
			pid = s.PID()
		})
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the server's directory is still there after the test: %v", tc.name, err)
		}
		if pid != 0 && running(pid) {
			t.Errorf("%s: postgres %d still runs after the test", tc.name, pid)
		}
	}
}

// TestKillRestartMisuseHelper misuses Kill and Restart in the way
// PGTEST_CHILD names; TestKillRestartMisuse runs it in a child process.
func TestKillRestartMisuseHelper(t *testing.T) {
	mode := os.Getenv("PGTEST_CHILD")
	if mode != "killtwice" && mode != "restartrunning" {
		t.Skip("run by TestKillRestartMisuse")
	}
	s := pgtest.Start(t, pgtest.WithFsync(false))
	if mode == "killtwice" {
		s.Kill()
		s.Kill()
	} else {
		s.Restart()
	}
	t.Error("the misuse did not fail the test")
}

// TestKillRestartMisuse: Kill of a server that is not running and Restart
// of one that is fail the test, saying why.
func TestKillRestartMisuse(t *testing.T) {
	pgtest.Available(t)
	for mode, want := range map[string]string{
		"killtwice":      "pgtest: Kill: the server is not running",
		"restartrunning": "pgtest: Restart: the server still runs",
	} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillRestartMisuseHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "PGTEST_CHILD="+mode)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("err %v, output:\n%s\nwant a failure saying %q", err, out, want)
			}
		})
	}
}

func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// children lists the processes whose parent is pid, from /proc; none
// where there is no /proc.
func children(t *testing.T, pid int) []int {
	t.Helper()
	if !procAvailable() {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := stat(n); ok && ppid == pid {
			kids = append(kids, n)
		}
	}
	return kids
}

// stat reads a process's state and parent from /proc/PID/stat.
func stat(pid int) (state string, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0], ppid, err == nil
}

// running reports whether pid runs: it exists and is not a zombie.
func running(pid int) bool {
	if !procAvailable() {
		return syscall.Kill(pid, 0) == nil
	}
	st, _, ok := stat(pid)
	return ok && st != "Z" && st != "X"
}
