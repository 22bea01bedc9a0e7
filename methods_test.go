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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			require.NoError(t, err)
			defer func() { _ = r.Shutdown(context.Background()) }()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(tt.method, "/hook?challenge=abc", nil))
			require.Equal(t, tt.wantCode, rec.Code, "status (body %q)", rec.Body)
			assert.Equal(t, tt.wantAllow, rec.Header().Get("Allow"), "Allow")
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, rec.Body.String(), "body")
			}
			require.NoError(t, r.Shutdown(context.Background()))
			select {
			case e := <-handled:
				assert.Failf(t, "a request reached the handler", "%s request: %+v", tt.method, e)
			default:
			}
		})
	}
}
