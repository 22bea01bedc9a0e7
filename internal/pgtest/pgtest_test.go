package pgtest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookguard/hookguard/internal/pgtest"
)

// TestStartConnectStop: the server accepts connections through the pool
// and the URL, in the database Start created, with fsync as asked; after
// Stop its process is gone and connections fail.
func TestStartConnectStop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []pgtest.Option
		fsync string
		db    string
	}{
		{"defaults", nil, "on", pgtest.DefaultDatabase},
		{"no fsync", []pgtest.Option{pgtest.WithFsync(false), pgtest.WithDatabase("other_db")}, "off", "other_db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s := pgtest.Start(t, tc.opts...)
			t.Logf("Start took %v", time.Since(start))
			ctx := t.Context()
			want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port(), tc.db)
			if s.URL() != want {
				t.Errorf("URL() = %q; want %q", s.URL(), want)
			}
			var db, fsync string
			if err := s.Pool().QueryRow(ctx, "SELECT current_database(), current_setting('fsync')").Scan(&db, &fsync); err != nil {
				t.Fatal(err)
			}
			if db != tc.db || fsync != tc.fsync {
				t.Errorf("database %q, fsync %q; want %q, %q", db, fsync, tc.db, tc.fsync)
			}
			conn, err := pgx.Connect(ctx, s.URL())
			if err != nil {
				t.Fatalf("connect to URL(): %v", err)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
				t.Fatal(err)
			}
			_ = conn.Close(ctx)

			pid := s.PID()
			if pid == 0 {
				t.Fatal("PID() = 0 while the server runs")
			}
			s.Stop()
			if s.PID() != 0 {
				t.Errorf("PID() = %d after Stop; want 0", s.PID())
			}
			if err := syscall.Kill(pid, 0); err == nil {
				t.Errorf("process %d still exists after Stop", pid)
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if c, err := pgx.Connect(cctx, s.URL()); err == nil {
				_ = c.Close(cctx)
				t.Error("connected after Stop")
			}
		})
	}
}

// TestParallelServers: two servers run side by side, on their own ports
// and with their own data.
func TestParallelServers(t *testing.T) {
	ports := make(chan int, 2)
	t.Run("group", func(t *testing.T) {
		for i := range 2 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				s := pgtest.Start(t, pgtest.WithFsync(false))
				ctx := t.Context()
				if _, err := s.Pool().Exec(ctx, "CREATE TABLE mine (n int)"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Pool().Exec(ctx, "INSERT INTO mine VALUES ($1)", i); err != nil {
					t.Fatal(err)
				}
				var n, count int
				if err := s.Pool().QueryRow(ctx, "SELECT min(n), count(*) FROM mine").Scan(&n, &count); err != nil {
					t.Fatal(err)
				}
				if n != i || count != 1 {
					t.Errorf("server %d holds n=%d in %d rows; want only its own row", i, n, count)
				}
				ports <- s.Port()
			})
		}
	})
	close(ports)
	var got []int
	for p := range ports {
		got = append(got, p)
	}
	if len(got) == 2 && got[0] == got[1] {
		t.Errorf("both servers on port %d", got[0])
	}
}

// TestBadDatabaseName: a name that is not a plain identifier fails the
// test instead of reaching SQL.
func TestBadDatabaseNameHelper(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "baddb" {
		t.Skip("run by TestBadDatabaseName")
	}
	pgtest.Start(t, pgtest.WithDatabase("x; DROP"))
	t.Error("Start returned with a bad database name")
}

func TestBadDatabaseName(t *testing.T) {
	pgtest.Available(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBadDatabaseNameHelper$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=baddb")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `WithDatabase("x; DROP")`) {
		t.Errorf("err %v, output:\n%s\nwant a failure naming the option", err, out)
	}
}
