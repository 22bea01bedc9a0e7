package redistest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// busOffset is how far above a node's port Redis puts its cluster bus
// port by default; setting cluster-port instead needs Redis 7.
const busOffset = 10000

// Cluster is a Redis Cluster owned by one test: primaries that share the
// hash slots in equal ranges, in order, and replicas of the first one
// ([StartCluster]) or of every one ([StartClusterEach]).
type Cluster struct {
	tb        testing.TB
	Primaries []*Server
	Primary   *Server   // Primaries[0], which holds slot 0 (and, in StartCluster, the replicas)
	Replicas  []*Server // the replicas the first primary started with
	// ReplicasOf holds the replicas each primary started with, by the
	// primary's index in Primaries (ReplicasOf[0] is Replicas). A
	// failover changes who replicates whom; [Cluster.PrimaryFor] tells
	// who serves a slot now.
	ReplicasOf [][]*Server

	mu      sync.Mutex
	clients map[*Server]*redis.Client // see nodeClient
}

// StartCluster runs a Redis Cluster for tb: the given number of primaries
// (at least 1), which split the 16384 slots into equal ranges in order,
// and replicas of the first primary, each a fresh redis-server in cluster
// mode (with the settings of [Start] and opts). It returns once every node,
// replicas included, reports state ok with every node known, and the first
// primary counts every replica online. One
// primary is enough to test most cluster code: a node in cluster mode
// refuses commands whose keys span slots (CROSSSLOT), whatever the
// cluster's size. Two show whether a client sends a command to the node
// that serves its key.
func StartCluster(tb testing.TB, primaries, replicas int, opts ...Option) *Cluster {
	tb.Helper()
	if primaries < 1 {
		tb.Fatal("redistest: StartCluster needs at least one primary")
	}
	return startCluster(tb, primaries, func(i int) int {
		if i == 0 {
			return replicas
		}
		return 0
	}, opts)
}

// StartClusterEach runs a Redis Cluster for tb, as [StartCluster] does,
// in which every primary has replicasEach replicas (ReplicasOf[i] holds
// those of Primaries[i]): the layout of failover tests, in which any
// primary may be killed and one of its replicas promoted. It returns once
// every node reports state ok with every node known and every primary
// counts its replicas online.
//
// It sets cluster-replica-validity-factor 0, so that a replica may be
// promoted however long ago it last heard from its primary; opts come
// after and may override it. For a quick failover pass a short
// cluster-node-timeout (the default here, as in [StartCluster], is
// 5000 ms; Redis waits that long before it flags a silent primary as
// failed). A replica is promoted only with the votes of a majority of
// the primaries, so a failover test needs at least three. With Redis's
// default cluster-require-full-coverage yes every node refuses every
// command from the moment a primary is flagged failed until a replica
// took over its slots; pass WithConfig("cluster-require-full-coverage",
// "no") to keep the other primaries serving meanwhile. With one replica
// each, a promoted replica has none left (until its old primary returns
// as its replica), so a writer that WAITs for one replica stalls on that
// shard: use two to test WAIT across a failover.
func StartClusterEach(tb testing.TB, primaries, replicasEach int, opts ...Option) *Cluster {
	tb.Helper()
	if primaries < 1 || replicasEach < 0 {
		tb.Fatalf("redistest: StartClusterEach(%d, %d): needs at least one primary and no negative replica count", primaries, replicasEach)
	}
	opts = append([]Option{WithConfig("cluster-replica-validity-factor", "0")}, opts...)
	return startCluster(tb, primaries, func(int) int { return replicasEach }, opts)
}

