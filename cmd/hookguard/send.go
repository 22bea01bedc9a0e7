package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/hookguard/hookguard/providers"
)

// outgoing is one signed webhook request, ready to send (and to send again,
// altered, to exercise a receiver).
type outgoing struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// signOutgoing returns the request p sends for out: out.Body with the
// headers p.Sign returns and out.ContentType. out.Method defaults to POST.
func signOutgoing(p providers.Provider, out providers.Outgoing) (*outgoing, error) {
	if out.Method == "" {
		out.Method = http.MethodPost
	}
	if out.ContentType == "" {
		out.ContentType = "application/json"
	}
	h, err := p.Sign(out)
	if err != nil {
		return nil, fmt.Errorf("sign %s request: %w", p.Name(), err)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", out.ContentType)
	}
	return &outgoing{Method: out.Method, URL: out.URL, Header: h, Body: out.Body}, nil
}

// clone returns a deep copy of o, to alter without touching o.
func (o *outgoing) clone() *outgoing {
	c := *o
	c.Header = o.Header.Clone()
	c.Body = bytes.Clone(o.Body)
	return &c
}

// maxResponseBody bounds how much of a response send keeps.
const maxResponseBody = 64 << 10

// sendResult is a receiver's answer.
type sendResult struct {
	Status int
	Header http.Header
	// Body holds at most maxResponseBody bytes of the response.
	Body []byte
}

// send sends o with client and returns the answer. Non-2xx statuses are not
// errors; the error is for a request that could not be made or answered.
func send(ctx context.Context, client *http.Client, o *outgoing) (sendResult, error) {
	req, err := http.NewRequestWithContext(ctx, o.Method, o.URL, bytes.NewReader(o.Body))
	if err != nil {
		return sendResult{}, err
	}
	req.Header = o.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return sendResult{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return sendResult{}, fmt.Errorf("reading the response to %s %s: %w", o.Method, o.URL, err)
	}
	// Drain a bounded remainder so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	return sendResult{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}
