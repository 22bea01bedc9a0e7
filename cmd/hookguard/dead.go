package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/rediskit"
	"github.com/hookguard/hookguard/riverkit"
)

// deadQueue is what the dead subcommands use of a durable queue: the
// dead-letter methods rediskit's and riverkit's Queue share.
type deadQueue interface {
	DeadLetters(ctx context.Context, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error)
	DeadLetter(ctx context.Context, ref string) (hookguard.DeadLetter, error)
	ReplayDeadLetter(ctx context.Context, ref string) (dedupe.Status, error)
	DropDeadLetter(ctx context.Context, ref string) error
}

// deadSubcommands are the subcommands of "hookguard dead".
var deadSubcommands = []struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) int
}{
	{"list", "list dead letters, oldest first, with filters", runDeadList},
	{"show", "show one dead letter in full: headers, body, error", runDeadShow},
	{"replay", "put dead letters back through dedupe and the queue (idempotent)", runDeadReplay},
	{"drop", "delete dead letters, after a confirmation", runDeadDrop},
}

// runDead implements "hookguard dead".
func runDead(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		deadUsage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		deadUsage(e.stdout)
		return exitOK
	}
	for _, c := range deadSubcommands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "hookguard dead: unknown subcommand %s\n\n", termSafe(args[0]))
	deadUsage(e.stderr)
	return exitUsage
}

func deadUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: hookguard dead <subcommand> --redis URL | --postgres URL [flags]\n\nSubcommands:\n\n")
	for _, c := range deadSubcommands {
		fmt.Fprintf(w, "\t%-7s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"hookguard dead <subcommand> -h\" for its flags.\n")
}

// deadFlags are the flags the dead subcommands share.
type deadFlags struct {
	fs                    *flagSet
	redisURL, postgresURL *string
	name, queue, table    *string
	shards, formerShards  *int

	// filters; set only for list, replay and drop
	provider, typ, errText, since, until *string
	limit                                *int
}

// backendUsage is the synopsis of the backend flags.
const backendUsage = "--redis URL [--name NAME] [--shards N] [--former-shards N] | --postgres URL [--queue NAME] [--table NAME]"

// filterUsage is the synopsis of the filter flags.
const filterUsage = "[--provider P] [--type T] [--error TEXT] [--since DURATION|TIME] [--until DURATION|TIME]"

func newDeadFlags(sub, synopsis string, filters bool) *deadFlags {
	fs := newFlagSet("dead "+sub, "dead "+sub+" "+synopsis)
	fs.extra = deadHelp
	d := &deadFlags{fs: fs}
	d.redisURL = fs.String("redis", "", "Redis `URL` of the queue, as given to serve --redis")
	d.postgresURL = fs.String("postgres", "", "PostgreSQL `URL` of the queue, as given to serve --postgres (the password may come from PGPASSWORD or ~/.pgpass instead)")
	d.name = fs.String("name", rediskit.DefaultName, "with --redis, the queue's `NAME` (rediskit.WithName)")
	d.shards = fs.Int("shards", 1, "with --redis, the queue's shard count `N`, as given to serve --shards")
	d.formerShards = fs.Int("former-shards", 0, "with --redis, the shard count `N` before a change of --shards: its shards' dead letters are listed too")
	d.queue = fs.String("queue", riverkit.DefaultQueue, "with --postgres, the River queue's `NAME` (riverkit.WithQueue)")
	d.table = fs.String("table", riverkit.DefaultTable, "with --postgres, the dedupe table's `NAME` (riverkit.WithTable); give serve and migrate the same")
	if filters {
		d.provider = fs.String("provider", "", "only dead letters of provider `P`")
		d.typ = fs.String("type", "", "only dead letters of event type `T`")
		d.errText = fs.String("error", "", "only dead letters whose error holds `TEXT` (case-sensitive)")
		d.since = fs.String("since", "", "only dead letters given up at or after `TIME`: a duration ago (2h) or RFC 3339")
		d.until = fs.String("until", "", "only dead letters given up before `TIME`: a duration ago (30m) or RFC 3339")
		d.limit = fs.Int("limit", 0, fmt.Sprintf("at most `N` dead letters (default %d for list; every match with --all)", hookguard.DefaultDeadLetterLimit))
	}
	return d
}

