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
	stripe, err := providers.NewStripe("whsec_test")
	if err != nil {
		t.Fatal(err)
	}
	slack, err := providers.NewSlack("slack-secret")
	if err != nil {
		t.Fatal(err)
	}
	router, recv, err := newRouter(slog.New(slog.NewTextHandler(io.Discard, nil)), stripe, slack)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Shutdown(context.Background())

	event := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	stripeHeader, _ := stripe.Sign(providers.Outgoing{Body: event})
	command := []byte(`command=%2Fdeploy&text=prod`)
	slackHeader, _ := slack.Sign(providers.Outgoing{Body: command, ContentType: "application/x-www-form-urlencoded"})

	tests := []struct {
		name     string
		path     string
		body     []byte
		header   http.Header
		want     int
		wantBody string
	}{
		{"stripe event", "/webhooks/stripe", event, stripeHeader, 200, ""},
		{"slack command", "/slack/commands", command, slackHeader, 200, "on it"},
		{"forged slack command", "/slack/commands", []byte(`command=%2Fdeploy&text=evil`), slackHeader, 401, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, tt.path, bytes.NewReader(tt.body))
		req.Header = tt.header.Clone()
		w := httptest.NewRecorder()
		router.ServeHTTP(w, req)
		if w.Code != tt.want || (tt.wantBody != "" && w.Body.String() != tt.wantBody) {
			t.Errorf("%s: %d %q, want %d %q", tt.name, w.Code, w.Body, tt.want, tt.wantBody)
		}
	}
}
