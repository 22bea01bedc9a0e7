package httpx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hookguard/hookguard/internal/httpx"
)

func ExampleStatusWriter() {
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
	})
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &httpx.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		fmt.Println("answered", sw.Status)
	})
	logged.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/hook", nil))
	// Output: answered 503
}