// parse parses args, taking the arguments that are not flags (the
// references) wherever they are, and checks the backend flags. When ok
// is false the caller returns code.
func (d *deadFlags) parse(e *env, args []string) (refs []string, code int, ok bool) {
	fs := d.fs
	for {
		err := fs.FlagSet.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.usage(e.stdout)
			return nil, exitOK, false
		}
		if err != nil {
			return nil, fs.fail(e, err), false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			refs = append(refs, rest...) // everything after "--" is a reference
			break
		}
		refs = append(refs, rest[0])
		args = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case *d.redisURL == "" && *d.postgresURL == "":
		return nil, fs.fail(e, errors.New("give the queue: --redis URL or --postgres URL")), false
	case *d.redisURL != "" && *d.postgresURL != "":
		return nil, fs.fail(e, errors.New("give one of --redis and --postgres")), false
	case *d.redisURL != "" && (set["queue"] || set["table"]):
		return nil, fs.fail(e, errors.New("--queue and --table apply to --postgres; a Redis queue is named with --name")), false
	case *d.postgresURL != "" && (set["name"] || set["shards"] || set["former-shards"]):
		return nil, fs.fail(e, errors.New("--name, --shards and --former-shards apply to --redis; a PostgreSQL queue is named with --queue (and --table)")), false
	case d.limit != nil && *d.limit < 0:
		return nil, fs.fail(e, fmt.Errorf("--limit %d is negative", *d.limit)), false
	}
	return refs, exitOK, true
}

// filter returns the filter the flags give, reading --since and --until
// relative to now.
func (d *deadFlags) filter(now time.Time) (hookguard.DeadLetterFilter, error) {
	f := hookguard.DeadLetterFilter{Provider: *d.provider, Type: *d.typ, ErrContains: *d.errText, Limit: *d.limit}
	var err error
	if f.Since, err = deadTime("since", *d.since, now); err != nil {
		return f, err
	}
	if f.Until, err = deadTime("until", *d.until, now); err != nil {
		return f, err
	}
	return f, nil
}

// hasFilter reports whether any filter flag was given.
func (d *deadFlags) hasFilter() bool {
	return *d.provider != "" || *d.typ != "" || *d.errText != "" || *d.since != "" || *d.until != "" || *d.limit != 0
}

// deadTime reads --since or --until: a duration before now ("2h"), or a
// time as Unix seconds or RFC 3339; "" is no bound.
func deadTime(name, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--%s %s: want a positive duration (how long ago) or a time", name, d)
		}
		return now.Add(-d), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: want a duration such as 2h, or a time: %w", name, err)
	}
	return t, nil
}

// deadLogger discards the queue's logs: a dead-letter command reports
// what matters itself.
var deadLogger = slog.New(slog.DiscardHandler)

// open connects to the queue the flags name, intake only: the command
// never runs a handler. close releases it. Errors never hold the URL's
// password; code is [exitUsage] for a bad URL or name, [exitFail] when
// the queue cannot be reached.
func (d *deadFlags) open(ctx context.Context) (q deadQueue, close func(), code int, err error) {
	if *d.redisURL != "" {
		return openRedisDead(ctx, *d.redisURL, *d.name, redisShards(*d.shards, *d.formerShards)...)
	}
	return openPostgresDead(ctx, *d.postgresURL, *d.queue, *d.table)
}

// openRedisDead opens the Redis queue name at url with no workers.
func openRedisDead(ctx context.Context, url, name string, shards ...rediskit.QueueOption) (deadQueue, func(), int, error) {
	redact := &postgresDB{secrets: passwordsIn(url)} // the same redaction as --postgres URLs
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, exitUsage, redact.errorf("--redis: %w", err)
	}
	rdb := redis.NewClient(opts)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	q, err := rediskit.NewQueue(cctx, rdb, nil, append([]rediskit.QueueOption{rediskit.WithName(name), rediskit.WithWorkers(0),
		rediskit.WithTrim(0, 0), rediskit.WithLogger(deadLogger)}, shards...)...)
	if err != nil {
		_ = rdb.Close()
		if errors.Is(err, rediskit.ErrInvalidOption) {
			return nil, nil, exitUsage, fmt.Errorf("--name, --shards or --former-shards: %w", err)
		}
		return nil, nil, exitFail, redact.errorf("--redis %s: %w", opts.Addr, err)
	}
	return q, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
		_ = rdb.Close()
	}, exitOK, nil
}

