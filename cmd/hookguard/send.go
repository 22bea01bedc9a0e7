package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hookguard/hookguard/internal/sign"
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
	return buildOutgoing(p, sign.Spec{
		Body: out.Body, ID: out.ID, Type: out.Type, Time: out.Timestamp,
		Method: out.Method, URL: out.URL, ContentType: out.ContentType,
	})
}

// buildOutgoing returns the request p sends for s, signed and then spoilt
// as s's tamper fields say. It is the one place where send and demo build
// requests, through package internal/sign, which webhooktest shares.
func buildOutgoing(p providers.Provider, s sign.Spec) (*outgoing, error) {
	d, err := sign.Build(p, s)
	if err != nil {
		return nil, err
	}
	return &outgoing{Method: d.Method, URL: d.URL, Header: d.Header, Body: d.Body}, nil
}

// newSendClient returns the client send and demo use: it never follows a
// redirect (a 3xx is the receiver's answer, reported as such) and gives up
// on a request after timeout. tlsConf, when not nil, says which
// certificates to trust for https:// URLs (nil: the system's).
func newSendClient(timeout time.Duration, conns int, tlsConf *tls.Config) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     tlsConf,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     30 * time.Second,
		},
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
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
		return sendResult{}, explainTLSError(err)
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
