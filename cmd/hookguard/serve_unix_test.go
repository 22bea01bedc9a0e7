//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestServeStopsOnSIGTERM(t *testing.T) {
	srv := startServe(t, "--addr", "127.0.0.1:0", "--secret", "shopify="+testSecret)
	// serve registered for SIGTERM before it reported its address, so
	// the signal reaches it and not the default handler.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.wait(); code != 0 {
		t.Errorf("serve exit after SIGTERM = %d; want 0\nstderr:\n%s", code, srv.stderr)
	}
	if logs := srv.stderr.String(); !strings.Contains(logs, "shutting down") || !strings.Contains(logs, "accepted=0") {
		t.Errorf("stderr after SIGTERM lacks the shutdown log or the counters:\n%s", logs)
	}
}