// openPostgresDead opens the River queue at url with no workers.
func openPostgresDead(ctx context.Context, url, queue, table string) (deadQueue, func(), int, error) {
	db, err := parsePostgres(url)
	if err != nil {
		return nil, nil, exitUsage, err
	}
	// NewQueue checks its options before it needs a pool: a bad --queue
	// is bad usage, said before any connection.
	if _, err := riverkit.NewQueue(ctx, nil, nil, riverkit.WithQueue(queue), riverkit.WithWorkers(0)); errors.Is(err, riverkit.ErrInvalidOption) {
		return nil, nil, exitUsage, fmt.Errorf("--queue: %w", err)
	}
	pool, err := db.connect(ctx, table)
	if err != nil {
		if errors.Is(err, riverkit.ErrInvalidOption) {
			return nil, nil, exitUsage, err
		}
		return nil, nil, exitFail, err
	}
	cctx, cancel := context.WithTimeout(ctx, postgresTimeout)
	defer cancel()
	q, err := riverkit.NewQueue(cctx, pool, nil, riverkit.WithQueue(queue), riverkit.WithTable(table),
		riverkit.WithWorkers(0), riverkit.WithLogger(deadLogger))
	if err != nil {
		pool.Close()
		switch {
		case errors.Is(err, riverkit.ErrInvalidOption):
			return nil, nil, exitUsage, fmt.Errorf("--queue: %w", err)
		case errors.Is(err, riverkit.ErrNotMigrated):
			return nil, nil, exitFail, db.errorf("--postgres %s has no hookguard schema (table %s or River's tables are missing): no queue has run there", db, table)
		}
		return nil, nil, exitFail, db.errorf("--postgres %s: %w", db, err)
	}
	return q, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
		pool.Close()
	}, exitOK, nil
}

// deadFail prints err, with its control characters escaped (it may hold
// request text), and returns code.
func deadFail(e *env, sub string, code int, err error) int {
	fmt.Fprintf(e.stderr, "hookguard dead %s: %s\n", sub, escapeControls(err.Error()))
	return code
}

// runDeadList implements "hookguard dead list".
func runDeadList(ctx context.Context, e *env, args []string) int {
	d := newDeadFlags("list", backendUsage+" "+filterUsage+" [--limit N] [--json]", true)
	asJSON := d.fs.Bool("json", false, "print one JSON object per line instead of a table")
	refs, code, ok := d.parse(e, args)
	if !ok {
		return code
	}
	if len(refs) > 0 {
		return d.fs.fail(e, fmt.Errorf("list takes no reference (%d given); use show REF", len(refs)))
	}
	now := time.Now()
	f, err := d.filter(now)
	if err != nil {
		return d.fs.fail(e, err)
	}
	q, closeQ, code, err := d.open(ctx)
	if err != nil {
		return deadFail(e, "list", code, err)
	}
	defer closeQ()
	ds, err := q.DeadLetters(ctx, f)
	if err != nil {
		return deadFail(e, "list", exitFail, err)
	}
	if *asJSON {
		for _, dl := range ds {
			if err := writeDeadJSON(e.stdout, dl, now); err != nil {
				return deadFail(e, "list", exitFail, err)
			}
		}
	} else {
		writeDeadTable(e.stdout, ds, now)
	}
	if len(ds) == f.Max() {
		fmt.Fprintf(e.stderr, "hookguard dead list: showing the oldest %d; more may match (raise --limit, or narrow with --since)\n", len(ds))
	}
	return exitOK
}

// writeDeadTable prints ds as a table, every value taken from an event
// escaped for the terminal.
func writeDeadTable(w io.Writer, ds []hookguard.DeadLetter, now time.Time) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no dead letters")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tAGE\tPROVIDER\tTYPE\tEVENT ID\tATTEMPTS\tREPLAYS\tERROR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", termSafe(d.Ref), deadAge(now.Sub(d.At)),
			deadCell(d.Event.Provider), deadCell(d.Event.Type), deadCell(d.Event.ID), d.Attempts, d.Replays, deadErrCell(d.Err))
	}
	_ = tw.Flush()
}

// deadCell is a table cell for s: escaped, "-" when empty.
func deadCell(s string) string {
	if s == "" {
		return "-"
	}
	return termSafe(s)
}

// maxErrCell bounds the runes of an error in the table; show prints it
// whole.
const maxErrCell = 80

