package hookguard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/verify"
)

// getChallenger answers GET ?challenge=X with X, as Meta and Dropbox do, and
// accepts any POST.
type getChallenger struct{ answer bool }

func (getChallenger) Methods() []string { return []string{http.MethodGet, http.MethodPost} }

func (g getChallenger) Verify(req verify.Request, _ time.Time) (verify.Delivery, error) {
	d := verify.Delivery{Provider: "challenger", ID: "evt_1", Type: "t"}
	if req.Method == http.MethodGet && g.answer {
		u, err := url.Parse(req.URL)
		if err != nil {
			return d, err
		}
		d.Reply = &verify.Reply{Body: []byte(u.Query().Get("challenge"))}
	}
	return d, nil
}

// plainVerifier accepts every request and lists no methods.
type plainVerifier struct{}

func (plainVerifier) Verify(verify.Request, time.Time) (verify.Delivery, error) {
	return verify.Delivery{Provider: "plain", ID: "evt_1"}, nil
}

func TestGetHandshakeMethods(t *testing.T) {
	tests := []struct {
		name      string
		v         hookguard.Verifier
		method    string
		wantCode  int
		wantAllow string
		wantBody  string
	}{
		{"GET answered by a lister", getChallenger{answer: true}, http.MethodGet, 200, "", "abc"},
		{"GET without a reply is refused", getChallenger{answer: false}, http.MethodGet, 405, "POST, GET", ""},
		{"PUT refused with the lister's Allow", getChallenger{answer: true}, http.MethodPut, 405, "POST, GET", ""},
		{"GET refused by a plain verifier", plainVerifier{}, http.MethodGet, 405, "POST", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := make(chan hookguard.Event, 1)
			r, err := hookguard.New(tt.v, hookguard.HandlerFunc(func(_ context.Context, e hookguard.Event) error {
				handled <- e
				return nil
			}), hookguard.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Shutdown(context.Background()) }()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(tt.method, "/hook?challenge=abc", nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantCode, rec.Body)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
			}
			if err := r.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-handled:
				t.Errorf("a %s request reached the handler: %+v", tt.method, e)
			default:
			}
		})
	}
}
