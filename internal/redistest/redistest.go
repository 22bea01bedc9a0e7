// Package redistest runs a real redis-server for tests.
//
// [Start] launches redis-server on a free loopback port, in a temporary
// directory, with the append-only file on and fsync on every write, and
// stops it when the test ends. A test can kill it (SIGKILL), stop it, and
// restart it on the same port and directory, to check what a client does
// while Redis is gone and after it comes back.
//
// When the redis-server binary cannot be found (on PATH, or at the path in
// the REDIS_SERVER environment variable) the test is skipped, unless
// HOOKGUARD_REQUIRE_REDIS=1 is set, as CI does: then it fails.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequireEnv is the environment variable that turns a missing
// redis-server into a test failure instead of a skip.
const RequireEnv = "HOOKGUARD_REQUIRE_REDIS"

// BinaryEnv names an environment variable that may hold the path of the
// redis-server binary to use instead of the one on PATH.
const BinaryEnv = "REDIS_SERVER"

// startTimeout bounds how long Start and Restart wait for the server to
// answer PING.
const startTimeout = 10 * time.Second

// Option configures [Start].
type Option func(*config)

type config struct {
	args    []string
	cluster bool // the cluster bus port (port + 10000) must be free too
}

// WithConfig adds redis-server configuration directives, given as they
// are written on its command line without the leading dashes, for example
// WithConfig("appendfsync", "everysec") or WithConfig("maxmemory-policy",
// "allkeys-lru"). Later directives override earlier ones and the
// defaults.
func WithConfig(name string, values ...string) Option {
	return func(c *config) {
		c.args = append(c.args, "--"+name)
		c.args = append(c.args, values...)
	}
}

// Server is a redis-server process owned by one test.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	args []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	clients []*redis.Client
}

// Binary returns the path of redis-server, or "" when there is none.
func Binary() string {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return ""
	}
	return p
}

// Available reports whether tests can start a redis-server. When it
// cannot and HOOKGUARD_REQUIRE_REDIS=1 is set, it fails tb; otherwise it
// skips tb. Use it in helpers that need Redis but not a Server, such as a
// test binary's subprocess.
func Available(tb testing.TB) string {
	tb.Helper()
	bin := Binary()
	if bin != "" {
		return bin
	}
	const msg = "redistest: redis-server not found on PATH (or in $" + BinaryEnv + "); install it (apt install redis-server) to run the Redis tests"
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatal(msg + "; " + RequireEnv + "=1 makes this a failure")
	}
	tb.Skip(msg)
	return ""
}

// Start runs a fresh redis-server for tb, with an empty data directory,
// appendonly yes and appendfsync always, listening on 127.0.0.1 only. It
// is stopped, and its clients closed, when tb ends. It skips tb (or fails
// it, see [RequireEnv]) when redis-server is missing.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	bin := Available(tb)
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), args: c.args}
	tb.Cleanup(s.cleanup)
	var err error
	for range 5 { // a free port can be taken by someone else before we bind it
		if c.cluster {
			s.port, err = freeClusterPort()
		} else {
			s.port, err = freePort()
		}
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		if err = s.launch(); err == nil {
			return s
		}
	}
	tb.Fatalf("redistest: %v", err)
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch() error {
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--save", "",
		"--daemonize", "no",
		"--protected-mode", "yes",
		"--logfile", "redis.log",
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited at start: %s", s.port, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.signal(syscall.SIGKILL)
			return fmt.Errorf("redis-server on port %d did not answer PING within %v: %v", s.port, startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a process we do not control
	}
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

// Addr returns the server's "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns "redis://127.0.0.1:port/0".
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Dir returns the server's data directory.
func (s *Server) Dir() string { return s.dir }

// Client returns a new client of the server, closed when the test ends.
// Pass opts to change its settings; their Addr is replaced.
func (s *Server) Client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr()}
	for _, f := range opts {
		f(o)
	}
	o.Addr = s.Addr()
	c := redis.NewClient(o)
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	return c
}

// Kill sends SIGKILL to the server and waits until it has exited: the
// process dies without a chance to write anything more.
func (s *Server) Kill() {
	s.tb.Helper()
	s.signal(syscall.SIGKILL)
	s.wait()
}

// Stop shuts the server down cleanly (SIGTERM: it flushes its
// append-only file) and waits until it has exited.
func (s *Server) Stop() {
	s.tb.Helper()
	s.signal(syscall.SIGTERM)
	s.wait()
}

// Restart starts the server again on the same port and directory, after
// [Server.Kill] or [Server.Stop], and waits until it answers. It reloads
// its data from the append-only file. If the server is still running, it
// is stopped first.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	var err error
	for range 50 { // the old socket may linger for a moment
		if err = s.launch(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restart: %v", err)
}

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
	default:
		_ = cmd.Process.Signal(sig)
	}
}

func (s *Server) wait() {
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	if exited == nil {
		return
	}
	select {
	case <-exited:
	case <-time.After(startTimeout):
		s.signal(syscall.SIGKILL)
		<-exited
	}
}

func (s *Server) cleanup() {
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	for _, c := range clients {
		_ = c.Close() // closing a client of a stopped server may fail; nothing to report
	}
	s.signal(syscall.SIGKILL)
	s.wait()
}
