package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// result is what one in-process run of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command with args and stdin and returns what it wrote.
func runCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// writeFile writes data to a new file in a per-test directory and returns
// its path.
func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// headerArgs turns "Name: value" lines, as sign prints them, into -H
// arguments.
func headerArgs(lines string) []string {
	var args []string
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		if l != "" {
			args = append(args, "-H", l)
		}
	}
	return args
}

// lineWriter is an io.Writer, safe for concurrent use, that hands every
// complete line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 256)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default: // a test reads only the first lines it expects
		}
		w.buf = w.buf[i+1:]
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a "hookguard serve" running in a goroutine.
type server struct {
	addr   string // the webhook listener, --addr
	uiAddr string // the inspector and /metrics, --ui-addr
	stdout *lineWriter
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan int
	once   sync.Once
	code   int
}

// startServe runs "hookguard serve args..." in a goroutine and returns once
// it listens. The test's cleanup stops it.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, uiReady := make(chan string, 1), make(chan string, 1)
	s := &server{stdout: newLineWriter(), stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	e := &env{stdin: strings.NewReader(""), stdout: s.stdout, stderr: s.stderr, ready: func(a string) { ready <- a }, uiReady: func(a string) { uiReady <- a }}
	go func() { s.done <- runContext(ctx, e, append([]string{"serve"}, args...)) }()
	select {
	case s.addr = <-ready:
		s.uiAddr = <-uiReady // sent before ready
	case code := <-s.done:
		cancel()
		t.Fatalf("serve exited with %d before listening; stderr:\n%s", code, s.stderr)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// wait waits for serve to exit on its own and returns its exit status.
func (s *server) wait() int {
	s.once.Do(func() { s.code = <-s.done })
	return s.code
}

// stop cancels serve's context, as a signal would, and returns its exit
// status.
func (s *server) stop() int {
	s.cancel()
	return s.wait()
}
