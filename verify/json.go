package verify

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// JSONField returns the value at path in a JSON object body, reading only as
// far as it must: path[0] is a key of the top-level object, path[1] a key of
// the object under it, and so on. A string value is returned unescaped,
// with invalid UTF-8 replaced by U+FFFD as encoding/json does; a
// number, true, false or null is returned as written. It reports false when
// body is not a JSON object, the path is absent, or the value is an object
// or array. The first occurrence of a key wins.
//
// It never decodes the whole body, recurses only along path, and skips
// other values with a flat scan, so a hostile body cannot make it use more
// than constant memory or stack. Call it only on verified bodies.
func JSONField(body []byte, path ...string) (string, bool) {
	if len(path) == 0 {
		return "", false
	}
	s := jsonScanner{b: body}
	for depth, key := range path {
		s.space()
		if !s.eat('{') {
			return "", false
		}
		found := false
		for !found {
			s.space()
			if s.eat('}') {
				return "", false
			}
			start, end, esc, ok := s.str()
			if !ok {
				return "", false
			}
			s.space()
			if !s.eat(':') {
				return "", false
			}
			s.space()
			if keyEquals(body[start:end], esc, key) {
				found = true
				break
			}
			if !s.skipValue() {
				return "", false
			}
			s.space()
			if !s.eat(',') {
				return "", false // '}' or garbage: key absent
			}
		}
		if depth < len(path)-1 {
			continue // the value must be an object: the loop eats its '{'
		}
		return s.scalar()
	}
	return "", false
}

type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str scans a string at s.i and returns the bounds of its contents and
// whether it holds escapes. A raw control character makes it malformed.
func (s *jsonScanner) str() (start, end int, esc, ok bool) {
	if !s.eat('"') {
		return 0, 0, false, false
	}
	start = s.i
	end, ok = closingQuote(s.b, start)
	if !ok {
		return 0, 0, false, false
	}
	raw := s.b[start:end]
	for _, c := range raw {
		if c < 0x20 {
			return 0, 0, false, false
		}
	}
	s.i = end + 1
	return start, end, bytes.IndexByte(raw, '\\') >= 0, true
}

// closingQuote returns the index of the quote that ends the string whose
// contents start at from. It jumps from quote to quote with
// bytes.IndexByte (vectorised) instead of stepping byte by byte, which is
// most of the cost of skipping a large body; a quote preceded by an odd run
// of backslashes is escaped. Each backslash is counted at most once, so the
// scan stays linear.
func closingQuote(b []byte, from int) (int, bool) {
	for i := from; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, false
		}
		q := i + j
		n := 0
		for k := q - 1; k >= from && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q, true
		}
		i = q + 1
	}
}

// structural marks the bytes skipValue must look at; it steps over all
// others in a tight loop.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true}

// skipValue skips one value of any kind without recursion. Strings inside
// skipped values are not checked for control characters: the body was
// verified, and only the returned value must be well formed.
func (s *jsonScanner) skipValue() bool {
	b, i, start, depth := s.b, s.i, s.i, 0
	for i < len(b) {
		c := b[i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			q, ok := closingQuote(b, i+1)
			if !ok {
				return false
			}
			i = q + 1
			if depth == 0 {
				s.i = i
				return true
			}
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				// End of the enclosing object, which the caller sees;
				// an empty value is an error.
				s.i = i
				return i > start
			}
			depth--
			i++
			if depth == 0 {
				s.i = i
				return true
			}
		case ',':
			if depth == 0 {
				s.i = i
				return i > start
			}
			i++
		}
	}
	s.i = i
	return depth == 0
}

// scalar returns the string, number or literal at s.i.
func (s *jsonScanner) scalar() (string, bool) {
	if s.i >= len(s.b) {
		return "", false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		start, end, esc, ok := s.str()
		if !ok {
			return "", false
		}
		// Invalid UTF-8 takes the slow path too, so that it is replaced
		// with U+FFFD exactly as encoding/json does for the handler.
		if !esc && utf8.Valid(s.b[start:end]) {
			return string(s.b[start:end]), true
		}
		var out string
		if json.Unmarshal(s.b[start-1:end+1], &out) != nil {
			return "", false
		}
		return out, true
	case c == '-' || c == 't' || c == 'f' || c == 'n' || ('0' <= c && c <= '9'):
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return string(s.b[start:s.i]), true
			}
			s.i++
		}
		return "", false // truncated: an object cannot end here
	}
	return "", false
}

func keyEquals(raw []byte, esc bool, key string) bool {
	if !esc && utf8.Valid(raw) {
		return string(raw) == key
	}
	var k string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	return json.Unmarshal(quoted, &k) == nil && k == key
}

// JSONLastField returns the value of key when it is the last member of the
// top-level object of body and its value is a string (unescaped as
// [JSONField] does); otherwise it reports false. It reads the body
// backwards from its end, so its cost does not grow with the body: use it
// before [JSONField] for a field that a sender writes last, such as the
// "type" of a Stripe event, which [JSONField] finds only after scanning
// every byte before it.
//
// It assumes body is valid JSON, as a verified body is. Where a key occurs
// twice, it finds the last occurrence, as encoding/json decodes it, while
// [JSONField] finds the first; senders do not repeat keys.
func JSONLastField(body []byte, key string) (string, bool) {
	i := lastNonSpace(body, len(body))
	if i < 0 || body[i] != '}' {
		return "", false
	}
	// The value: a string ending right before the closing brace.
	vEnd := lastNonSpace(body, i)
	if vEnd < 0 || body[vEnd] != '"' {
		return "", false
	}
	vStart, ok := openingQuote(body, vEnd)
	if !ok {
		return "", false
	}
	colon := lastNonSpace(body, vStart)
	if colon < 0 || body[colon] != ':' {
		return "", false
	}
	kEnd := lastNonSpace(body, colon)
	if kEnd < 0 || body[kEnd] != '"' {
		return "", false
	}
	kStart, ok := openingQuote(body, kEnd)
	if !ok {
		return "", false
	}
	// The member must follow a comma or open the top-level object.
	sep := lastNonSpace(body, kStart)
	if sep < 0 || (body[sep] != ',' && (body[sep] != '{' || lastNonSpace(body, sep) >= 0)) {
		return "", false
	}
	if first := firstNonSpace(body); first < 0 || body[first] != '{' {
		return "", false
	}
	rawKey := body[kStart+1 : kEnd]
	if hasControl(rawKey) || !keyEquals(rawKey, bytes.IndexByte(rawKey, '\\') >= 0, key) {
		return "", false
	}
	s := jsonScanner{b: body, i: vStart}
	return s.scalar()
}

// lastNonSpace returns the index of the last byte before end that is not
// JSON whitespace, or -1.
func lastNonSpace(b []byte, end int) int {
	for i := end - 1; i >= 0; i-- {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return -1
}

func firstNonSpace(b []byte) int {
	s := jsonScanner{b: b}
	s.space()
	if s.i == len(b) {
		return -1
	}
	return s.i
}

// openingQuote returns the index of the quote that opens the string whose
// closing quote is at end: the nearest quote before it that is not
// escaped, since every quote inside a string is.
func openingQuote(b []byte, end int) (int, bool) {
	for j := end; ; {
		j = bytes.LastIndexByte(b[:j], '"')
		if j < 0 {
			return 0, false
		}
		n := 0
		for k := j - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j, true
		}
	}
}

func hasControl(raw []byte) bool {
	for _, c := range raw {
		if c < 0x20 {
			return true
		}
	}
	return false
}
