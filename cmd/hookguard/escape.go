package main

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text taken from a request (an event ID, a type, a header name or value,
// a path) is attacker-controlled. Printed raw to a terminal, escape
// sequences in it can set the title, clear the screen or forge lines such
// as "secret: ...". Every such value goes through one of these before it
// is printed.

// maxQuoted bounds the bytes of a value [quoteSafe] shows.
const maxQuoted = 200

// quoteSafe returns s as a Go string literal ("..." with control, format
// and invalid bytes escaped), cut to maxQuoted bytes.
func quoteSafe(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// termSafe returns s unchanged when it is valid UTF-8 made only of
// printable characters and does not start with a quote, else s quoted as
// [quoteSafe] does: plain values stay readable, and a value that needed
// escaping is visibly quoted.
func termSafe(s string) string {
	if printableText(s) && !strings.HasPrefix(s, `"`) {
		return s
	}
	return quoteSafe(s)
}

// printableText reports whether s is valid UTF-8 made of characters that
// [strconv.IsPrint] accepts (no control or format characters, such as
// ESC, CSI or bidirectional overrides).
func printableText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !strconv.IsPrint(r) {
			return false
		}
		i += n
	}
	return true
}

// escapeControls returns s with every control, format or invalid byte
// escaped as in a Go string literal (\x1b, \u202e), the rest unchanged:
// for messages such as errors that may embed request text.
func escapeControls(s string) string {
	if printableText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
