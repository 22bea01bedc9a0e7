package hookguard

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
)

// SharedTokenVerifier is implemented by verifiers that can say whether
// their sender proves itself with a shared secret sent as is (a token,
// basic-auth credentials, an authorization header) rather than with a
// signature; every providers.Preset implements it, and it is true for
// GitLab, Postmark and Okta. Anyone who reads one such delivery can replay
// the secret with any body, so when SharedToken returns true the receiver
// and the middleware refuse a request that did not arrive over TLS with
// 403 and [ErrInsecureTransport], before reading the body: the token is
// never compared.
//
// "Over TLS" means the connection was TLS (http.Request.TLS is set), or
// the peer is a proxy listed in [WithTrustedProxies] and the right-most
// X-Forwarded-Proto value is "https"; the header from any other peer is
// ignored. For local development, a loopback peer (127.0.0.0/8 or ::1)
// whose request carries no forwarding header (X-Forwarded-For,
// X-Forwarded-Proto, X-Forwarded-Host, X-Real-Ip or Forwarded) is accepted
// over plain HTTP: it never crossed a network. A proxy on the same host
// that forwards without adding any of those headers would pass as local:
// let it set X-Forwarded-Proto and list it in WithTrustedProxies.
//
// [WithRequireTLS] applies the same rule to every verifier;
// [WithAllowPlainHTTP] turns it off. SharedToken is called once, when the
// receiver or middleware is built, which logs the rule at Info level
// through [WithLogger].
type SharedTokenVerifier interface {
	SharedToken() bool
}

// transportPolicy sets c.tls and c.name for v and cfg, and logs, once,
// what plain HTTP is refused.
func (c *core) transportPolicy(v Verifier) {
	if n, ok := v.(interface{ Name() string }); ok {
		c.name = n.Name()
	}
	token := false
	if st, ok := v.(SharedTokenVerifier); ok {
		token = st.SharedToken()
	}
	l, ctx := c.cfg.logger, context.Background()
	switch {
	case c.cfg.allowPlain && token:
		l.LogAttrs(ctx, slog.LevelWarn, "hookguard: shared-token deliveries accepted over plain HTTP from any peer (WithAllowPlainHTTP): make sure TLS ends in front of this endpoint",
			slog.String("provider", c.name))
	case c.cfg.allowPlain:
	case token || c.cfg.requireTLS:
		c.tls = true
		why := "WithRequireTLS"
		if token {
			why = "the sender proves itself with a shared token"
		}
		l.LogAttrs(ctx, slog.LevelInfo, "hookguard: deliveries must arrive over HTTPS or from a trusted TLS proxy; plain HTTP is accepted from loopback only",
			slog.String("provider", c.name), slog.String("reason", why))
	}
}

// forwardingHeaders are the headers a proxy adds; a loopback request that
// carries one came through a proxy, not from the host itself.
var forwardingHeaders = [...]string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip", "Forwarded"}

// overTLS reports whether r arrived over TLS, as [SharedTokenVerifier]
// defines it, or is a local request from a loopback peer.
func (c *core) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer := remoteAddr(r.RemoteAddr)
	if peer.IsValid() && c.cfg.proxies.trusted(peer) {
		if proto, ok := forwardedProto(r.Header); ok {
			return strings.EqualFold(proto, "https")
		}
	}
	if !peer.IsLoopback() {
		return false
	}
	for _, h := range forwardingHeaders {
		if _, ok := r.Header[h]; ok {
			return false
		}
	}
	return true
}

// forwardedProto returns the right-most X-Forwarded-Proto value, the one
// the nearest proxy wrote, and whether there is one.
func forwardedProto(h http.Header) (string, bool) {
	vs := h["X-Forwarded-Proto"]
	if len(vs) == 0 {
		return "", false
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v), true
}
