package verify

import "encoding/json"

// JSONField returns the value at path in a JSON object body, reading only as
// far as it must: path[0] is a key of the top-level object, path[1] a key of
// the object under it, and so on. A string value is returned unescaped; a
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
// whether it holds escapes.
func (s *jsonScanner) str() (start, end int, esc, ok bool) {
	if !s.eat('"') {
		return 0, 0, false, false
	}
	start = s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '\\':
			esc = true
			s.i += 2
		case c == '"':
			end = s.i
			s.i++
			return start, end, esc, true
		case c < 0x20:
			return 0, 0, false, false
		default:
			s.i++
		}
	}
	return 0, 0, false, false
}

// skipValue skips one value of any kind without recursion.
func (s *jsonScanner) skipValue() bool {
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			if _, _, _, ok := s.str(); !ok {
				return false
			}
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return true // end of the enclosing object: caller sees it
			}
			depth--
			s.i++
		case ',':
			if depth == 0 {
				return true
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 && s.i > 0 {
			switch s.b[s.i-1] {
			case '"', '}', ']':
				return true
			}
		}
	}
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
		if !esc {
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
		return string(s.b[start:s.i]), true
	}
	return "", false
}

func keyEquals(raw []byte, esc bool, key string) bool {
	if !esc {
		return string(raw) == key
	}
	var k string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	return json.Unmarshal(quoted, &k) == nil && k == key
}
