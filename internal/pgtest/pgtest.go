// Package pgtest runs a real PostgreSQL server for tests.
//
// [Start] creates a fresh cluster with initdb in a temporary directory,
// runs postgres on a free loopback port (its unix socket in that
// directory too), waits until it accepts connections, creates a database
// and hands back its URL and a pgx pool. The server is stopped, by its
// process ID, and its directory removed when the test ends; on Linux the
// server is also killed if the test process dies first.
//
// [Server.Kill] crashes the server (SIGKILL to the postmaster; its
// backends exit on their own) and waits until no process of the cluster
// is left and the port is free; [Server.Restart] starts the same data
// directory on the same port again, which runs PostgreSQL's crash
// recovery, and waits until it accepts connections.
// The pool of [Server.Pool] is not rebuilt: pgxpool drops the dead
// connections and dials new ones, so it works again by itself. What was
// committed before the kill is there after the restart, unless
// synchronous_commit is off: [WithFsync](false) turns it off, so add
// [WithSetting]("synchronous_commit", "on") in tests that kill the server
// and check what survived.
//
// initdb refuses to run as root. When the tests run as root, as CI does,
// the cluster is created and run as the "postgres" OS user (which the
// Debian postgresql package creates), in a directory owned by that user.
//
// The binaries are looked up in the directory named by the PG_BINDIR
// environment variable when it is set, else on PATH, else in
// /usr/lib/postgresql/*/bin (where Debian puts them), newest version
// first. When they cannot be found the test is skipped, unless
// HOOKGUARD_REQUIRE_POSTGRES=1 is set, as CI does: then it fails.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RequireEnv is the environment variable that turns missing PostgreSQL
// binaries into a test failure instead of a skip.
const RequireEnv = "HOOKGUARD_REQUIRE_POSTGRES"

// BinDirEnv names an environment variable that may hold the directory of
// the initdb and postgres binaries. When it is set, only that directory is
// searched.
const BinDirEnv = "PG_BINDIR"

// DefaultDatabase is the name of the database [Start] creates unless
// [WithDatabase] names another.
const DefaultDatabase = "hookguard_test"

// startTimeout bounds how long Start waits for the server to accept
// connections, and Stop for it to exit before it is killed.
const startTimeout = 30 * time.Second

// Option configures [Start].
type Option func(*config)

type config struct {
	fsync    bool
	database string
	settings []string
}

// WithFsync turns fsync (and synchronous_commit and full_page_writes) on
// or off. It is on by default, as in production; turn it off for tests
// that need speed but not durability across a crash of the machine.
// Without synchronous_commit, the last commits (up to about 600ms of them)
// are also lost when the server crashes ([Server.Kill]) while the machine
// survives; WithSetting("synchronous_commit", "on") after WithFsync(false)
// keeps them and most of the speed.
func WithFsync(on bool) Option {
	return func(c *config) { c.fsync = on }
}

// WithDatabase sets the name of the database Start creates (default
// [DefaultDatabase]). The name must be a plain identifier: lower-case
// letters, digits and underscores, starting with a letter.
func WithDatabase(name string) Option {
	return func(c *config) { c.database = name }
}

// WithSetting adds a server setting, as postgres -c name=value takes it,
// for example WithSetting("max_connections", "200"). Later settings
// override earlier ones and the defaults.
func WithSetting(name, value string) Option {
	return func(c *config) { c.settings = append(c.settings, name+"="+value) }
}

var identRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Server is a postgres process owned by one test.
type Server struct {
	tb       testing.TB
	dir      string // owned by the server's OS user; removed at cleanup
	port     int
	database string
	pool     *pgxpool.Pool

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	log    *os.File
	bin    string   // the postgres binary, for Restart
	args   []string // its arguments, the port included
	cred   *syscall.Credential
}

// Binaries returns the directory that holds initdb and postgres, or ""
// when there is none.
func Binaries() string {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir, ok := os.LookupEnv(BinDirEnv); ok && dir != "" {
		if has(dir) {
			return dir
		}
		return ""
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	return ""
}

// version returns the major version in a /usr/lib/postgresql/N/bin path.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Available reports whether tests can start a server, and returns the
// binaries' directory. When they are missing and HOOKGUARD_REQUIRE_POSTGRES=1
// is set, it fails tb; otherwise it skips tb.
func Available(tb testing.TB) string {
	tb.Helper()
	if dir := Binaries(); dir != "" {
		return dir
	}
	const msg = "pgtest: initdb and postgres not found (in $" + BinDirEnv + ", on PATH or in /usr/lib/postgresql/*/bin); install them (apt install postgresql) to run the Postgres tests"
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatal(msg + "; " + RequireEnv + "=1 makes this a failure")
	}
	tb.Skip(msg)
	return ""
}

