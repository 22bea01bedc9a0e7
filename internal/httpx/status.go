package httpx

import "net/http"

// StatusWriter is an http.ResponseWriter that records the final status a
// handler answered with and passes every call on to the writer it wraps.
//
// Wrap a writer with &StatusWriter{ResponseWriter: w}, serve through it and
// read Status afterwards. Status is the first final (2xx to 5xx) code given
// to WriteHeader, or http.StatusOK if Write came first, since net/http then
// answers 200; informational 1xx codes do not count. It stays 0 if the
// handler wrote nothing at all: net/http then answers 200, so callers that
// report the status usually treat 0 as http.StatusOK.
//
// Optional interfaces such as http.Flusher are not forwarded by type; use
// http.NewResponseController, which reaches the wrapped writer through
// [StatusWriter.Unwrap]. A StatusWriter is used by one handler at a time,
// as net/http uses a ResponseWriter.
type StatusWriter struct {
	http.ResponseWriter
	// Status is the recorded status, 0 until the handler writes.
	Status int
}

// WriteHeader records code if it is the first final status, and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 && code >= 200 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records http.StatusOK if no status was written yet, and passes b on.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, so that http.ResponseController can
// reach its Flush, Hijack, SetReadDeadline and the like.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
