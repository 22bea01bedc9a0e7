package pgtest_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/hookguard/hookguard/internal/pgtest"
)

// TestRun: Run starts a server outside a test's control, with the
// settings asked for; the function it returns stops the server's process
// and removes its directory.
func TestRun(t *testing.T) {
	pgtest.Available(t)
	s, stop, err := pgtest.Run(pgtest.WithFsync(false), pgtest.WithSetting("work_mem", "7MB"))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var mem string
	if err := s.Pool().QueryRow(t.Context(), "SHOW work_mem").Scan(&mem); err != nil || mem != "7MB" {
		t.Errorf("SHOW work_mem = %q, %v; want 7MB", mem, err)
	}
	pid, dir := s.PID(), s.Dir()
	if pid == 0 {
		t.Fatal("PID() = 0 while the server runs")
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if s.PID() != 0 {
		t.Errorf("PID() = %d after stop; want 0", s.PID())
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d after stop: kill(0) = %v; want ESRCH", pid, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the server's directory after stop: %v; want it removed", err)
	}
}

// TestRunErrors: where Start would skip or fail its test, Run returns an
// error saying why, and no server.
func TestRunErrors(t *testing.T) {
	t.Run("no binaries", func(t *testing.T) {
		t.Setenv(pgtest.BinDirEnv, t.TempDir())
		s, stop, err := pgtest.Run()
		if err == nil || !strings.Contains(err.Error(), "initdb and postgres not found") || s != nil || stop != nil {
			t.Fatalf("Run without binaries = %v, %v; want an error saying they were not found, and no server", s, err)
		}
	})
	t.Run("bad setting", func(t *testing.T) {
		pgtest.Available(t)
		s, stop, err := pgtest.Run(pgtest.WithFsync(false), pgtest.WithSetting("no_such_setting", "1"))
		if err == nil || !strings.Contains(err.Error(), "exited at start") || s != nil || stop != nil {
			t.Fatalf("Run with a bad setting = %v, %v; want an error saying postgres exited, and no server", s, err)
		}
	})
}