// Start runs a fresh PostgreSQL server for tb, listening on 127.0.0.1
// only, with trust authentication for the "postgres" role, creates a
// database and opens a pool to it. Everything is stopped and removed when
// tb ends. It skips tb (or fails it, see [RequireEnv]) when the binaries
// are missing, and fails it when the server cannot be started.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	bin := Available(tb)
	c := config{fsync: true, database: DefaultDatabase}
	for _, o := range opts {
		o(&c)
	}
	if !identRE.MatchString(c.database) {
		tb.Fatalf("pgtest: WithDatabase(%q): use lower-case letters, digits and underscores, starting with a letter", c.database)
	}
	cred, err := credential()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	s := &Server{tb: tb, dir: dir, database: c.database}
	tb.Cleanup(s.cleanup)
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			tb.Fatalf("pgtest: give the data directory to the postgres user: %v", err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"),
		"-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.SysProcAttr = sysProcAttr(cred)
	initdb.Env = childEnv()
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	args := []string{
		"-D", filepath.Join(dir, "data"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + dir,
		"-c", "max_connections=50",
		"-c", "shared_buffers=16MB",
		"-c", "logging_collector=off",
	}
	if !c.fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for _, set := range c.settings {
		args = append(args, "-c", set)
	}
	for range 5 { // a free port can be taken by someone else before we bind it
		s.port, err = freePort()
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		if err = s.launch(filepath.Join(bin, "postgres"), append(args, "-p", strconv.Itoa(s.port)), cred); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.urlOf("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+c.database)
	_ = conn.Close(ctx)
	if err != nil {
		tb.Fatalf("pgtest: create database %s: %v", c.database, err)
	}
	s.pool, err = pgxpool.New(ctx, s.URL())
	if err != nil {
		tb.Fatalf("pgtest: open a pool: %v", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		tb.Fatalf("pgtest: ping %s: %v", s.URL(), err)
	}
	return s
}

// credential returns the postgres OS user's credential when this process
// runs as root (initdb refuses root), else nil.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, initdb and postgres must run as the postgres OS user, which was not found (%v): create it (apt install postgresql does) or run the tests as another user", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("the postgres OS user's ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// childEnv is the environment of initdb and postgres: this process's,
// without the PG* variables that would point them elsewhere.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// launch starts postgres and waits until it accepts connections.
func (s *Server) launch(bin string, args []string, cred *syscall.Credential) error {
	logf, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("postgres-%d.log", time.Now().UnixNano())))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(cred)
	cmd.Env = childEnv()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.log = cmd, exited, logf
	s.bin, s.args, s.cred = bin, args, cred
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.urlOf("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-exited:
			return fmt.Errorf("postgres on port %d exited at start: %s", s.port, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("postgres on port %d did not accept connections within %v: %v; log: %s", s.port, startTimeout, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond) // polling a process we do not control
	}
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	s.mu.Lock()
	f := s.log
	s.mu.Unlock()
	if f == nil {
		return ""
	}
	b, _ := os.ReadFile(f.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

func (s *Server) urlOf(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// URL returns the database's URL,
// "postgres://postgres@127.0.0.1:PORT/DATABASE?sslmode=disable".
func (s *Server) URL() string { return s.urlOf(s.database) }

// Dir returns the server's directory: the cluster in data/, the unix
// socket and the server's log. It is removed when the test ends.
func (s *Server) Dir() string { return s.dir }

// Port returns the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Database returns the name of the database Start created.
func (s *Server) Database() string { return s.database }

// Pool returns a pool of connections to the database, closed when the
// test ends.
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// PID returns the server's process ID, 0 after it has exited.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	select {
	case <-s.exited:
		return 0
	default:
		return s.cmd.Process.Pid
	}
}

// Stop shuts the server down (a fast shutdown: SIGINT; open sessions are
// ended) and waits until it has exited; after startTimeout it is killed.
// The pool's connections fail from then on. Stop is called when the test
// ends; calling it earlier is allowed.
func (s *Server) Stop() {
	s.tb.Helper()
	s.stop(syscall.SIGINT)
}

func (s *Server) stop(sig os.Signal) {
	s.mu.Lock()
	cmd, exited, logf := s.cmd, s.exited, s.log
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
	default:
		_ = cmd.Process.Signal(sig)
		select {
		case <-exited:
		case <-time.After(startTimeout):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
	}
	_ = logf.Close()
}

func (s *Server) cleanup() {
	if s.pool != nil {
		s.pool.Close()
	}
	s.stop(syscall.SIGINT)
	if err := os.RemoveAll(s.dir); err != nil {
		s.tb.Errorf("pgtest: remove the server's directory: %v", err)
	}
}

// Kill crashes the server: it sends SIGKILL to the postmaster and waits
// until it has exited, until every process it had started has exited too
// and until its port is free. New connections are refused at once. The
// backends and background processes notice the postmaster's death when
// they next wait, and exit without a shutdown checkpoint: a statement
// running at the kill finishes first (its COMMIT, if it was one, is
// durable with synchronous_commit on), then its connection is closed, so
// the pool's connections fail from then on. [Server.Restart] brings the
// server back. Kill fails the test if the server is not running or a
// process of it is still there after 30s. Call it from the test's
// goroutine.
func (s *Server) Kill() {
	s.tb.Helper()
	if err := s.kill(); err != nil {
		s.tb.Fatalf("pgtest: Kill: %v", err)
	}
}

func (s *Server) kill() error {
	s.mu.Lock()
	cmd, exited, logf := s.cmd, s.exited, s.log
	s.mu.Unlock()
	if cmd == nil {
		return errors.New("the server was never started")
	}
	select {
	case <-exited:
		return errors.New("the server is not running")
	default:
	}
	pid := cmd.Process.Pid
	// Stopped, the postmaster starts no new process while its children
	// are listed; SIGKILL ends it stopped or not.
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stop postgres %d: %w", pid, err)
	}
	children, err := childrenOf(pid)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(startTimeout):
		return fmt.Errorf("postgres %d still runs %v after SIGKILL", pid, startTimeout)
	}
	_ = logf.Close()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(startTimeout)
	for _, c := range children {
		for c.alive() {
			if time.Now().After(deadline) {
				for _, c := range children {
					_ = syscall.Kill(c.pid, syscall.SIGKILL)
				}
				return fmt.Errorf("process %d of the cluster still ran %v after the postmaster was killed; killed it", c.pid, startTimeout)
			}
			time.Sleep(10 * time.Millisecond) // polling processes we cannot wait for
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d still taken after the server was killed: %w", s.port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart starts the server again after [Server.Kill] or [Server.Stop]:
// the same data directory and settings, on the same port. PostgreSQL
// recovers from its write-ahead log; Restart waits until it accepts
// connections. The pool of [Server.Pool] reconnects by itself. Restart
// fails the test if the server still runs or does not come back (the
// port may have been taken meanwhile). Call it from the test's goroutine.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	cmd, exited, bin, args, cred := s.cmd, s.exited, s.bin, s.args, s.cred
	s.mu.Unlock()
	if cmd == nil {
		s.tb.Fatal("pgtest: Restart: the server was never started")
	}
	select {
	case <-exited:
	default:
		s.tb.Fatal("pgtest: Restart: the server still runs; Kill or Stop it first")
	}
	if err := s.launch(bin, args, cred); err != nil {
		s.tb.Fatalf("pgtest: Restart: %v", err)
	}
}

// child is a process the postmaster started, told apart from a later
// process with the same ID by its start time (where it is known).
type child struct {
	pid   int
	start string
}

// childrenOf lists the processes whose parent is pid: from /proc where
// there is one, else with pgrep -P.
func childrenOf(pid int) ([]child, error) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		out, err := exec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: none found
			return nil, fmt.Errorf("list the processes of postgres %d (no /proc; pgrep -P): %w", pid, err)
		}
		var cs []child
		for _, f := range strings.Fields(string(out)) {
			if n, err := strconv.Atoi(f); err == nil {
				cs = append(cs, child{pid: n})
			}
		}
		return cs, nil
	}
	// Wait until the postmaster is stopped: a fork under way when SIGSTOP
	// was sent has then finished, and its child is listed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _, _, ok := procStat(pid)
		if !ok || st == "T" || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list the processes of postgres %d: %w", pid, err)
	}
	var cs []child
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, start, ok := procStat(n); ok && ppid == pid {
			cs = append(cs, child{pid: n, start: start})
		}
	}
	return cs, nil
}

// procStat reads a process's state, parent and start time from
// /proc/PID/stat.
func procStat(pid int) (state string, ppid int, start string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return "", 0, "", false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state), f[19] field 22 (starttime)
	if len(f) < 20 {
		return "", 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0], ppid, f[19], err == nil
}

// alive reports whether the process still runs: it exists, is not a
// zombie (which holds no shared memory and no socket) and is the same
// process (its start time, when known, is unchanged).
func (c child) alive() bool {
	if c.start == "" {
		return syscall.Kill(c.pid, 0) == nil
	}
	st, _, start, ok := procStat(c.pid)
	return ok && st != "Z" && st != "X" && start == c.start
}
