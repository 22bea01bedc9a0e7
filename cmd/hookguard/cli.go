package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFail    = 1 // an invalid request, a failed demo row, a server error
	exitUsage   = 2 // bad flags or input; the message is on standard error
	maxBodySize = 25 << 20
)

// errBodyTooLarge is returned by readBody when the body exceeds its limit.
var errBodyTooLarge = errors.New("body too large")

// flagSet is a [flag.FlagSet] that prints "--name" style help and reports
// errors itself, so that no flag value is ever echoed back.
type flagSet struct {
	*flag.FlagSet
	cmd      string // "sign"
	synopsis string // the usage line after "hookguard "
	extra    func(w io.Writer)
}

func newFlagSet(cmd, synopsis string) *flagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, cmd: cmd, synopsis: synopsis}
}

// parse parses args. When it returns false the caller returns code: 0 after
// -h, [exitUsage] after printing the error to e.stderr.
func (f *flagSet) parse(e *env, args []string) (code int, ok bool) {
	err := f.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		f.usage(e.stdout)
		return exitOK, false
	}
	if err == nil && f.NArg() > 0 {
		// The stray argument may be a secret given without its flag: do
		// not echo it.
		err = fmt.Errorf("unexpected argument after the flags (%d of them); every value needs its flag, as in --secret VALUE", f.NArg())
	}
	if err != nil {
		return f.fail(e, err), false
	}
	return exitOK, true
}

// fail prints err as a usage error and returns [exitUsage].
func (f *flagSet) fail(e *env, err error) int {
	fmt.Fprintf(e.stderr, "hookguard %s: %v\nRun \"hookguard %s -h\" for usage.\n", f.cmd, err, f.cmd)
	return exitUsage
}

// usage prints the synopsis, every flag and the extra text to w.
func (f *flagSet) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: hookguard %s\n\nFlags:\n", f.synopsis)
	f.VisitAll(func(fl *flag.Flag) {
		typ, text := flag.UnquoteUsage(fl)
		dash := "--"
		if len(fl.Name) == 1 {
			dash = "-"
		}
		if typ != "" {
			typ = " " + typ
		}
		fmt.Fprintf(w, "  %s%s%s\n    \t%s", dash, fl.Name, typ, text)
		if fl.DefValue != "" && fl.DefValue != "0" && fl.DefValue != "0s" && fl.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", fl.DefValue)
		}
		fmt.Fprintln(w)
	})
	if f.extra != nil {
		fmt.Fprintln(w)
		f.extra(w)
	}
}

// listFlag is a repeatable string flag. Set never fails, so the flag
// package never echoes a value (a secret, a signature) in an error.
type listFlag []string

func (l *listFlag) String() string { return "" }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// parseHeaderLine parses one "Name: value" line, as curl's -H takes and as
// sign prints. Space around the name and the value is trimmed. The name
// must be an RFC 9110 token; the value must hold no control character
// other than tab. Errors never contain the value, which may be a signature.
func parseHeaderLine(line string) (name, value string, err error) {
	rawName, rawValue, found := strings.Cut(line, ":")
	if !found {
		return "", "", errors.New(`no ":"; want "Name: value"`)
	}
	name = strings.TrimSpace(rawName)
	if name == "" {
		return "", "", errors.New(`empty header name; want "Name: value"`)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return "", "", fmt.Errorf("the header name holds %q at byte %d, which a header name cannot contain", rune(name[i]), i)
		}
	}
	value = strings.Trim(rawValue, " \t")
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return "", "", fmt.Errorf("the value of header %s holds a control character (byte %d)", name, i)
		}
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// parseHeaders parses -H lines into a header; repeated names accumulate in
// order. Errors name the line by its position (1-based) in what.
func parseHeaders(h http.Header, lines []string, what string) error {
	for i, line := range lines {
		name, value, err := parseHeaderLine(line)
		if err != nil {
			return fmt.Errorf("%s %d: %w", what, i+1, err)
		}
		h.Add(name, value)
	}
	return nil
}

// parseHeaderFile parses a file of "Name: value" lines, as sign prints.
// Blank lines and lines starting with "#" are skipped; a final CR on each
// line is dropped, so files with CRLF endings work.
func parseHeaderFile(h http.Header, data []byte, what string) error {
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, err := parseHeaderLine(line)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", what, i+1, err)
		}
		h.Add(name, value)
	}
	return nil
}

// readInput reads all of path ("-" is stdin), refusing more than limit
// bytes with an error wrapping [errBodyTooLarge].
func readInput(path string, stdin io.Reader, limit int64) ([]byte, error) {
	var r io.Reader = stdin
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s holds more than %s; hookguard reads at most that much", errBodyTooLarge, name, formatBytes(limit))
	}
	return data, nil
}

// formatBytes writes n as "25 MiB", "512 KiB" or "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// parseTime reads a time given as Unix seconds or in RFC 3339.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time; want Unix seconds or RFC 3339")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return time.Time{}, fmt.Errorf("time %d is negative; want Unix seconds", n)
		}
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is neither Unix seconds nor RFC 3339 (2006-01-02T15:04:05Z)", s)
	}
	return t, nil
}

// flagTime returns the time the flag called name gives as value (Unix
// seconds or RFC 3339), or now when value is empty.
func flagTime(name, value string) (time.Time, error) {
	if value == "" {
		return time.Now(), nil
	}
	t, err := parseTime(value)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %w", name, err)
	}
	return t, nil
}

// parseTolerance reads a positive duration such as "5m" or "90s".
func parseTolerance(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("tolerance %q is not a duration such as 5m or 90s", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("tolerance %s must be positive; to check a capture later, set --now instead", d)
	}
	return d, nil
}

// writeHeaders writes h as "Name: value" lines sorted by name; a name with
// several values gets one line per value, in order.
func writeHeaders(w io.Writer, h http.Header) error {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		for _, v := range h[name] {
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
