package hookguard

import (
	"container/list"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxClients bounds how many client addresses the per-IP rate
// limiter remembers; the least recently seen is forgotten first.
const DefaultMaxClients = 10000

// limiter applies the global and per-client rate limits. The zero value
// (both nil) allows everything.
type limiter struct {
	global *rate.Limiter
	perIP  *ipLimiter
}

// allow takes one token from each configured limiter at now, and returns
// 0 or how long to wait before a retry could pass.
func (l *limiter) allow(ip netip.Addr, now time.Time) time.Duration {
	if l.global != nil {
		if d := reserve(l.global, now); d > 0 {
			return d
		}
	}
	if l.perIP != nil {
		return l.perIP.allow(ip, now)
	}
	return 0
}

// reserve takes a token if one is available now; otherwise it takes
// nothing and returns the wait.
func reserve(lim *rate.Limiter, now time.Time) time.Duration {
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Duration(math.MaxInt64)
	}
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// ipLimiter keeps one token bucket per client, bounded by an LRU.
// IPv6 clients are grouped by /64, since one host usually owns a whole
// /64 and could otherwise rotate addresses to escape its limit.
type ipLimiter struct {
	r     rate.Limit
	burst int
	max   int

	mu  sync.Mutex
	m   map[netip.Addr]*list.Element
	lru list.List // of *ipEntry, most recent first
}

type ipEntry struct {
	key netip.Addr
	lim *rate.Limiter
}

func newIPLimiter(r rate.Limit, burst, maxClients int) *ipLimiter {
	return &ipLimiter{r: r, burst: burst, max: maxClients, m: make(map[netip.Addr]*list.Element)}
}

func (l *ipLimiter) allow(ip netip.Addr, now time.Time) time.Duration {
	key := clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	var lim *rate.Limiter
	if el, ok := l.m[key]; ok {
		l.lru.MoveToFront(el)
		lim = el.Value.(*ipEntry).lim
	} else {
		if l.lru.Len() >= l.max {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.m, old.Value.(*ipEntry).key)
		}
		lim = rate.NewLimiter(l.r, l.burst)
		l.m[key] = l.lru.PushFront(&ipEntry{key: key, lim: lim})
	}
	return reserve(lim, now)
}

func (l *ipLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// clientKey maps an address to its rate-limit bucket.
func clientKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip.WithZone("")
}

// proxies is the set of trusted proxy networks.
type proxies []netip.Prefix

func parseProxies(cidrs []string) (proxies, error) {
	out := make(proxies, 0, len(cidrs))
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(c)
		if err != nil {
			return nil, fmt.Errorf("%w: WithTrustedProxies: %q is neither a CIDR prefix nor an IP address", ErrInvalidOption, c)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (ps proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP returns the address to rate-limit r by. Without trusted proxies
// it is the peer address. With them, and only when the peer is a trusted
// proxy, X-Forwarded-For is walked from the right, skipping trusted hops:
// the first untrusted address is the client. Entries left of it are
// written by the client and ignored. An unparseable entry stops the walk
// at the last trusted hop (fail closed: a forged value cannot pick a
// bucket). The zero Addr is returned when the peer address is unknown.
func clientIP(r *http.Request, ps proxies) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if len(ps) == 0 || !peer.IsValid() || !ps.trusted(peer) {
		return peer
	}
	last := peer
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for v != "" {
			var part string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				part, v = v[j+1:], v[:j]
			} else {
				part, v = v, ""
			}
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, err := netip.ParseAddr(part)
			if err != nil {
				return last
			}
			a = a.Unmap()
			if !ps.trusted(a) {
				return a
			}
			last = a
		}
	}
	return last
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}
