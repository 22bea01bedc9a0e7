package redistest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// FailoverClient returns a new cluster client seeded with the address of
// every node of the cluster, so that it can reload the slot map whichever
// nodes are down, closed when the test ends. Pass opts to change its
// settings; their Addrs is replaced.
//
// After a failover go-redis keeps sending the commands of the dead
// primary's slots to it (and failing) until it reloads the slot map: when
// a node answers MOVED, or when the map is older than
// ClusterStateReloadInterval (default 60 s). Set that interval short in
// failover tests, as a deployment that must recover quickly would.
func (c *Cluster) FailoverClient(opts ...func(*redis.ClusterOptions)) *redis.ClusterClient {
	o := &redis.ClusterOptions{}
	for _, f := range opts {
		f(o)
	}
	o.Addrs = nil
	for _, s := range c.Nodes() {
		o.Addrs = append(o.Addrs, s.Addr())
	}
	cc := redis.NewClusterClient(o)
	c.tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// PrimaryFor returns the server that serves slot (0..16383) as a primary
// now, as the first running node that answers CLUSTER SLOTS sees it, or
// nil when no running node answers or none knows a primary for it. During
// a failover nodes may disagree for a moment; [Cluster.WaitFailover]
// waits until they agree.
func (c *Cluster) PrimaryFor(slot int) *Server {
	c.tb.Helper()
	for _, s := range c.Nodes() {
		if !s.alive() {
			continue
		}
		p, err := c.primaryAsSeenBy(s, slot)
		if err == nil {
			return p
		}
	}
	return nil
}

// WaitFailover waits, for at most 20 s, until every running node names
// the same running server other than old as the primary of slot, and that
// server reports itself a primary with cluster state ok; it returns that
// server. Call it after killing old ([Server.Kill]), the primary that
// served slot.
func (c *Cluster) WaitFailover(slot int, old *Server) *Server {
	c.tb.Helper()
	var got *Server
	c.poll(fmt.Sprintf("new primary for slot %d", slot), func() (bool, string) {
		got = nil
		for _, s := range c.Nodes() {
			if !s.alive() {
				continue
			}
			p, err := c.primaryAsSeenBy(s, slot)
			switch {
			case err != nil:
				return false, fmt.Sprintf("%s: %v", s.Addr(), err)
			case p == old || p == nil || !p.alive():
				return false, s.Addr() + " still sees no live new primary"
			case got != nil && p != got:
				return false, fmt.Sprintf("%s names %s, another node %s", s.Addr(), p.Addr(), got.Addr())
			}
			got = p
		}
		if got == nil {
			return false, "no running node"
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		rc := c.nodeClient(got)
		repl, err := rc.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(repl, "role:master") {
			return false, fmt.Sprint(got.Addr(), " INFO replication: ", err, repl)
		}
		info, err := rc.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return false, fmt.Sprint(got.Addr(), " CLUSTER INFO: ", err, info)
		}
		return true, ""
	})
	return got
}

// primaryAsSeenBy asks s which server is the primary of slot.
func (c *Cluster) primaryAsSeenBy(s *Server, slot int) (*Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	//lint:ignore SA1019 CLUSTER SHARDS, its replacement, needs Redis 7; this package runs older servers too
	slots, err := c.nodeClient(s).ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	for _, r := range slots {
		if slot < int(r.Start) || slot > int(r.End) || len(r.Nodes) == 0 {
			continue
		}
		for _, n := range c.Nodes() {
			if n.Addr() == r.Nodes[0].Addr {
				return n, nil
			}
		}
		return nil, fmt.Errorf("slot %d served by %s, not a node of this cluster", slot, r.Nodes[0].Addr)
	}
	return nil, nil
}

// nodeClient returns the cluster's own client of s, with short timeouts,
// made on first use and closed with s.
func (c *Cluster) nodeClient(s *Server) *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients = make(map[*Server]*redis.Client)
	}
	rc, ok := c.clients[s]
	if !ok {
		rc = s.Client(func(o *redis.Options) {
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 500*time.Millisecond, time.Second, time.Second
			o.MaxRetries = -1
		})
		c.clients[s] = rc
	}
	return rc
}

// alive reports whether the server's process is running: started and not
// exited (killed, stopped or crashed).
func (s *Server) alive() bool {
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Slot returns the Redis Cluster hash slot of key (0..16383): CRC16 of
// the key, or of its hash tag (the text between the first "{" and the
// next "}", when not empty), modulo 16384, as CLUSTER KEYSLOT computes it.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % clusterSlots
}
