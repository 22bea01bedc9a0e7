package providers

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookguard/hookguard/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hdr builds a canonical http.Header from name/value pairs; a name may
// repeat to produce several lines.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func request(h http.Header, body string) verify.Request {
	return verify.Request{Method: http.MethodPost, Header: h, Body: []byte(body)}
}

// wantErr fails unless err wraps want and is a *verify.Error of provider
// name whose text holds no secret.
func wantErr(t *testing.T, err, want error, name string) {
	t.Helper()
	if want == nil {
		require.NoError(t, err)
		return
	}
	require.ErrorIs(t, err, want)
	var ve *verify.Error
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, name, ve.Provider, "Provider")
	assert.Equal(t, verify.StatusCode(want), ve.Status, "Status")
	assert.NotEmpty(t, ve.Reason, "empty Reason")
}

// signed signs body with p and returns the request and its headers.
func signed(t *testing.T, p Provider, o Outgoing) verify.Request {
	t.Helper()
	h, err := p.Sign(o)
	require.NoError(t, err, "Sign")
	return verify.Request{Method: http.MethodPost, Header: h, Body: o.Body}
}

var t0 = time.Unix(1700000000, 0)

// implOf returns the sender's implementation behind a preset that New or
// a NewX constructor returned.
func implOf(p Provider) scheme { return p.(*Preset).p }

func mustNew(t testing.TB, name, secret string, opts ...Option) Provider {
	t.Helper()
	p, err := New(name, secret, opts...)
	require.NoError(t, err, "New(%q)", name)
	return p
}
