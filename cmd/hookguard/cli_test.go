package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseHeaderLine(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		wantName  string
		wantValue string
		wantErr   string // substring; empty means no error
	}{
		{name: "plain", give: "Stripe-Signature: t=1,v1=ab", wantName: "Stripe-Signature", wantValue: "t=1,v1=ab"},
		{name: "canonicalized", give: "x-hub-signature-256: sha256=00", wantName: "X-Hub-Signature-256", wantValue: "sha256=00"},
		{name: "space trimmed", give: "  X-Id \t:  \t abc \t ", wantName: "X-Id", wantValue: "abc"},
		{name: "no space after colon", give: "X-Id:abc", wantName: "X-Id", wantValue: "abc"},
		{name: "value keeps colons", give: "X-Url: http://a:8080/x", wantName: "X-Url", wantValue: "http://a:8080/x"},
		{name: "empty value", give: "X-Empty:", wantName: "X-Empty", wantValue: ""},
		{name: "inner tab kept", give: "X-T: a\tb", wantName: "X-T", wantValue: "a\tb"},
		// Bad lines: each must be refused, and the message must not echo the
		// value, which may be a signature.
		{name: "no colon", give: "X-Id abc", wantErr: `no ":"`},
		{name: "empty name", give: ": abc", wantErr: "empty header name"},
		{name: "blank name", give: "   : abc", wantErr: "empty header name"},
		{name: "space in name", give: "X Id: abc", wantErr: "cannot contain"},
		{name: "slash in name", give: "X/Id: abc", wantErr: "cannot contain"},
		{name: "CR in value", give: "X-Id: a\rb", wantErr: "control character"},
		{name: "NUL in value", give: "X-Id: a\x00b", wantErr: "control character"},
		{name: "newline smuggling", give: "X-Id: a\nEvil: b", wantErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, value, err := parseHeaderLine(tt.give)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parseHeaderLine(%q) = %q, %q, nil; want error containing %q", tt.give, name, value, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseHeaderLine(%q) error = %q; want it to contain %q", tt.give, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "abc") {
					t.Errorf("parseHeaderLine(%q) error %q echoes the value", tt.give, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseHeaderLine(%q) error = %v", tt.give, err)
			}
			if name != tt.wantName || value != tt.wantValue {
				t.Errorf("parseHeaderLine(%q) = %q, %q; want %q, %q", tt.give, name, value, tt.wantName, tt.wantValue)
			}
		})
	}
}

func TestParseHeadersAccumulates(t *testing.T) {
	h := http.Header{}
	lines := []string{"Webhook-Signature: v1,a", "X-Other: 1", "webhook-signature:  v1,b  "}
	if err := parseHeaders(h, lines, "-H"); err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Webhook-Signature": {"v1,a", "v1,b"}, "X-Other": {"1"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("parseHeaders(%q) = %v; want %v", lines, h, want)
	}

	err := parseHeaders(http.Header{}, []string{"A: 1", "B: 2", "bad"}, "-H")
	if err == nil || !strings.HasPrefix(err.Error(), "-H 3:") {
		t.Errorf("parseHeaders with a bad third line: error = %v; want one starting with \"-H 3:\"", err)
	}
}

func TestParseHeaderFile(t *testing.T) {
	data := "# captured from a sender\r\nContent-Type: application/json\r\n\r\nX-Sig: v1,a\r\nX-Sig: v1,b\n"
	h := http.Header{}
	if err := parseHeaderFile(h, []byte(data), "h.txt"); err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Content-Type": {"application/json"}, "X-Sig": {"v1,a", "v1,b"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("parseHeaderFile = %v; want %v", h, want)
	}
	err := parseHeaderFile(http.Header{}, []byte("A: 1\nbroken\n"), "h.txt")
	if err == nil || !strings.HasPrefix(err.Error(), "h.txt line 2:") {
		t.Errorf("parseHeaderFile with a bad line 2: error = %v; want one starting with \"h.txt line 2:\"", err)
	}
}

func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "body.json")
	if err := os.WriteFile(file, []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		stdin   string
		limit   int64
		want    string
		wantErr error
	}{
		{name: "stdin", path: "-", stdin: "hello", limit: 10, want: "hello"},
		{name: "stdin at limit", path: "-", stdin: "0123456789", limit: 10, want: "0123456789"},
		{name: "stdin over limit", path: "-", stdin: "0123456789x", limit: 10, wantErr: errBodyTooLarge},
		{name: "empty stdin", path: "-", stdin: "", limit: 10, want: ""},
		{name: "file", path: file, limit: 10, want: `{"a":1}`},
		{name: "file over limit", path: file, limit: 3, wantErr: errBodyTooLarge},
		{name: "missing file", path: filepath.Join(dir, "nope"), limit: 10, wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readInput(tt.path, strings.NewReader(tt.stdin), tt.limit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("readInput(%q) error = %v; want %v", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("readInput(%q) = %q, %v; want %q, nil", tt.path, got, err, tt.want)
			}
		})
	}
}

