package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"

	"github.com/hookguard/hookguard/internal/sign"
	"github.com/hookguard/hookguard/internal/testsecret"
	"github.com/hookguard/hookguard/providers"
)

// runSign implements "hookguard sign".
func runSign(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("sign", "sign --provider NAME|--scheme FILE --secret-file PATH|--secret-env VAR|--secret SECRET [--id ID] [--type TYPE] [--timestamp UNIX] [--url URL] [--method M] [--body FILE|-] [--body-out FILE]")
	fs.extra = providerList
	pf := addProviderFlags(fs)
	secretArgs := addSecretFlags(fs, false, "the signing secret; for asymmetric schemes (discord, sendgrid, plaid, standardwebhooks whsk_) the private key")
	id := fs.String("id", "", "event or delivery `ID` for schemes that carry it in a header (default: a random one)")
	typ := fs.String("type", "", "event `TYPE` for schemes that carry it in a header, such as push for GitHub (default: a typical event of the provider)")
	timestamp := fs.String("timestamp", "", "signing time as `UNIX` seconds or RFC 3339 (default now)")
	url := fs.String("url", "", "`URL` the request is sent to, for schemes that sign it")
	method := fs.String("method", "POST", "HTTP `METHOD`, for schemes that sign it")
	contentType := fs.String("content-type", "application/json", "`TYPE` of the body, for schemes that sign it")
	bodyPath := fs.String("body", "-", "`FILE` holding the body; - reads standard input")
	bodyOut := fs.String("body-out", "", "`FILE` to write the signed body to, for schemes that sign inside the body (mailgun, linear)")
	if code, ok := fs.parse(e, args); !ok {
		return code
	}
	if err := pf.check(); err != nil {
		return fs.fail(e, err)
	}
	secret, err := singleSecret(e, *secretArgs)
	if err != nil {
		return fs.fail(e, err)
	}
	ts, err := flagTime("timestamp", *timestamp)
	if err != nil {
		return fs.fail(e, err)
	}
	body, err := e.readInput(*bodyPath, maxBodySize)
	if err != nil {
		return fs.fail(e, fmt.Errorf("--body: %w", err))
	}
	p, err := pf.provider(e, secret)
	if err != nil {
		return fs.fail(e, err)
	}
	if *typ == "" && *pf.name != "" {
		*typ = sign.DefaultType(p.Name())
	}
	out := providers.Outgoing{
		Body:        body,
		ID:          *id,
		Type:        *typ,
		Timestamp:   ts,
		Method:      *method,
		URL:         *url,
		ContentType: *contentType,
	}
	var h http.Header
	if p.Info().SignedInBody {
		// The signature (or the signed timestamp) lives in the body, so
		// headers alone would be a request that never verifies.
		if *bodyOut == "" {
			return fs.fail(e, fmt.Errorf("%s signs inside the body: pass --body-out FILE to get the body to send", p.Name()))
		}
		var signed []byte
		if signed, h, err = p.SignBody(out); err == nil {
			err = os.WriteFile(*bodyOut, signed, 0o644)
		}
	} else {
		if *bodyOut != "" {
			return fs.fail(e, fmt.Errorf("--body-out: %s signs in headers only; the body is sent as it is", p.Name()))
		}
		h, err = p.Sign(out)
	}
	if err != nil {
		return fs.fail(e, err)
	}
	if *pf.name != "" {
		// Every header the provider sends, signed or not: receivers and
		// the providers' own libraries require some unsigned ones.
		sign.AddSenderHeaders(p.Name(), h)
	}
	if err := writeHeaders(e.stdout, h); err != nil {
		fmt.Fprintf(e.stderr, "hookguard sign: %v\n", err)
		return exitFail
	}
	return exitOK
}

// providerList prints the provider names, with what each scheme signs,
// for a command's help.
func providerList(w io.Writer) {
	fmt.Fprintln(w, "Providers:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range providers.Names() {
		secret, err := testsecret.For(name)
		var p providers.Provider
		if err == nil {
			p, err = providers.New(name, secret)
		}
		if err != nil {
			fmt.Fprintf(tw, "  %s\n", name)
			continue
		}
		info := p.Info()
		ts := "signs a timestamp"
		if !info.Timestamped {
			ts = "no timestamp"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", name, info.SignatureHeader, info.Algorithm, ts, info.Title)
	}
	_ = tw.Flush()
}
