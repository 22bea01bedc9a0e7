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
	s, ok := seekField(body, path)
	if !ok {
		return "", false
	}
	return s.scalar()
}

// AppendJSONField appends to dst the value that [JSONField] would return
// for body and path, and reports whether it found one; when it reports
// false, dst is returned unchanged. Appending the values a caller needs
// into one buffer (on its stack while they are short) and converting that
// buffer to a string once costs one allocation for all of them, where each
// JSONField call allocates its own string.
func AppendJSONField(dst, body []byte, path ...string) ([]byte, bool) {
	s, ok := seekField(body, path)
	if !ok {
		return dst, false
	}
	return s.appendScalar(dst)
}

// seekField returns a scanner at the value of path in body (see
// JSONField), or false.
func seekField(body []byte, path []string) (jsonScanner, bool) {
	if len(path) == 0 {
		return jsonScanner{}, false
	}
	s := jsonScanner{b: body}
	for depth, key := range path {
		s.space()
		if !s.eat('{') {
			return s, false
		}
		found := false
		for !found {
			s.space()
			if s.eat('}') {
				return s, false
			}
			start, end, cls, ok := s.str()
			if !ok {
				return s, false
			}
			s.space()
			if !s.eat(':') {
				return s, false
			}
			s.space()
			if keyEquals(body[start:end], cls, key) {
				found = true
				break
			}
			if !s.skipValue() {
				return s, false
			}
			s.space()
			if !s.eat(',') {
				return s, false // '}' or garbage: key absent
			}
		}
		if depth < len(path)-1 {
			continue // the value must be an object: the loop eats its '{'
		}
		return s, true
	}
	return s, false
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
// their classes (see classify). A raw control character makes it
// malformed.
func (s *jsonScanner) str() (start, end int, cls uint8, ok bool) {
	if !s.eat('"') {
		return 0, 0, 0, false
	}
	start = s.i
	end, cls, ok = strEnd(s.b, start)
	if !ok || cls&clsControl != 0 {
		return 0, 0, 0, false
	}
	s.i = end + 1
	return start, end, cls, true
}

// Classes of the bytes of a string's contents, gathered by classify.
const (
	clsControl  uint8 = 1 << iota // below 0x20: malformed inside a string
	clsEscape                     // a backslash: escapes to decode
	clsNonASCII                   // 0x80 and above: UTF-8 to validate
)

// strClass maps each byte to its class.
var strClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c < 0x20:
			t[c] = clsControl
		case c == '\\':
			t[c] = clsEscape
		case c >= 0x80:
			t[c] = clsNonASCII
		}
	}
	return t
}()

// classify returns the classes of the bytes of raw. One table lookup and
// OR per byte replaces a loop for control characters plus a search for a
// backslash and a utf8.Valid call, which an ASCII string (every ID and
// type in practice) does not need.
func classify(raw []byte) (cls uint8) {
	for _, c := range raw {
		cls |= strClass[c]
	}
	return cls
}

// strEnd returns the index of the quote that ends the string whose
// contents start at from, and the classes of the contents' bytes (see
// classify), in one pass. The strings str reads are keys and the values a
// caller asked for, a few dozen bytes: one loop costs less there than
// closingQuote's call into bytes.IndexByte followed by a second pass to
// classify. A backslash escapes the byte after it, which cannot end the
// string.
func strEnd(b []byte, from int) (end int, cls uint8, ok bool) {
	for i := from; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			return i, cls, true
		}
		cls |= strClass[c]
		if c == '\\' && i+1 < len(b) {
			i++
			cls |= strClass[b[i]]
		}
	}
	return 0, 0, false
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
	start, end, unq, ok := s.scalarSpan()
	switch {
	case !ok:
		return "", false
	case unq:
		return unquote(s.b[start-1 : end+1])
	}
	return string(s.b[start:end]), true
}

