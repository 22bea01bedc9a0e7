package testkit

import (
	"bytes"
	"net/http"
	"net/http/httptest"
)

// Serve runs r through h and returns what h wrote.
func Serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// NewPost returns an incoming POST request for target, as
// [httptest.NewRequest] builds it, with body and a copy of header: the
// handler may change the request's header without changing header.
func NewPost(target string, body []byte, header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	for k, vs := range header {
		r.Header[k] = append([]string(nil), vs...)
	}
	return r
}
