package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookguard/hookguard/providers"
)

func TestRouter(t *testing.T) {
	secrets := map[string]string{"github": "gh-secret", "shopify": "shopify-secret"}
	router, receivers, err := newRouter(slog.New(slog.NewTextHandler(io.Discard, nil)), secrets)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range secrets {
		p, err := providers.New(name, secret)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"id":1}`)
		header, err := p.Sign(providers.Outgoing{Body: body, Type: "orders/create"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/webhooks/" + name, http.StatusOK},
			{"/webhooks/unknown", http.StatusNotFound},
		} {
			req := httptest.NewRequest(http.MethodPost, tc.path, bytes.NewReader(body))
			req.Header = header.Clone()
			w := httptest.NewRecorder()
			router.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("%s %s: status %d, want %d", name, tc.path, w.Code, tc.want)
			}
		}
	}
	for _, r := range receivers {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