func TestReadInputTooLargeMessage(t *testing.T) {
	_, err := readInput("-", strings.NewReader(strings.Repeat("x", 2<<10+1)), 2<<10)
	if err == nil || !strings.Contains(err.Error(), "more than 2 KiB") {
		t.Errorf("readInput over a 2 KiB limit: error = %v; want it to name the limit", err)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		give    string
		want    time.Time
		wantErr bool
	}{
		{give: "1700000000", want: time.Unix(1700000000, 0)},
		{give: "0", want: time.Unix(0, 0)},
		{give: "2023-11-14T22:13:20Z", want: time.Unix(1700000000, 0)},
		{give: "2023-11-14T23:13:20+01:00", want: time.Unix(1700000000, 0)},
		{give: "", wantErr: true},
		{give: "-5", wantErr: true},
		{give: "yesterday", wantErr: true},
		{give: "1700000000.5", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.give)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseTolerance(t *testing.T) {
	tests := []struct {
		give    string
		want    time.Duration
		wantErr bool
	}{
		{give: "5m", want: 5 * time.Minute},
		{give: "90s", want: 90 * time.Second},
		{give: "0s", wantErr: true},
		{give: "-1m", wantErr: true},
		{give: "300", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTolerance(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseTolerance(%q) = %v, %v; want %v, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestWriteHeadersSorted(t *testing.T) {
	h := http.Header{
		"Webhook-Signature": {"v1,b", "v1,a"},
		"Content-Type":      {"application/json"},
		"Webhook-Id":        {"msg_1"},
	}
	var buf bytes.Buffer
	if err := writeHeaders(&buf, h); err != nil {
		t.Fatal(err)
	}
	want := "Content-Type: application/json\nWebhook-Id: msg_1\nWebhook-Signature: v1,b\nWebhook-Signature: v1,a\n"
	if buf.String() != want {
		t.Errorf("writeHeaders =\n%s\nwant\n%s", buf.String(), want)
	}
	// What writeHeaders prints, parseHeaderFile reads back.
	back := http.Header{}
	if err := parseHeaderFile(back, buf.Bytes(), "out"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, h) {
		t.Errorf("round trip = %v; want %v", back, h)
	}
}

func TestFormatBytes(t *testing.T) {
	for give, want := range map[int64]string{25 << 20: "25 MiB", 512 << 10: "512 KiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := formatBytes(give); got != want {
			t.Errorf("formatBytes(%d) = %q; want %q", give, got, want)
		}
	}
}

// FuzzParseHeaderLine checks that any accepted line yields a canonical,
// token-only name and a trimmed value free of control characters, which
// net/http can write. Run with
//
//	go test -run=^$ -fuzz=FuzzParseHeaderLine -fuzztime=20s ./cmd/hookguard
func FuzzParseHeaderLine(f *testing.F) {
	for _, s := range []string{
		"Stripe-Signature: t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
		"webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,bm9wZQ==",
		"X-Id:abc", ": v", "X Y: z", "A:\r\nB: c", "\x00:\x00", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, value, err := parseHeaderLine(line)
		if err != nil {
			return
		}
		if name == "" || name != http.CanonicalHeaderKey(name) {
			t.Fatalf("parseHeaderLine(%q) name %q is empty or not canonical", line, name)
		}
		for i := 0; i < len(name); i++ {
			if !isTokenChar(name[i]) {
				t.Fatalf("parseHeaderLine(%q) name %q holds a non-token byte", line, name)
			}
		}
		if value != strings.Trim(value, " \t") {
			t.Fatalf("parseHeaderLine(%q) value %q is not trimmed", line, value)
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				t.Fatalf("parseHeaderLine(%q) value %q holds a control byte", line, value)
			}
		}
		// The accepted header survives a trip through net/http's writer
		// and reader unchanged.
		h := http.Header{}
		h.Add(name, value)
		var buf bytes.Buffer
		if err := h.Write(&buf); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseHeaderFile checks that a header file either fails or yields one
// header value per line that is neither blank nor a comment. Run with
//
//	go test -run=^$ -fuzz=FuzzParseHeaderFile -fuzztime=20s ./cmd/hookguard
func FuzzParseHeaderFile(f *testing.F) {
	f.Add("Content-Type: application/json\nStripe-Signature: t=1,v1=00\n")
	f.Add("# comment\r\n\r\nA: 1\r\nA: 2\r\n")
	f.Add("A: 1\nbroken\n")
	f.Add("\n\n#\n: x\n")
	f.Fuzz(func(t *testing.T, data string) {
		h := http.Header{}
		if err := parseHeaderFile(h, []byte(data), "f"); err != nil {
			if !strings.HasPrefix(err.Error(), "f line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		want := 0
		for _, l := range strings.Split(data, "\n") {
			l = strings.TrimSuffix(l, "\r")
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
				want++
			}
		}
		got := 0
		for _, vs := range h {
			got += len(vs)
		}
		if got != want {
			t.Fatalf("parseHeaderFile(%q) kept %d values; want %d", data, got, want)
		}
	})
}

// BenchmarkParseHeaderLine bounds the cost of parsing one -H argument
// carrying a rotation-sized signature header.
func BenchmarkParseHeaderLine(b *testing.B) {
	line := "Webhook-Signature: " + strings.Repeat("v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= ", 16)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseHeaderLine(line); err != nil {
			b.Fatal(err)
		}
	}
}
