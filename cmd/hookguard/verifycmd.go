package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/verify"
)

// runVerify implements "hookguard verify".
func runVerify(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("verify", "verify --provider NAME|--scheme FILE --secret-file PATH|--secret-env VAR|--secret SECRET... [-H 'Name: value']... [--url URL] [--method M] [--now UNIX] [--tolerance DURATION] [--signature-version V] [--shared-key ID]... [--body FILE|-]")
	fs.extra = providerList
	pf := addProviderFlags(fs)
	secretArgs := addSecretFlags(fs, false, "the signing secret (for asymmetric schemes the public key as the provider shows it: hex for discord, base64 DER for sendgrid, the JWK for plaid); repeat any of the secret flags for rotation secrets, the first is the primary")
	var headerLines listFlag
	fs.Var(&headerLines, "H", "request header as `'Name: value'`; repeat for more, values of one name accumulate")
	fs.Var(&headerLines, "header", "same as -H `'Name: value'`")
	headerFile := fs.String("header-file", "", "`FILE` of 'Name: value' lines (as sign prints), added to the -H headers")
	url := fs.String("url", "", "absolute `URL` the sender called, for schemes that sign it")
	method := fs.String("method", "POST", "HTTP `METHOD` of the captured request")
	nowFlag := fs.String("now", "", "check the timestamp as if the time were `UNIX` seconds or RFC 3339 (default now)")
	tolerance := fs.String("tolerance", "", "allowed clock difference in each direction, a `DURATION` such as 5m (default: the provider's)")
	bodyPath := fs.String("body", "-", "`FILE` holding the raw body; - reads standard input")
	sigVersion := fs.String("signature-version", "", "HubSpot signature `VERSION` to accept: v3 (the default), v2 or v1")
	var sharedKeys listFlag
	fs.Var(&sharedKeys, "shared-key", "Twilio SharedKey `ID` (SK...) whose secret is given: check Twilio's HMAC-SHA256 signature; repeatable")
	if code, ok := fs.parse(e, args); !ok {
		return code
	}
	if err := pf.check(); err != nil {
		return fs.fail(e, err)
	}
	if len(*secretArgs) == 0 {
		return fs.fail(e, errors.New("--secret is required, or --secret-file PATH or --secret-env VAR (which keep it out of the process list)"))
	}
	if *bodyPath == "-" && *headerFile == "-" {
		return fs.fail(e, errors.New("--body and --header-file cannot both read standard input"))
	}
	header := http.Header{}
	if err := parseHeaders(header, headerLines, "-H"); err != nil {
		return fs.fail(e, err)
	}
	if *headerFile != "" {
		data, err := e.readInput(*headerFile, maxHeaderFileSize)
		if err != nil {
			return fs.fail(e, fmt.Errorf("--header-file: %w", err))
		}
		if err := parseHeaderFile(header, data, *headerFile); err != nil {
			return fs.fail(e, err)
		}
	}
	now, err := flagTime("now", *nowFlag)
	if err != nil {
		return fs.fail(e, err)
	}
	secrets, err := secretArgs.values(e)
	if err != nil {
		return fs.fail(e, err)
	}
	var opts []providers.Option
	if *sigVersion != "" {
		opts = append(opts, providers.WithSignatureVersion(*sigVersion))
	}
	for _, id := range sharedKeys {
		opts = append(opts, providers.WithSharedKey(id))
	}
	for _, s := range secrets[1:] {
		opts = append(opts, providers.WithSecret(s))
	}
	if *tolerance != "" {
		d, err := parseTolerance(*tolerance)
		if err != nil {
			return fs.fail(e, fmt.Errorf("--tolerance: %w", err))
		}
		opts = append(opts, providers.WithTolerance(d, d))
	}
	body, err := e.readInput(*bodyPath, maxBodySize)
	if err != nil {
		return fs.fail(e, fmt.Errorf("--body: %w", err))
	}
	p, err := pf.provider(e, secrets[0], opts...)
	if err != nil {
		return fs.fail(e, err)
	}
	d, err := p.Verify(verify.Request{Method: *method, URL: *url, Header: header, Body: body}, now)
	if err != nil {
		if verify.StatusCode(err) == http.StatusInternalServerError {
			// A configuration error (a secret that cannot be decoded) is
			// bad usage, not a verdict on the request.
			return fs.fail(e, err)
		}
		// The error may quote the request (a header, a field): escape it.
		fmt.Fprintf(e.stdout, "invalid: %s\n", escapeControls(err.Error()))
		return exitFail
	}
	if err := writeDelivery(e.stdout, d, len(secrets)); err != nil {
		fmt.Fprintf(e.stderr, "hookguard verify: %v\n", err)
		return exitFail
	}
	return exitOK
}

// maxHeaderFileSize bounds a --header-file.
const maxHeaderFileSize = 1 << 20

// writeDelivery prints a verified delivery as "valid" followed by one
// "key: value" line per field. Fields taken from the request (the ID, the
// type) are unsigned for some schemes, so they are printed through
// [termSafe]: quoted and escaped when they hold control characters.
func writeDelivery(w io.Writer, d verify.Delivery, secrets int) error {
	var b strings.Builder
	b.WriteString("valid\n")
	field := func(k, v string) {
		if v == "" {
			v = "(none)"
		}
		fmt.Fprintf(&b, "%-10s %s\n", k+":", escapeControls(v))
	}
	field("provider", d.Provider)
	field("id", termSafe(d.ID))
	field("type", termSafe(d.Type))
	ts := ""
	if !d.Timestamp.IsZero() {
		ts = d.Timestamp.UTC().Format(time.RFC3339)
	}
	field("timestamp", ts)
	secret := fmt.Sprintf("%d", d.SecretIndex)
	switch {
	case d.SecretIndex == 0 && secrets == 1:
	case d.SecretIndex == 0:
		secret += " (primary)"
	default:
		secret += " (rotation secret)"
	}
	field("secret", secret)
	if d.Replayable {
		field("replay", "not protected: the scheme signs no timestamp; a receiver dedupes by content")
	}
	if d.Reply != nil {
		field("handshake", fmt.Sprintf("answer %d %s (%d bytes)", d.Reply.Status, d.Reply.ContentType, len(d.Reply.Body)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
