//go:build unix

package main

import (
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve shuts down gracefully on SIGTERM and on SIGINT (Ctrl-C).
func TestServeStopsOnSignal(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGINT", syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The test catches the signal too, so that a serve that does
			// not listen for it fails this test instead of killing the
			// test binary.
			caught := make(chan os.Signal, 1)
			signal.Notify(caught, tc.sig)
			defer signal.Stop(caught)
			srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "shopify="+testSecret)
			// serve registered for the signal before it reported its
			// address, so the signal reaches it.
			if err := syscall.Kill(os.Getpid(), tc.sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan int, 1)
			go func() { exited <- srv.wait() }()
			select {
			case code := <-exited:
				if code != 0 {
					t.Errorf("serve exit after %s = %d; want 0\nstderr:\n%s", tc.name, code, srv.stderr)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("serve still running 10 s after %s\nstderr:\n%s", tc.name, srv.stderr)
			}
			if logs := srv.stderr.String(); !strings.Contains(logs, "shutting down") || !strings.Contains(logs, "accepted=0") {
				t.Errorf("stderr after %s lacks the shutdown log or the counters:\n%s", tc.name, logs)
			}
		})
	}
}
