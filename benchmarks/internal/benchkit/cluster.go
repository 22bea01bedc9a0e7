package benchkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/internal/redistest"
)

// ClusterSlots is the number of hash slots of a Redis Cluster.
const ClusterSlots = 16384

// busOffset is how far above a node's port Redis puts its cluster bus
// port by default (cluster-port, which sets it apart, needs Redis 7).
const busOffset = 10000

// Cluster is a Redis Cluster a command started: primaries only, no
// replicas, each a redis-server in cluster mode with the settings of
// [StartRedis] (append-only file on, fsync every second, no snapshots),
// serving an equal contiguous range of the hash slots, in order, as
// redis-cli --cluster create lays them out.
type Cluster struct {
	Primaries []*RedisServer
	// Ranges[i] is the first and last slot Primaries[i] serves.
	Ranges [][2]int
	// CPUs[i] is the CPU Primaries[i] is pinned to with taskset, "" when
	// it is not pinned.
	CPUs []string
}

// TasksetAvailable reports whether taskset, which StartCluster pins
// servers with, is on PATH.
func TasksetAvailable() bool {
	_, err := exec.LookPath("taskset")
	return err == nil
}

// StartCluster starts a cluster of the given number of primaries (1 to
// 64) on free loopback ports, in new directories named from prefix: it
// gives each its range of slots (CLUSTER ADDSLOTS), introduces each to
// the first (CLUSTER MEET) and waits, up to 20 s, until every node reports
// cluster_state:ok and knows every other. With pin, when taskset is on
// PATH, primary i runs on CPU i modulo the machine's CPUs; where there
// are fewer CPUs than primaries, some share one. Stop the cluster with
// [Cluster.Stop].
func StartCluster(ctx context.Context, prefix string, primaries int, pin bool) (*Cluster, error) {
	if primaries < 1 || primaries > 64 {
		return nil, fmt.Errorf("benchkit: a cluster of %d primaries: want 1 to 64", primaries)
	}
	pin = pin && TasksetAvailable()
	c := &Cluster{}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	per := ClusterSlots / primaries
	for i := range primaries {
		cpu := ""
		if pin {
			cpu = strconv.Itoa(i % runtime.NumCPU())
		}
		s, err := startNode(ctx, prefix+strconv.Itoa(i)+"-", cpu)
		if err != nil {
			return nil, err
		}
		c.Primaries = append(c.Primaries, s)
		c.CPUs = append(c.CPUs, cpu)
		first, last := i*per, (i+1)*per-1
		if i == primaries-1 {
			last = ClusterSlots - 1
		}
		c.Ranges = append(c.Ranges, [2]int{first, last})
	}
	var err error
	for i, s := range c.Primaries {
		first, last := c.Ranges[i][0], c.Ranges[i][1]
		args := make([]any, 0, last-first+3)
		args = append(args, "cluster", "addslots")
		for slot := first; slot <= last; slot++ {
			args = append(args, slot)
		}
		err = errors.Join(err, s.do(ctx, args...))
		if i > 0 {
			host, port, _ := net.SplitHostPort(c.Primaries[0].Addr)
			err = errors.Join(err, s.do(ctx, "cluster", "meet", host, port))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("benchkit: form the cluster: %w", err)
	}
	want := "cluster_known_nodes:" + strconv.Itoa(primaries) + "\r\n"
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range c.Primaries {
		for {
			info, err := s.text(ctx, "cluster", "info")
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, want) {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return nil, fmt.Errorf("benchkit: no cluster state ok with %d nodes known on %s after 20s: %v %q", primaries, s.Addr, err, info)
			}
			time.Sleep(50 * time.Millisecond) // the cluster forms in the background: nothing to wait on but its state
		}
	}
	ok = true
	return c, nil
}

// Addrs returns the primaries' addresses, in slot order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Primaries))
	for i, s := range c.Primaries {
		out[i] = s.Addr
	}
	return out
}

// Index returns the index of the primary at addr, or -1.
func (c *Cluster) Index(addr string) int {
	for i, s := range c.Primaries {
		if s.Addr == addr {
			return i
		}
	}
	return -1
}

// PrimaryOfSlot returns the index of the primary that serves slot.
func (c *Cluster) PrimaryOfSlot(slot int) int {
	for i, r := range c.Ranges {
		if slot >= r[0] && slot <= r[1] {
			return i
		}
	}
	return -1
}

// Client returns a cluster client that knows every primary; the caller
// closes it.
func (c *Cluster) Client(opts *redis.ClusterOptions) *redis.ClusterClient {
	o := redis.ClusterOptions{}
	if opts != nil {
		o = *opts
	}
	o.Addrs = c.Addrs()
	return redis.NewClusterClient(&o)
}

// FlushAll empties every primary.
func (c *Cluster) FlushAll(ctx context.Context) error {
	var err error
	for _, s := range c.Primaries {
		err = errors.Join(err, s.do(ctx, "flushall"))
	}
	return err
}

// Stop stops every primary at once (see [RedisServer.Stop]) and returns
// when all are gone.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for _, s := range c.Primaries {
		wg.Go(s.Stop)
	}
	wg.Wait()
}

// do sends one command on a connection of its own.
func (r *RedisServer) do(ctx context.Context, args ...any) error {
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	return c.Do(ctx, args...).Err()
}

// text sends one command on a connection of its own and returns its
// string reply.
func (r *RedisServer) text(ctx context.Context, args ...any) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	return c.Do(ctx, args...).Text()
}

// startNode starts one redis-server in cluster mode, as StartRedis starts
// a plain one, on a free port whose cluster bus port is free too.
func startNode(ctx context.Context, prefix, cpu string) (*RedisServer, error) {
	bin := redistest.Binary()
	if bin == "" {
		return nil, errors.New("redis-server not found on PATH (or in $" + redistest.BinaryEnv + ")")
	}
	var err error
	for range 5 { // a free port can be taken by someone else before the server binds it
		var port int
		if port, err = freeClusterPort(); err != nil {
			return nil, err
		}
		var r *RedisServer
		if r, err = launchNode(ctx, bin, prefix, cpu, port); err == nil {
			return r, nil
		}
	}
	return nil, err
}

func launchNode(ctx context.Context, bin, prefix, cpu string, port int) (*RedisServer, error) {
	return launch(ctx, bin, prefix, cpu, port,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
		// A lone node knows no address of its own (a node learns it from
		// the peers it meets): announce it, so that clients get one.
		"--cluster-announce-ip", "127.0.0.1")
}

// freeClusterPort returns a free loopback port whose cluster bus port,
// busOffset above it, is free too.
func freeClusterPort() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if port+busOffset > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+busOffset)))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return port, nil
	}
	return 0, fmt.Errorf("benchkit: no free port whose cluster bus port (+%d) is free too in 100 tries", busOffset)
}
