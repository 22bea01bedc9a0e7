package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatusWriter(t *testing.T) {
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter)
		want  int // recorded status
		sent  int // status the client got
	}{
		{"nothing written", func(http.ResponseWriter) {}, 0, http.StatusOK},
		{"write only", func(w http.ResponseWriter) { _, _ = w.Write([]byte("ok")) }, http.StatusOK, http.StatusOK},
		{"explicit 202", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }, http.StatusAccepted, http.StatusAccepted},
		{"500 then write", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("boom"))
		}, http.StatusInternalServerError, http.StatusInternalServerError},
		{"second WriteHeader ignored", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusOK)
		}, http.StatusNotFound, http.StatusNotFound},
		{"write then WriteHeader", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("x"))
			w.WriteHeader(http.StatusTeapot)
		}, http.StatusOK, http.StatusOK},
		{"1xx not final", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, http.StatusCreated, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sw := &StatusWriter{ResponseWriter: w}
				tt.serve(sw)
				if sw.Status != tt.want {
					t.Errorf("Status = %d, want %d", sw.Status, tt.want)
				}
			}))
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.sent {
				t.Errorf("client got %d, want %d", resp.StatusCode, tt.sent)
			}
		})
	}
}

func TestStatusWriterPassesBodyAndHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := &StatusWriter{ResponseWriter: rec}
	sw.Header().Set("X-Test", "1")
	sw.WriteHeader(http.StatusCreated)
	if n, err := sw.Write([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v; want 5, nil", n, err)
	}
	if rec.Code != http.StatusCreated || rec.Body.String() != "hello" || rec.Header().Get("X-Test") != "1" {
		t.Fatalf("wrapped writer got code %d, body %q, header %q", rec.Code, rec.Body.String(), rec.Header().Get("X-Test"))
	}
}

// TestStatusWriterUnwrap checks that http.ResponseController reaches the
// wrapped writer's optional methods, which StatusWriter does not declare.
func TestStatusWriterUnwrap(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := &StatusWriter{ResponseWriter: rec}
	if sw.Unwrap() != rec {
		t.Fatal("Unwrap did not return the wrapped writer")
	}
	if _, ok := any(sw).(http.Flusher); ok {
		t.Fatal("StatusWriter declares Flush; this test no longer exercises Unwrap")
	}
	if err := http.NewResponseController(sw).Flush(); err != nil {
		t.Fatalf("Flush through ResponseController: %v", err)
	}
	if !rec.Flushed {
		t.Fatal("Flush did not reach the wrapped writer")
	}
	// A writer without the method still reports ErrNotSupported, not a panic.
	bare := &StatusWriter{ResponseWriter: struct{ http.ResponseWriter }{rec}}
	if err := http.NewResponseController(bare).Flush(); !errors.Is(err, http.ErrNotSupported) {
		t.Fatalf("Flush on a writer without Flush = %v, want http.ErrNotSupported", err)
	}
}

// TestStatusWriterAllocs pins the cost the hot paths pay: wrapping a writer
// and writing through it takes exactly one allocation (the StatusWriter
// itself, which escapes into the handler's interface).
func TestStatusWriterAllocs(t *testing.T) {
	rec := httptest.NewRecorder()
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	allocs := testing.AllocsPerRun(100, func() {
		sw := &StatusWriter{ResponseWriter: rec}
		h.ServeHTTP(sw, req)
		if sw.Status != http.StatusNoContent {
			t.Fatalf("Status = %d", sw.Status)
		}
	})
	if allocs != 1 {
		t.Fatalf("wrap and serve allocated %v times, want 1", allocs)
	}
}