// appendScalar appends the value scalar would return to dst; it returns
// dst unchanged when there is none.
func (s *jsonScanner) appendScalar(dst []byte) ([]byte, bool) {
	start, end, unq, ok := s.scalarSpan()
	switch {
	case !ok:
		return dst, false
	case unq:
		v, ok := unquote(s.b[start-1 : end+1])
		if !ok {
			return dst, false
		}
		return append(dst, v...), true
	}
	return append(dst, s.b[start:end]...), true
}

// scalarSpan finds the string, number or literal at s.i and moves past
// it. Its value is s.b[start:end] as written (a string's contents without
// the quotes), unless unq is set: then it is a string whose escapes must
// be decoded, or whose invalid UTF-8 must be replaced with U+FFFD exactly
// as encoding/json does for the handler, by unquote(s.b[start-1:end+1]).
func (s *jsonScanner) scalarSpan() (start, end int, unq, ok bool) {
	if s.i >= len(s.b) {
		return 0, 0, false, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		start, end, cls, ok := s.str()
		if !ok {
			return 0, 0, false, false
		}
		return start, end, !plain(s.b[start:end], cls), true
	case c == '-' || c == 't' || c == 'f' || c == 'n' || ('0' <= c && c <= '9'):
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return start, s.i, false, true
			}
			s.i++
		}
		return 0, 0, false, false // truncated: an object cannot end here
	}
	return 0, 0, false, false
}

// unquote decodes a quoted JSON string with encoding/json (the slow path,
// for escapes and invalid UTF-8).
func unquote(quoted []byte) (string, bool) {
	var out string
	if json.Unmarshal(quoted, &out) != nil {
		return "", false
	}
	return out, true
}

// plain reports whether a string's contents of classes cls are its value
// as written: no escapes, valid UTF-8.
func plain(raw []byte, cls uint8) bool {
	return cls&clsEscape == 0 && (cls&clsNonASCII == 0 || utf8.Valid(raw))
}

// keyEquals reports whether a key's contents raw, of classes cls, decode
// to key.
func keyEquals(raw []byte, cls uint8, key string) bool {
	if plain(raw, cls) {
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
	s, ok := seekLastField(body, key)
	if !ok {
		return "", false
	}
	return s.scalar()
}

// AppendJSONLastField appends to dst the value that [JSONLastField] would
// return for body and key, and reports whether it found one; when it
// reports false, dst is returned unchanged. See [AppendJSONField].
func AppendJSONLastField(dst, body []byte, key string) ([]byte, bool) {
	s, ok := seekLastField(body, key)
	if !ok {
		return dst, false
	}
	return s.appendScalar(dst)
}

// seekLastField returns a scanner at the string value of key when it is
// the last member of body's top-level object (see JSONLastField), or false.
func seekLastField(body []byte, key string) (jsonScanner, bool) {
	var none jsonScanner
	i := lastNonSpace(body, len(body))
	if i < 0 || body[i] != '}' {
		return none, false
	}
	// The value: a string ending right before the closing brace.
	vEnd := lastNonSpace(body, i)
	if vEnd < 0 || body[vEnd] != '"' {
		return none, false
	}
	vStart, ok := openingQuote(body, vEnd)
	if !ok {
		return none, false
	}
	colon := lastNonSpace(body, vStart)
	if colon < 0 || body[colon] != ':' {
		return none, false
	}
	kEnd := lastNonSpace(body, colon)
	if kEnd < 0 || body[kEnd] != '"' {
		return none, false
	}
	kStart, ok := openingQuote(body, kEnd)
	if !ok {
		return none, false
	}
	// The member must follow a comma or open the top-level object.
	sep := lastNonSpace(body, kStart)
	if sep < 0 || (body[sep] != ',' && (body[sep] != '{' || lastNonSpace(body, sep) >= 0)) {
		return none, false
	}
	if first := firstNonSpace(body); first < 0 || body[first] != '{' {
		return none, false
	}
	rawKey := body[kStart+1 : kEnd]
	if cls := classify(rawKey); cls&clsControl != 0 || !keyEquals(rawKey, cls, key) {
		return none, false
	}
	return jsonScanner{b: body, i: vStart}, true
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
