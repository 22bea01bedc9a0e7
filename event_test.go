package hookguard_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/hookguard/hookguard"
	"github.com/stretchr/testify/require"
)

type push struct {
	Ref  string `json:"ref"`
	Repo struct {
		Name string `json:"name"`
	} `json:"repository"`
}

func TestEventDecode(t *testing.T) {
	jsonBody := `{"ref":"refs/heads/main","repository":{"name":"hookguard"}}`
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string
		wantErr     error
	}{
		{"json", "application/json", jsonBody, "refs/heads/main/hookguard", nil},
		{"no content type", "", jsonBody, "refs/heads/main/hookguard", nil},
		{"github form", "application/x-www-form-urlencoded", "payload=" + url.QueryEscape(jsonBody), "refs/heads/main/hookguard", nil},
		{"form with charset", "application/x-www-form-urlencoded; charset=utf-8", "payload=" + url.QueryEscape(jsonBody), "refs/heads/main/hookguard", nil},
		{"form without payload", "application/x-www-form-urlencoded", "command=%2Fdeploy&text=now", "", hookguard.ErrNoPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := hookguard.Event{Provider: "github", Body: []byte(tt.body), Header: http.Header{}}
			if tt.contentType != "" {
				e.Header.Set("Content-Type", tt.contentType)
			}
			var p push
			err := e.Decode(&p)
			require.ErrorIs(t, err, tt.wantErr, "Decode() error") // a nil wantErr wants no error
			if err == nil {
				require.Equal(t, tt.want, p.Ref+"/"+p.Repo.Name, "Decode()")
			}
		})
	}
	var p push
	require.Error(t, (hookguard.Event{Body: []byte(`{"ref":`)}).Decode(&p), "truncated JSON decoded without error")
}

// FuzzEventDecode checks that Decode never panics, whatever the body and
// content type.
//
//	go test -run '^$' -fuzz '^FuzzEventDecode$' -fuzztime 20s .
func FuzzEventDecode(f *testing.F) {
	f.Add("application/json", []byte(`{"ref":"x","repository":{"name":"y"}}`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%7B%22ref%22%3A%22x%22%7D`))
	f.Add("application/x-www-form-urlencoded; charset=", []byte(`payload=%ZZ`))
	f.Add("", []byte(`[`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		e := hookguard.Event{Body: body, Header: http.Header{"Content-Type": {ct}}}
		var v any
		_ = e.Decode(&v)
		var p push
		_ = e.Decode(&p)
	})
}