// deadErrCell is the first line of an error, cut to maxErrCell runes, escaped.
func deadErrCell(s string) string {
	line, _, more := strings.Cut(s, "\n")
	if utf8.RuneCountInString(line) > maxErrCell {
		line, more = string([]rune(line)[:maxErrCell]), true
	}
	c := deadCell(line)
	if more {
		c += "..."
	}
	return c
}

// deadAge formats how long ago a dead letter was given up: 42s, 5m, 3h12m,
// 4d2h.
func deadAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// deadListLine is one line of "dead list --json".
type deadListLine struct {
	Ref        string    `json:"ref"`
	At         time.Time `json:"at"`
	AgeSeconds int64     `json:"age_seconds"`
	Provider   string    `json:"provider"`
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	Attempts   int       `json:"attempts"`
	Replays    int       `json:"replays"`
	Error      string    `json:"error"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	BodyBytes  int       `json:"body_bytes"`
}

// writeDeadJSON writes d as one JSON line whose strings escape every
// character that is not printable, so that the line is safe on a terminal
// and still valid JSON.
func writeDeadJSON(w io.Writer, d hookguard.DeadLetter, now time.Time) error {
	b, err := json.Marshal(deadListLine{
		Ref: d.Ref, At: d.At, AgeSeconds: int64(max(now.Sub(d.At), 0) / time.Second),
		Provider: d.Event.Provider, Type: d.Event.Type, ID: d.Event.ID,
		Attempts: d.Attempts, Replays: d.Replays, Error: d.Err,
		ReceivedAt: d.Event.ReceivedAt, BodyBytes: len(d.Event.Body),
	})
	if err != nil {
		return err
	}
	_, err = w.Write(append(jsonPrintable(b), '\n'))
	return err
}

// jsonPrintable escapes, as \uXXXX, every character of the JSON text b
// that is not printable (encoding/json leaves DEL, C1 controls and
// format characters such as bidirectional overrides as they are). The
// JSON structure is ASCII, so such characters only occur in strings.
func jsonPrintable(b []byte) []byte {
	if printableText(string(b)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || (r >= 0x20 && strconv.IsPrint(r)) {
			out = append(out, b[i:i+n]...) // json.Marshal left no invalid byte
		} else {
			out = appendJSONEscape(out, r)
		}
		i += n
	}
	return out
}

// appendJSONEscape appends r as \uXXXX, as a surrogate pair above U+FFFF.
func appendJSONEscape(b []byte, r rune) []byte {
	if r > 0xffff {
		r -= 0x10000
		b = fmt.Appendf(b, `\u%04x`, 0xd800+(r>>10))
		r = 0xdc00 + r&0x3ff
	}
	return fmt.Appendf(b, `\u%04x`, r)
}

// runDeadShow implements "hookguard dead show".
func runDeadShow(ctx context.Context, e *env, args []string) int {
	d := newDeadFlags("show", "REF "+backendUsage, false)
	refs, code, ok := d.parse(e, args)
	if !ok {
		return code
	}
	if len(refs) != 1 {
		return d.fs.fail(e, fmt.Errorf("show takes one reference (%d given); list the dead letters for them", len(refs)))
	}
	q, closeQ, code, err := d.open(ctx)
	if err != nil {
		return deadFail(e, "show", code, err)
	}
	defer closeQ()
	dl, err := q.DeadLetter(ctx, refs[0])
	if err != nil {
		return deadFail(e, "show", exitFail, err)
	}
	writeDeadLetter(e.stdout, dl, time.Now())
	return exitOK
}

// writeDeadLetter prints dl in full, every value from the event escaped.
func writeDeadLetter(w io.Writer, dl hookguard.DeadLetter, now time.Time) {
	var b bytes.Buffer
	field := func(name, value string) { fmt.Fprintf(&b, "%-12s %s\n", name+":", value) }
	field("ref", termSafe(dl.Ref))
	field("provider", deadCell(dl.Event.Provider))
	field("type", deadCell(dl.Event.Type))
	field("event id", deadCell(dl.Event.ID))
	field("given up", fmt.Sprintf("%s (%s ago)", dl.At.UTC().Format(time.RFC3339Nano), deadAge(now.Sub(dl.At))))
	if !dl.Event.ReceivedAt.IsZero() {
		field("received", dl.Event.ReceivedAt.UTC().Format(time.RFC3339Nano))
	}
	if !dl.Event.Timestamp.IsZero() {
		field("signed at", dl.Event.Timestamp.UTC().Format(time.RFC3339))
	}
	field("attempts", strconv.Itoa(dl.Attempts))
	field("replays", strconv.Itoa(dl.Replays))
	for i, k := range dl.Event.DedupeKeys {
		name := ""
		if i == 0 {
			name = "dedupe keys"
		}
		fmt.Fprintf(&b, "%-12s %s\n", name, termSafe(k))
	}
	fmt.Fprintln(&b, "error:")
	deadIndented(&b, dl.Err)
	fmt.Fprintln(&b, "headers (credentials removed):")
	names := make([]string, 0, len(dl.Event.Header))
	for name := range dl.Event.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range dl.Event.Header[name] {
			fmt.Fprintf(&b, "  %s: %s\n", escapeControls(name), escapeControls(v))
		}
	}
	body := dl.Event.Body
	var pretty bytes.Buffer
	if json.Valid(body) && json.Indent(&pretty, body, "", "  ") == nil {
		fmt.Fprintf(&b, "body (%s, JSON, indented here):\n", formatBytes(int64(len(body))))
		body = pretty.Bytes()
	} else {
		fmt.Fprintf(&b, "body (%s):\n", formatBytes(int64(len(body))))
	}
	deadIndented(&b, string(body))
	_, _ = w.Write(b.Bytes())
}

// deadIndented writes s line by line, indented, with control characters
// escaped in each line.
func deadIndented(b *bytes.Buffer, s string) {
	if s == "" {
		return
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString("  ")
		b.WriteString(escapeControls(strings.TrimSuffix(line, "\r")))
		b.WriteByte('\n')
	}
}

// selectDead returns the dead letters the command acts on: refs as
// given (checked to exist), or, with all, every dead letter the filter
// selects, read in pages (at most f.Limit when it is set).
func selectDead(ctx context.Context, q deadQueue, refs []string, all bool, f hookguard.DeadLetterFilter) ([]string, error) {
	if !all {
		return refs, nil
	}
	const page = 1000
	want := f.Limit
	seen := map[string]bool{}
	var out []string
	for want == 0 || len(out) < want {
		f.Limit = page
		ds, err := q.DeadLetters(ctx, f)
		if err != nil {
			return nil, err
		}
		added := false
		for _, d := range ds {
			if !seen[d.Ref] && (want == 0 || len(out) < want) {
				seen[d.Ref] = true
				out = append(out, d.Ref)
				added = true
			}
		}
		if len(ds) < page || !added {
			break
		}
		// The next page starts at the last one's time: the listing is
		// oldest first, and seen skips what this page held.
		f.Since = ds[len(ds)-1].At
	}
	return out, nil
}

// runDeadReplay implements "hookguard dead replay".
func runDeadReplay(ctx context.Context, e *env, args []string) int {
	d := newDeadFlags("replay", "REF... | --all "+filterUsage+" [--limit N] "+backendUsage, true)
	all := d.fs.Bool("all", false, "replay every dead letter the filters select, instead of the REFs given")
	refs, code, ok := d.parse(e, args)
	if !ok {
		return code
	}
	f, code, ok := d.selection(e, "replay", refs, *all)
	if !ok {
		return code
	}
	q, closeQ, code, err := d.open(ctx)
	if err != nil {
		return deadFail(e, "replay", code, err)
	}
	defer closeQ()
	refs, err = selectDead(ctx, q, refs, *all, f)
	if err != nil {
		return deadFail(e, "replay", exitFail, err)
	}
	var replayed, dup, failed int
	for _, ref := range refs {
		st, err := q.ReplayDeadLetter(ctx, ref)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(e.stderr, "%s: failed: %s\n", termSafe(ref), escapeControls(err.Error()))
		case st == dedupe.Reserved:
			replayed++
			fmt.Fprintf(e.stdout, "%s: replayed\n", termSafe(ref))
		case st == dedupe.Seen:
			dup++
			fmt.Fprintf(e.stdout, "%s: already handled (duplicate)\n", termSafe(ref))
		default: // Pending: another delivery of the event holds its keys
			failed++
			fmt.Fprintf(e.stderr, "%s: not replayed: a delivery of the event is in flight; replay again later\n", termSafe(ref))
		}
	}
	fmt.Fprintf(e.stdout, "replayed %d, already handled %d, failed %d\n", replayed, dup, failed)
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// selection checks the references against --all and the filters, and
// returns the filter.
func (d *deadFlags) selection(e *env, sub string, refs []string, all bool) (hookguard.DeadLetterFilter, int, bool) {
	switch {
	case all && len(refs) > 0:
		return hookguard.DeadLetterFilter{}, d.fs.fail(e, fmt.Errorf("give references or --all, not both (%d references given)", len(refs))), false
	case !all && len(refs) == 0:
		return hookguard.DeadLetterFilter{}, d.fs.fail(e, fmt.Errorf("%s needs references (see \"hookguard dead list\") or --all", sub)), false
	case !all && d.hasFilter():
		return hookguard.DeadLetterFilter{}, d.fs.fail(e, errors.New("the filters and --limit select with --all; with references, give no filter")), false
	}
	f, err := d.filter(time.Now())
	if err != nil {
		return f, d.fs.fail(e, err), false
	}
	return f, exitOK, true
}

// deadIsTerminal reports whether r is a terminal, where a person can answer a
// confirmation. Tests replace it.
var deadIsTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// runDeadDrop implements "hookguard dead drop".
func runDeadDrop(ctx context.Context, e *env, args []string) int {
	d := newDeadFlags("drop", "REF... | --all "+filterUsage+" [--limit N] [--yes] "+backendUsage, true)
	all := d.fs.Bool("all", false, "drop every dead letter the filters select, instead of the REFs given")
	yes := d.fs.Bool("yes", false, "drop without asking (needed when standard input is not a terminal)")
	refs, code, ok := d.parse(e, args)
	if !ok {
		return code
	}
	f, code, ok := d.selection(e, "drop", refs, *all)
	if !ok {
		return code
	}
	if !*yes && !deadIsTerminal(e.stdin) {
		return d.fs.fail(e, errors.New("dropping deletes dead letters for good: standard input is not a terminal to confirm on, so pass --yes"))
	}
	q, closeQ, code, err := d.open(ctx)
	if err != nil {
		return deadFail(e, "drop", code, err)
	}
	defer closeQ()
	refs, err = selectDead(ctx, q, refs, *all, f)
	if err != nil {
		return deadFail(e, "drop", exitFail, err)
	}
	if len(refs) == 0 {
		fmt.Fprintln(e.stdout, "no dead letters match; nothing dropped")
		return exitOK
	}
	if !*yes {
		fmt.Fprintf(e.stderr, "drop %d dead letters? [y/N] ", len(refs))
		answer, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(e.stderr, "nothing dropped")
			return exitFail
		}
	}
	var dropped, failed int
	for _, ref := range refs {
		if err := q.DropDeadLetter(ctx, ref); err != nil {
			failed++
			fmt.Fprintf(e.stderr, "%s: failed: %s\n", termSafe(ref), escapeControls(err.Error()))
			continue
		}
		dropped++
		fmt.Fprintf(e.stdout, "%s: dropped\n", termSafe(ref))
	}
	fmt.Fprintf(e.stdout, "dropped %d, failed %d\n", dropped, failed)
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// deadHelp is the text of "hookguard dead SUBCOMMAND -h" after the flags.
func deadHelp(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(`
The dead subcommands work on the dead letters of a durable queue: the events
serve --redis or --postgres (or rediskit's and riverkit's Queue) gave up on.
Give the same --redis URL (and --name) or --postgres URL (and --queue,
--table) as the queue. They run no handler and take no event from the queue.

  list    a table of dead letters, oldest first: reference, age, provider,
          type, event ID, attempts, replays and the error's first line;
          --json prints one JSON object per line instead
  show    one dead letter in full: headers (credentials were removed when
          it was taken in), the body (JSON indented), the error
  replay  puts each back through dedupe and the queue: the event keeps its
          ID and is handled by the queue's workers; replaying twice handles
          it once ("already handled (duplicate)")
  drop    deletes them, after asking "drop N dead letters? [y/N]" on the
          terminal; without a terminal it needs --yes

replay and drop take references, or --all with the filters to act on every
match. Values taken from the events are printed with control characters
escaped. Exit status: 0 when all went well, 1 when the queue cannot be
reached or a dead letter failed, 2 on bad usage. Messages never print the
URL's password.
`, "\n"))
}
