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

func TestNewMux(t *testing.T) {
	github, err := providers.NewGitHub("gh-secret")
	if err != nil {
		t.Fatal(err)
	}
	stripe, err := providers.NewStripe("whsec_test")
	if err != nil {
		t.Fatal(err)
	}
	mux, receivers, err := newMux(slog.New(slog.NewTextHandler(io.Discard, nil)), github, stripe)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"hookguard/hookguard"}}`)
	header, err := github.Sign(providers.Outgoing{Body: body, Type: "push"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		header http.Header
		want   int
	}{
		{"signed github push", "/webhooks/github", header, http.StatusOK},
		{"github delivery on the stripe route", "/webhooks/stripe", header, http.StatusBadRequest},
		{"unsigned", "/webhooks/github", http.Header{}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, tt.path, bytes.NewReader(body))
		req.Header = tt.header.Clone()
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.want)
		}
	}
	for _, r := range receivers {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
