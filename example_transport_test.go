package hookguard_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/providers"
)

// A GitLab delivery proves itself with a shared token, so it must arrive
// over TLS: over plain HTTP from another host it is refused before the
// token is compared. Behind a TLS proxy, list the proxy with
// WithTrustedProxies so that its X-Forwarded-Proto: https is believed.
func ExampleSharedTokenVerifier() {
	gl, err := providers.NewGitLab("my-gitlab-token")
	if err != nil {
		log.Fatal(err)
	}
	recv, err := hookguard.New(gl, hookguard.HandlerFunc(func(context.Context, hookguard.Event) error { return nil }),
		hookguard.WithTrustedProxies("10.0.0.0/8"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = recv.Shutdown(context.Background()) }()

	send := func(remote string, tlsConn bool, proto string) int {
		req := httptest.NewRequest("POST", "/hooks/gitlab", strings.NewReader(`{"object_kind":"push"}`))
		req.Header.Set("X-Gitlab-Token", "my-gitlab-token")
		req.Header.Set("X-Gitlab-Event", "Push Hook")
		req.RemoteAddr = remote
		if tlsConn {
			req.TLS = &tls.ConnectionState{HandshakeComplete: true}
		}
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		w := httptest.NewRecorder()
		recv.ServeHTTP(w, req)
		return w.Code
	}
	fmt.Println("plain HTTP:", send("203.0.113.9:1234", false, ""))
	fmt.Println("TLS:", send("203.0.113.9:1234", true, ""))
	fmt.Println("https claimed by a stranger:", send("203.0.113.9:1234", false, "https"))
	fmt.Println("https from the trusted proxy:", send("10.0.0.5:1234", false, "https"))
	fmt.Println("loopback, local development:", send("127.0.0.1:1234", false, ""))
	// Output:
	// plain HTTP: 403
	// TLS: 200
	// https claimed by a stranger: 403
	// https from the trusted proxy: 200
	// loopback, local development: 200
}
