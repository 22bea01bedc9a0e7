package main

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// uiGuard stands in front of everything the UI listener serves (the
// inspector and /metrics). A page on another site must not read captured
// bodies or metrics, nor make the browser replay deliveries:
//
//   - DNS rebinding: a name the attacker controls resolves to this
//     machine, so the browser sends the attacker's name as Host. Only
//     localhost, the loopback addresses, the host of --ui-addr and the
//     address the connection arrived on are accepted as Host, and when the
//     Host has a port it must be the listener's.
//   - Cross-site requests: refused when the browser says so with
//     Sec-Fetch-Site. The replay endpoint also needs a custom header,
//     which another origin cannot send without a CORS preflight that is
//     never granted.
type uiGuard struct {
	host string // the host of --ui-addr, lowercase; "" when unspecified
	port string // the port the listener is bound to
}

// newUIGuard returns the guard for a listener given as configured (the
// --ui-addr flag) and bound to bound.
func newUIGuard(configured string, bound net.Addr) *uiGuard {
	g := &uiGuard{}
	if h, _, err := net.SplitHostPort(configured); err == nil {
		h = strings.ToLower(h)
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			g.host = h
		}
	}
	if ta, ok := bound.(*net.TCPAddr); ok && ta != nil {
		g.port = strconv.Itoa(ta.Port)
	}
	return g
}

func (g *uiGuard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !g.hostAllowed(r.Host, local) {
			http.Error(w, "hookguard: this Host is refused (DNS rebinding protection): open the inspector and /metrics as http://localhost:"+g.port+"/ or http://127.0.0.1:"+g.port+"/", http.StatusMisdirectedRequest)
			return
		}
		if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
			http.Error(w, "hookguard: cross-site requests to the inspector and /metrics are refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether host, a request's Host header, names this
// listener in a way DNS rebinding cannot produce. local is the address the
// connection arrived on (nil when unknown).
func (g *uiGuard) hostAllowed(host string, local net.Addr) bool {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = host, ""
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		}
	}
	if port != "" && g.port != "" && port != g.port {
		return false
	}
	if port == "" && g.port != "" && g.port != "80" {
		return false // a browser names every other port in Host
	}
	h = strings.ToLower(h)
	switch {
	case h == "":
		return false
	case h == "localhost", h == g.host:
		return true
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	// Any other IP literal only when it is the address the connection was
	// made to: the listener's own address.
	if ta, ok := local.(*net.TCPAddr); ok && ta != nil {
		return ta.IP.Equal(ip)
	}
	return false
}