// startCluster builds the cluster of [StartCluster] and
// [StartClusterEach]: primaries with equal slot ranges, in order, and
// replicasOf(i) replicas of primary i.
func startCluster(tb testing.TB, primaries int, replicasOf func(i int) int, opts []Option) *Cluster {
	tb.Helper()
	opts = append([]Option{
		WithConfig("cluster-enabled", "yes"),
		WithConfig("cluster-config-file", "nodes.conf"),
		WithConfig("cluster-node-timeout", "5000"),
		WithConfig("repl-diskless-sync-delay", "0"),
		func(c *config) { c.cluster = true },
	}, opts...)
	c := &Cluster{tb: tb}
	ctx := context.Background()
	per := clusterSlots / primaries
	for i := range primaries {
		p := Start(tb, opts...)
		first, last := i*per, (i+1)*per-1
		if i == primaries-1 {
			last = clusterSlots - 1
		}
		args := make([]any, 0, last-first+3)
		args = append(args, "cluster", "addslots")
		for slot := first; slot <= last; slot++ {
			args = append(args, slot)
		}
		if err := p.Client().Do(ctx, args...).Err(); err != nil {
			tb.Fatalf("redistest: CLUSTER ADDSLOTS: %v", err)
		}
		if i > 0 {
			c.meet(p)
		}
		c.Primaries = append(c.Primaries, p)
	}
	c.Primary = c.Primaries[0]
	total := primaries
	for i, p := range c.Primaries {
		id, err := p.Client().Do(ctx, "cluster", "myid").Text()
		if err != nil {
			tb.Fatalf("redistest: CLUSTER MYID: %v", err)
		}
		var rs []*Server
		for range replicasOf(i) {
			r := Start(tb, opts...)
			c.meet(r)
			rc := r.Client()
			// The replica learns the primary's ID by gossip: REPLICATE
			// fails with "Unknown node" until it has.
			c.poll("replica "+r.Addr()+" attached to the primary "+p.Addr(), func() (bool, string) {
				err := rc.Do(ctx, "cluster", "replicate", id).Err()
				return err == nil, fmt.Sprint(err)
			})
			rs = append(rs, r)
		}
		c.ReplicasOf = append(c.ReplicasOf, rs)
		total += len(rs)
	}
	c.Replicas = c.ReplicasOf[0]
	// Every node, replicas too, must see the whole cluster up: a replica
	// that does not yet answers reads with CLUSTERDOWN.
	for _, p := range c.Nodes() {
		pc := p.Client()
		c.poll("cluster state ok on "+p.Addr(), func() (bool, string) {
			info, err := pc.Do(ctx, "cluster", "info").Text()
			ok := err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(total)+"\r\n")
			return ok, fmt.Sprint(err, info)
		})
	}
	for i, p := range c.Primaries {
		c.WaitReplicasOn(p, len(c.ReplicasOf[i]))
	}
	return c
}

// Nodes returns every server of the cluster, primaries first, then the
// replicas in the order of ReplicasOf, whatever their role now.
func (c *Cluster) Nodes() []*Server {
	nodes := slices.Clone(c.Primaries)
	for _, rs := range c.ReplicasOf {
		nodes = append(nodes, rs...)
	}
	return nodes
}

// meet introduces s to the first primary.
func (c *Cluster) meet(s *Server) {
	c.tb.Helper()
	host, port, _ := net.SplitHostPort(c.first().Addr())
	if err := s.Client().Do(context.Background(), "cluster", "meet", host, port).Err(); err != nil {
		c.tb.Fatalf("redistest: CLUSTER MEET: %v", err)
	}
}

// first returns the first primary, while the cluster is being built too.
func (c *Cluster) first() *Server {
	if c.Primary != nil {
		return c.Primary
	}
	return c.Primaries[0]
}

// WaitReplicas waits until the primary counts n replicas online.
func (c *Cluster) WaitReplicas(n int) {
	c.tb.Helper()
	c.WaitReplicasOn(c.Primary, n)
}

// WaitReplicasOn waits until primary, any node of the cluster that is a
// primary now (one promoted by a failover too), counts n replicas online:
// from then on a WAIT for n replicas can succeed on it.
func (c *Cluster) WaitReplicasOn(p *Server, n int) {
	c.tb.Helper()
	primary := p.Client()
	c.poll(strconv.Itoa(n)+" replicas online on "+p.Addr(), func() (bool, string) {
		info, err := primary.Info(context.Background(), "replication").Result()
		ok := err == nil && strings.Contains(info, "connected_slaves:"+strconv.Itoa(n)+"\r\n") &&
			strings.Count(info, "state=online") == n
		return ok, fmt.Sprint(err, info)
	})
}

// Client returns a new cluster client that knows the first primary only
// (it discovers the rest), closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.Primary.Addr()}})
	c.tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// poll calls check until it reports true, for at most 20 s: the cluster
// forms in the background and has no event to wait on.
func (c *Cluster) poll(what string, check func() (bool, string)) {
	c.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, detail := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("redistest: no %s after 20s: %s", what, detail)
		}
		time.Sleep(50 * time.Millisecond) // polling processes we do not control
	}
}

// freeClusterPort returns a free port whose cluster bus port, busOffset
// above it, is free too.
func freeClusterPort() (int, error) {
	for range 100 {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		if port+busOffset > 65535 {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+busOffset)))
		if err != nil {
			continue
		}
		_ = ln.Close()
		return port, nil
	}
	return 0, fmt.Errorf("find a free port whose cluster bus port (+%d) is free too: none in 100 tries", busOffset)
}
