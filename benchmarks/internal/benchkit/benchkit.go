// Package benchkit holds what the benchmark commands share: a
// redis-server they start and stop by its process ID, and the counting
// no-op handler.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/internal/redistest"
)

// RedisServer is a redis-server a command started: append-only file on,
// fsync every second, no snapshots, on a free loopback port.
type RedisServer struct {
	cmd    *exec.Cmd
	dir    string
	Addr   string // host:port
	exited chan struct{}
}

// PID is the server's process ID.
func (r *RedisServer) PID() int { return r.cmd.Process.Pid }

// StartRedis starts a server in a new directory named from prefix and
// waits until it answers PING. cpus, when set, pins it to those CPUs with
// taskset (which execs redis-server: the same process).
func StartRedis(ctx context.Context, prefix, cpus string) (*RedisServer, error) {
	bin := redistest.Binary()
	if bin == "" {
		return nil, errors.New("redis-server not found on PATH (or in $" + redistest.BinaryEnv + ")")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return launch(ctx, bin, prefix, cpus, port)
}

// launch starts redis-server on port in a new directory named from
// prefix, with extra arguments after the common ones (append-only file,
// fsync every second, loopback only), pinned to cpus with taskset when
// set, and waits until it answers PING.
func launch(ctx context.Context, bin, prefix, cpus string, port int, extra ...string) (*RedisServer, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	args := []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
		"--daemonize", "no", "--protected-mode", "yes", "--logfile", "redis.log"}
	args = append(args, extra...)
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r := &RedisServer{cmd: cmd, dir: dir, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return r, nil
		}
		select {
		case <-r.exited:
			r.Stop()
			return nil, fmt.Errorf("redis-server exited at start (port taken?): %w", err)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.Stop()
			return nil, fmt.Errorf("redis-server did not answer PING: %w", err)
		}
		time.Sleep(20 * time.Millisecond) // polling a process we do not control
	}
}

// Stop ends the server by its process ID (SIGTERM, then SIGKILL after
// 10 s) and removes its directory.
func (r *RedisServer) Stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
	_ = os.RemoveAll(r.dir)
}

// Counter is the no-op handler of the benchmarks: it counts the events.
func Counter(n *atomic.Int64) hookguard.Handler {
	return hookguard.HandlerFunc(func(context.Context, hookguard.Event) error {
		n.Add(1)
		return nil
	})
}
