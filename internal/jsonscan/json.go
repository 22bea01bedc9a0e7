// Package jsonscan reads the few values hookguard needs from a JSON
// body (an event's ID and type, a handshake's challenge) without
// decoding it: flat scans in constant memory and linear time, refusing
// bodies that decoders would read differently. Its errors wrap
// [verify.ErrAmbiguousJSON] and [verify.ErrInvalidJSONString], which
// users match; package verify does not import it.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hookguard/hookguard/verify"
)

// Error is the error the JSON readers return for a body they refuse.
// Its text names the member, never the body's content.
type Error struct {
	// Path is the member looked for, such as "id" or "data.object.id".
	Path string
	// Err is [verify.ErrAmbiguousJSON] or [verify.ErrInvalidJSONString].
	Err error
	// folded: verify.ErrAmbiguousJSON for a single name that matches only when
	// case is ignored, rather than for two matching names.
	folded bool
}

// Error returns "verify: " followed by [Error.Reason].
func (e *Error) Error() string { return "verify: " + e.Reason() }

// Unwrap returns [verify.ErrAmbiguousJSON] or [verify.ErrInvalidJSONString].
func (e *Error) Unwrap() error { return e.Err }

// Reason says what was wrong with the body, for a person to act on.
func (e *Error) Reason() string {
	q := `"` + e.Path + `"`
	switch {
	case e.Err == verify.ErrInvalidJSONString:
		return "the JSON value of " + q + " holds invalid UTF-8 or an escaped lone surrogate, which decoders replace with U+FFFD: refused so that different values cannot read as one"
	case e.folded:
		return "a JSON member's name matches " + q + " only when case is ignored: encoding/json would decode it as " + q + " and a map would not, so the body is refused"
	}
	return "the JSON body holds " + q + " more than once in one object (counting names that differ only in case, as encoding/json matches them): decoders disagree on its value, so the body is refused"
}

// Field returns the value at path in a JSON object body: path[0] is a
// key of the top-level object, path[1] a key of the object under it, and
// so on. A string value is returned unescaped, with invalid UTF-8 and lone
// surrogates replaced by U+FFFD as encoding/json does; a number, true,
// false or null is returned as written. It reports false when body is not
// a JSON object, the path is absent, the value is an object or array, or
// [Find] refuses the body as ambiguous: the value it returns is
// the one encoding/json decodes into a struct field tagged with the name,
// and into a map.
//
// It reads every object along path to its end (later members may repeat
// a name) and nothing else: other values are skipped with a flat scan, so
// a hostile body cannot make it use more than constant memory or stack,
// or more than linear time.
func Field(body []byte, path ...string) (string, bool) {
	v, err := lookupPath(body, path)
	if err != nil || !v.ok {
		return "", false
	}
	return v.string(body), true
}

// Find returns the value at path as [Field] does, and says
// why it has none: found is false with a nil error when the path is
// absent, the value is an object or array, or the body is not a JSON
// object; the error is a [*Error] wrapping [verify.ErrAmbiguousJSON] when an
// object along the path holds the name ambiguously, or
// [verify.ErrInvalidJSONString] when the value is a string that decodes to U+FFFD
// replacements. Use it for an event ID or type, where a silent "not found"
// would skip deduplication.
func Find(body []byte, path ...string) (value string, found bool, err error) {
	v, err := lookupPath(body, path)
	if err == nil && v.ok && v.lossy(body) {
		err = &Error{Path: strings.Join(path, "."), Err: verify.ErrInvalidJSONString}
	}
	if err != nil || !v.ok {
		return "", false, err
	}
	return v.string(body), true, nil
}

// AppendField appends to dst the value that [Field] would return
// for body and path, and reports whether it found one; when it reports
// false, dst is returned unchanged. Appending the values a caller needs
// into one buffer (on its stack while they are short) and converting that
// buffer to a string once costs one allocation for all of them, where each
// Field call allocates its own string.
func AppendField(dst, body []byte, path ...string) ([]byte, bool) {
	v, err := lookupPath(body, path)
	if err != nil || !v.ok {
		return dst, false
	}
	return v.appendTo(dst, body), true
}

// jsonValue is where a scalar value lies in a body.
type jsonValue struct {
	start, end int   // the value as written; a string's contents without quotes
	cls        uint8 // a string's classes (see classify)
	str        bool  // a string
	ok         bool  // found
}

// plain reports whether the value reads as written.
func (v jsonValue) plain(b []byte) bool {
	return !v.str || plain(b[v.start:v.end], v.cls)
}

// lossy reports whether the value is a string that decodes with U+FFFD
// replacements.
func (v jsonValue) lossy(b []byte) bool {
	if v.plain(b) {
		return false
	}
	_, lossy, _ := unescape(nil, b[v.start:v.end], false)
	return lossy
}

func (v jsonValue) appendTo(dst, b []byte) []byte {
	if v.plain(b) {
		return append(dst, b[v.start:v.end]...)
	}
	dst, _, _ = unescape(dst, b[v.start:v.end], true)
	return dst
}

func (v jsonValue) string(b []byte) string {
	if v.plain(b) {
		return string(b[v.start:v.end])
	}
	var arr [64]byte
	return string(v.appendTo(arr[:0], b))
}

// wantedKey is a name looked for, with whether it is all ASCII (which
// lets matchKey compare plain keys byte by byte).
type wantedKey struct {
	name  string
	ascii bool
}

func newWantedKey(name string) wantedKey {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return wantedKey{name, false}
		}
	}
	return wantedKey{name, true}
}

// Results of matchKey.
const (
	keyOther  = iota // another name
	keyExact         // decodes to the name
	keyFolded        // decodes to a name equal to it only ignoring case
)

// matchKey compares a key's contents raw, of classes cls, decoded as
// encoding/json decodes them, with w, under encoding/json's rule for
// struct fields: equal, or equal under Unicode simple case folding. It
// does not allocate, and reads raw only until the first difference.
func matchKey(raw []byte, cls uint8, w wantedKey) int {
	if cls == 0 && w.ascii {
		// Both plain ASCII: a match has the same length.
		if len(raw) != len(w.name) {
			return keyOther
		}
		if string(raw) == w.name {
			return keyExact
		}
		for i := 0; i < len(raw); i++ {
			if lowerASCII(raw[i]) != lowerASCII(w.name[i]) {
				return keyOther
			}
		}
		// Equal ignoring ASCII case; the letters k and s also fold with
		// non-ASCII runes, but raw and name are both ASCII here.
		return keyFolded
	}
	return matchKeySlow(raw, w.name)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// matchKeySlow is matchKey for a key with escapes or non-ASCII bytes, or a
// name with non-ASCII runes: it decodes the key one rune at a time. Case
// folding maps one rune to one rune, so the key and the name must have as
// many runes; a difference stops it.
func matchKeySlow(raw []byte, name string) int {
	exact := true
	j := 0
	for i := 0; i < len(raw); {
		if j >= len(name) {
			return keyOther
		}
		r, n, _ := decodeRune(raw, i)
		if n == 0 {
			return keyOther // a bad escape: not valid JSON
		}
		i += n
		wr, wn := utf8.DecodeRuneInString(name[j:])
		j += wn
		if r == wr && (wr != utf8.RuneError || wn > 1) {
			continue
		}
		exact = false
		if foldRune(r) != foldRune(wr) {
			return keyOther
		}
	}
	switch {
	case j != len(name):
		return keyOther
	case exact:
		return keyExact
	}
	return keyFolded
}

// foldRune returns the smallest rune of r's simple case folding orbit, as
// encoding/json folds names: two runes match when they fold alike.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf && r != 'k' && r != 'K' && r != 's' && r != 'S' {
		// ASCII letters other than k and s fold only with their other
		// case; the orbit's smallest rune is the upper case.
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// decodeRune decodes the rune of a string's contents raw at i as
// encoding/json does, and returns it, how many bytes it took, and whether
// it is a replacement for invalid UTF-8 or a lone surrogate. It returns
// n == 0 for a malformed escape.
func decodeRune(raw []byte, i int) (r rune, n int, lossy bool) {
	c := raw[i]
	if c < utf8.RuneSelf && c != '\\' {
		return rune(c), 1, false
	}
	if c != '\\' {
		r, n := utf8.DecodeRune(raw[i:])
		return r, n, r == utf8.RuneError && n == 1
	}
	if i+1 >= len(raw) {
		return 0, 0, false
	}
	switch raw[i+1] {
	case '"', '\\', '/':
		return rune(raw[i+1]), 2, false
	case 'b':
		return '\b', 2, false
	case 'f':
		return '\f', 2, false
	case 'n':
		return '\n', 2, false
	case 'r':
		return '\r', 2, false
	case 't':
		return '\t', 2, false
	case 'u':
		r := hex4(raw, i)
		if r < 0 {
			return 0, 0, false
		}
		if !utf16.IsSurrogate(r) {
			return r, 6, false
		}
		if r2 := hex4(raw, i+6); r2 >= 0 {
			if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
				return d, 12, false
			}
		}
		return unicode.ReplacementChar, 6, true
	}
	return 0, 0, false
}

// hex4 returns the rune of the escape \uXXXX at raw[i:], or -1.
func hex4(raw []byte, i int) rune {
	if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range raw[i+2 : i+6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape decodes a string's contents raw as encoding/json does,
// appending the result to dst when write is set, and reports whether it
// replaced invalid UTF-8 or a lone surrogate with U+FFFD, and whether raw
// was well formed.
func unescape(dst, raw []byte, write bool) (out []byte, lossy, ok bool) {
	for i := 0; i < len(raw); {
		if c := raw[i]; c < utf8.RuneSelf && c != '\\' {
			if write {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n, l := decodeRune(raw, i)
		if n == 0 {
			return dst, lossy, false
		}
		lossy = lossy || l
		if write {
			dst = utf8.AppendRune(dst, r)
		}
		i += n
	}
	return dst, lossy, true
}

// lookupPath finds the value at path in body in one forward pass (see
// Find). It reads each object along path to its end, to refuse a
// name that occurs twice: descending into the member that matches at one
// level, then going on with the members after it once that object closes,
// so that every byte is read once however long path is.
func lookupPath(body []byte, path []string) (jsonValue, error) {
	var none, v jsonValue
	if len(path) == 0 {
		return none, nil
	}
	s := jsonScanner{b: body}
	s.space()
	if !s.eat('{') {
		return none, nil
	}
	last := len(path) - 1
	level := 0
	w := newWantedKey(path[0])
	seen := false // a member matched path[level] in the object open at level
	first := true // no member read yet in that object
	for {
		s.space()
		if !first || !s.eat('}') {
			start, end, cls, ok := s.str()
			if !ok {
				return none, nil
			}
			s.space()
			if !s.eat(':') {
				return none, nil
			}
			s.space()
			switch matchKey(body[start:end], cls, w) {
			case keyFolded:
				return none, &Error{Path: strings.Join(path[:level+1], "."), Err: verify.ErrAmbiguousJSON, folded: true}
			case keyExact:
				if seen {
					return none, &Error{Path: strings.Join(path[:level+1], "."), Err: verify.ErrAmbiguousJSON}
				}
				seen = true
				if level < last {
					if s.eat('{') {
						level++
						w, seen, first = newWantedKey(path[level]), false, true
						continue
					}
					if !s.skipValue() {
						return none, nil
					}
					break
				}
				if s.i < len(body) && (body[s.i] == '{' || body[s.i] == '[') {
					if !s.skipValue() {
						return none, nil
					}
					break
				}
				var ok bool
				if v, ok = s.scalarValue(); !ok {
					return none, nil
				}
			default:
				if !s.skipValue() {
					return none, nil
				}
			}
			s.space()
			if s.eat(',') {
				first = false
				continue
			}
			if !s.eat('}') {
				return none, nil
			}
		}
		// The object open at level closed: go on in its parent, whose
		// member matched (that is how this object was entered).
		for {
			if level == 0 {
				return v, nil
			}
			level--
			w, seen = newWantedKey(path[level]), true
			s.space()
			if s.eat(',') {
				first = false
				break
			}
			if !s.eat('}') {
				return none, nil
			}
		}
	}
}

type jsonScanner struct {
	b []byte
	i int
}

// spaceAt returns the index of the first byte at or after i in b that is
// not JSON whitespace, or len(b).
func spaceAt(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
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
// stringEnd followed by a second pass to classify. It steps over eight
// bytes at a time while they are printable ASCII other than a quote or
// a backslash (class 0), with the zero-byte tests of skipFlags, and reads
// the others one at a time. A backslash escapes the byte after it, which
// cannot end the string.
func strEnd(b []byte, from int) (end int, cls uint8, ok bool) {
	for i := from; i < len(b); i++ {
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i : i+8])
			lows := x & swarLows
			// Bit 7 clear for a quote, a backslash and a control
			// character (lows + 0x60 < 0x80) in the low seven bits.
			plain := ((lows ^ swarQuotes) + swarLows) & ((lows ^ swarBacks) + swarLows) & (lows + swarOnes*0x60)
			m := (^plain | x) & swarHighs
			if m == 0 {
				i += 7
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
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

// Constants of the SWAR (SIMD within a register) search of stringEnd.
const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// stringEnd returns the index of the quote that ends the string whose
// contents start at from. It reads eight bytes at a time, looking for a
// quote or a backslash in each word with a few arithmetic operations: a
// long string value of the top-level object costs about an eighth of a
// byte-by-byte scan, without the call into bytes.IndexByte that a short
// string does not repay (strings inside a nested value are skipped by
// skipNested). A backslash escapes the byte after it, which is stepped
// over, so the scan is linear.
func stringEnd(b []byte, from int) (int, bool) {
	i := from
	for {
		for ; i+8 <= len(b); i += 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (swarOnes * '"')
			e := x ^ (swarOnes * '\\')
			// The lowest flagged byte of (v-ones)&^v&highs is the
			// lowest zero byte of v; flags above it may be false, but
			// only the lowest is used.
			if m := ((q-swarOnes)&^q | (e-swarOnes)&^e) & swarHighs; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
		}
		for ; i < len(b) && b[i] != '"' && b[i] != '\\'; i++ {
		}
		switch {
		case i >= len(b):
			return 0, false
		case b[i] == '"':
			return i, true
		}
		i += 2 // a backslash and the byte it escapes
	}
}

// structural marks the bytes skipValue must look at at depth 0; it steps
// over all others in a tight loop.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true}

// skipValue skips one value of any kind without recursion. Strings inside
// skipped values are not checked for control characters: the body was
// verified, and only the returned value must be well formed.
func (s *jsonScanner) skipValue() bool {
	i, ok := skipValueAt(s.b, s.i)
	s.i = i
	return ok
}

// skipValueAt is skipValue from b[i]: it returns where the value ends. It
// takes and returns the index, rather than moving a scanner's, so that a
// caller's loop keeps it in a register.
func skipValueAt(b []byte, i int) (int, bool) {
	start := i
	for i < len(b) {
		c := b[i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			q, ok := stringEnd(b, i+1)
			if !ok {
				return start, false
			}
			return q + 1, true
		case '{', '[':
			return skipNested(b, i+1)
		}
		// '}', ']' or ',': the end of the enclosing object, which the
		// caller sees; an empty value is an error.
		return i, i > start
	}
	return i, true
}

// Constants of the SWAR scan of skipNested, one per byte of a word.
const (
	swarLows   = 0x7f7f7f7f7f7f7f7f
	swarQuotes = swarOnes * '"'
	swarBacks  = swarOnes * '\\'
)

// skipNested returns the index just past the bracket that closes the
// object or array whose contents start at from (just past its opening
// bracket), or the length of b and false when b ends first. It counts
// brackets of either kind outside strings, as skipValue did one byte at a
// time, and skips strings as stringEnd does: a backslash inside a string
// escapes the byte after it. Commas, colons and everything else are not
// looked at, and nothing is validated.
//
// It reads 64 bytes per step (see skipBlock) without a branch that
// depends on the bytes, in the common case: no non-ASCII byte, no
// backslash, and fewer closing brackets than the depth. The last bytes
// are read eight at a time (see skipWords), and a word that holds a
// backslash one byte at a time.
func skipNested(b []byte, from int) (int, bool) {
	i, depth := from, 1
	var inStr, esc uint64 // all ones inside a string; 1 when b[i] is escaped
	for i+64 <= len(b) {
		if d, s, e, k, ok := skipBlock(b[i:i+64], depth, inStr, esc); ok {
			if k >= 0 {
				return i + k + 1, true
			}
			depth, inStr, esc = d, s, e
			i += 64
			continue
		}
		// A backslash outside strings (not valid JSON): read the block a
		// word at a time.
		i += int(esc) // the escaped byte is inside a string
		esc = 0
		var done bool
		if i, depth, inStr, done = skipWords(b, i, i+64, depth, inStr); done {
			return i, true
		}
	}
	i += int(esc)
	i, _, _, done := skipWords(b, i, len(b), depth, inStr)
	if done {
		return i, true
	}
	return len(b), false
}

// skipFlags returns, at bit 7 of each byte of the word x, whether the
// byte is not a quote, not a backslash, not '{' or '[', and not '}' or
// ']'; only bit 7 of each byte of nbs is meaningful. Each is a zero-byte
// test (SWAR, SIMD within a register): with lows = x & 0x7f..7f,
// (lows ^ want) + 0x7f..7f sets a byte's bit 7 unless its low seven bits
// equal want's, without a carry into the next byte, and ORing x sets it
// for a non-ASCII byte. OR-ing 0x20 maps '[' and ']' to '{' and '}' and
// no other byte to them.
func skipFlags(x uint64) (nq, nbs, no, nc uint64) {
	lows := x & swarLows
	y := lows | swarOnes*0x20 // '[' and ']' read as '{' and '}'
	nq = ((lows ^ swarQuotes) + swarLows | x) & swarHighs
	nbs = (lows ^ swarBacks) + swarLows | x
	no = ((y ^ (swarOnes * '{')) + swarLows | x) & swarHighs
	nc = ((y ^ (swarOnes * '}')) + swarLows | x) & swarHighs
	return
}

// skipFlagsASCII is skipFlags for a word of ASCII bytes (high bits
// clear), which needs no masking; for a word with a non-ASCII byte, its
// flags are wrong.
func skipFlagsASCII(x uint64) (nq, nbs, no, nc uint64) {
	y := x | swarOnes*0x20
	nq = (x ^ swarQuotes + swarLows) & swarHighs
	nbs = x ^ swarBacks + swarLows
	no = (y ^ (swarOnes * '{') + swarLows) & swarHighs
	nc = (y ^ (swarOnes * '}') + swarLows) & swarHighs
	return
}

// blockFlags gathers the flags of skipFlagsASCII for the eight words of
// blk in the transposed layout of skipBlock, and ORs the words together:
// where hi has a high bit set, blk holds a non-ASCII byte and the flags
// are wrong.
func blockFlags(blk []byte) (nq, nbs, no, nc, hi uint64) {
	blk = blk[:64]
	x := binary.LittleEndian.Uint64(blk[0:8])
	q, bs, o, c := skipFlagsASCII(x)
	nq, nbs, no, nc, hi = q>>7, bs, o>>7, c>>7, x
	x = binary.LittleEndian.Uint64(blk[8:16])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q>>6, nbs&bs, no|o>>6, nc|c>>6, hi|x
	x = binary.LittleEndian.Uint64(blk[16:24])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q>>5, nbs&bs, no|o>>5, nc|c>>5, hi|x
	x = binary.LittleEndian.Uint64(blk[24:32])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q>>4, nbs&bs, no|o>>4, nc|c>>4, hi|x
	x = binary.LittleEndian.Uint64(blk[32:40])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q>>3, nbs&bs, no|o>>3, nc|c>>3, hi|x
	x = binary.LittleEndian.Uint64(blk[40:48])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q>>2, nbs&bs, no|o>>2, nc|c>>2, hi|x
	x = binary.LittleEndian.Uint64(blk[48:56])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q>>1, nbs&bs, no|o>>1, nc|c>>1, hi|x
	x = binary.LittleEndian.Uint64(blk[56:64])
	q, bs, o, c = skipFlagsASCII(x)
	nq, nbs, no, nc, hi = nq|q, nbs&bs, no|o, nc|c, hi|x
	return
}

// blockFlagsFull is blockFlags for a block that holds non-ASCII bytes.
func blockFlagsFull(blk []byte) (nq, nbs, no, nc uint64) {
	blk = blk[:64]
	q, bs, o, c := skipFlags(binary.LittleEndian.Uint64(blk[0:8]))
	nq, nbs, no, nc = q>>7, bs, o>>7, c>>7
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[8:16]))
	nq, nbs, no, nc = nq|q>>6, nbs&bs, no|o>>6, nc|c>>6
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[16:24]))
	nq, nbs, no, nc = nq|q>>5, nbs&bs, no|o>>5, nc|c>>5
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[24:32]))
	nq, nbs, no, nc = nq|q>>4, nbs&bs, no|o>>4, nc|c>>4
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[32:40]))
	nq, nbs, no, nc = nq|q>>3, nbs&bs, no|o>>3, nc|c>>3
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[40:48]))
	nq, nbs, no, nc = nq|q>>2, nbs&bs, no|o>>2, nc|c>>2
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[48:56]))
	nq, nbs, no, nc = nq|q>>1, nbs&bs, no|o>>1, nc|c>>1
	q, bs, o, c = skipFlags(binary.LittleEndian.Uint64(blk[56:64]))
	nq, nbs, no, nc = nq|q, nbs&bs, no|o, nc|c
	return
}

// skipBlock is skipNested over the 64 bytes of blk, from depth and the
// string state inStr (all ones inside a string), with esc 1 when the
// first byte is escaped. It returns the depth, string state and escape
// after the block and k = -1, or k, the index in blk of the bracket that
// brings the depth to zero; or false when a backslash lies outside
// strings, where it escapes nothing and the escapes it computed are
// wrong.
//
// It gathers the flags of skipFlags for the eight words of blk in a
// transposed layout: bit j of byte k of a mask stands for the byte at
// 8*j+k, so that building a mask takes a shift and an OR per word, and
// shifts by 8, 16 and 32 give for all eight words at once the parity of
// the quotes up to each byte. The parity of each word's quotes, XORed
// over the words before it and the state carried in, completes it: a
// byte is inside a string (or the quote that opens one) when the parity
// is odd. The depth then changes by the number of opening minus closing
// brackets outside strings, counted with two popcounts; only when the
// closing ones could bring it to zero are they walked in order.
func skipBlock(blk []byte, depth int, inStr, esc uint64) (int, uint64, uint64, int, bool) {
	nq, nbs, no, nc, hi := blockFlags(blk)
	if hi&swarHighs != 0 {
		nq, nbs, no, nc = blockFlagsFull(blk)
	}
	quotes := ^nq
	var backs uint64
	if nbs&swarHighs != swarHighs || esc != 0 {
		backs = blockBackslashes(blk)
		// A backslash escapes the byte after it unless it is escaped
		// itself: iterate to the fixed point, one more byte of each run
		// of backslashes per round (at most 64 rounds).
		escaped := esc
		for {
			e := nextByte(backs&^escaped) | esc
			if e == escaped {
				break
			}
			escaped = e
		}
		quotes &^= escaped
		esc = backs &^ escaped >> 63 // an escape of the next block's first byte
	}
	// Within each word (bit j), the parity of the quotes up to each byte;
	// then before each word, that of the words before it and of the
	// string state carried in.
	p := quotes
	p ^= p << 8
	p ^= p << 16
	p ^= p << 32
	w := p >> 56
	w ^= w << 1
	w ^= w << 2
	w ^= w << 4
	in := p ^ (w<<1^inStr)&0xff*swarOnes
	if backs&^in != 0 {
		// A backslash outside strings escapes nothing, and so its
		// escapes above were wrong.
		return 0, 0, 0, -1, false
	}
	opens, closes := ^(no | in), ^(nc | in)
	inStr ^= -(w >> 7 & 1)
	if n := bits.OnesCount64(closes); n < depth {
		return depth + bits.OnesCount64(opens) - n, inStr, esc, -1, true
	}
	// The depth may reach zero in the block: walk its brackets in order.
	depth, k := walkBrackets(transpose8(opens), transpose8(closes), depth)
	if depth == 0 {
		return 0, 0, 0, k, true
	}
	return depth, inStr, esc, -1, true
}

// transpose8 transposes the 8x8 bit matrix m, moving bit 8*j+k to bit
// 8*k+j: it turns a mask in the transposed layout of skipBlock into one
// whose bit i flags byte i (Hacker's Delight, 7-3).
func transpose8(m uint64) uint64 {
	t := (m ^ m>>7) & 0x00aa00aa00aa00aa
	m ^= t ^ t<<7
	t = (m ^ m>>14) & 0x0000cccc0000cccc
	m ^= t ^ t<<14
	t = (m ^ m>>28) & 0x00000000f0f0f0f0
	return m ^ t ^ t<<28
}

// blockBackslashes returns the backslashes of the 64 bytes of blk in the
// transposed layout of skipBlock.
func blockBackslashes(blk []byte) uint64 {
	var m uint64
	for j := range 8 {
		x := binary.LittleEndian.Uint64(blk[8*j:])
		nbs := ((x & swarLows) ^ swarBacks + swarLows | x) & swarHighs
		m |= ^nbs & swarHighs >> (7 - j)
	}
	return m
}

// nextByte moves each flag of a mask in the transposed layout of
// skipBlock to the byte after it; the last byte's flag is dropped.
func nextByte(m uint64) uint64 {
	return m<<8 | (m>>56)<<1&0xff
}

// skipWords is skipNested from i, at depth and in the string state
// inStr, until it has read past end, a word at a time with the tests of
// skipFlags (a word with a backslash one byte at a time): it returns where
// it stopped with the depth and string state there, or true with the
// index past the bracket that closed the value. A word's quote flags
// times 0x0101..01 hold at bit 7 of each byte the parity of the quotes up
// to it, since no carry reaches a bit 7.
func skipWords(b []byte, i, end, depth int, inStr uint64) (int, int, uint64, bool) {
	for i < end {
		if i+8 > len(b) {
			return skipNestedBytes(b, i, end, depth, inStr)
		}
		x := binary.LittleEndian.Uint64(b[i : i+8])
		lows := x & swarLows
		if ((lows^swarBacks)+swarLows|x)&swarHighs != swarHighs {
			// A backslash: read this word one byte at a time.
			var done bool
			if i, depth, inStr, done = skipNestedBytes(b, i, i+8, depth, inStr); done {
				return i, 0, 0, true
			}
			continue
		}
		// Bit 7 of each byte: the parity of the quotes up to it; then
		// set inside a string, or on the quote that opens it.
		p := ^((lows ^ swarQuotes) + swarLows | x) & swarHighs * swarOnes
		in := p ^ inStr
		inStr ^= uint64(int64(p) >> 63)
		y := lows | swarOnes*0x20
		in |= x
		opens := ^((y ^ (swarOnes * '{')) + swarLows | in) & swarHighs
		closes := ^((y ^ (swarOnes * '}')) + swarLows | in) & swarHighs
		var k int
		if depth, k = walkBrackets(opens, closes, depth); depth == 0 {
			return i + k>>3 + 1, 0, 0, true
		}
		i += 8
	}
	return i, depth, inStr, false
}

// walkBrackets applies to depth the brackets that opens and closes flag,
// in the order of their bits, and returns the depth after them, or 0 and
// the index of the bit of the bracket that brought it to zero.
func walkBrackets(opens, closes uint64, depth int) (int, int) {
	for m := opens | closes; m != 0; m &= m - 1 {
		if opens&(m&-m) != 0 {
			depth++
			continue
		}
		if depth--; depth == 0 {
			return 0, bits.TrailingZeros64(m)
		}
	}
	return depth, 0
}

// skipNestedBytes is skipNested one byte at a time, from i until it has
// read past end: it returns where it stopped, the depth and whether it is
// inside a string there, and true with the index past the closing bracket
// if the depth reached zero.
func skipNestedBytes(b []byte, i, end, depth int, inStr uint64) (int, int, uint64, bool) {
	for i < end && i < len(b) {
		c := b[i]
		i++
		if inStr != 0 {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inStr = 0
			}
			continue
		}
		switch c {
		case '"':
			inStr = ^uint64(0)
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i, 0, 0, true
			}
		}
	}
	return i, depth, inStr, false
}

// scalarValue finds the string, number or literal at s.i and moves past
// it. A string must be well formed: no raw control characters, no bad
// escapes.
func (s *jsonScanner) scalarValue() (jsonValue, bool) {
	v, i, ok := scalarValueAt(s.b, s.i)
	if ok {
		s.i = i
	}
	return v, ok
}

// scalarValueAt is scalarValue from b[i]: it returns the value and the
// index past it (see skipValueAt).
func scalarValueAt(b []byte, i int) (jsonValue, int, bool) {
	if i >= len(b) {
		return jsonValue{}, i, false
	}
	switch c := b[i]; {
	case c == '"':
		start := i + 1
		end, cls, ok := strEnd(b, start)
		if !ok || cls&clsControl != 0 {
			return jsonValue{}, i, false
		}
		if cls&clsEscape != 0 {
			if _, _, ok := unescape(nil, b[start:end], false); !ok {
				return jsonValue{}, i, false
			}
		}
		return jsonValue{start: start, end: end, cls: cls, str: true, ok: true}, end + 1, true
	case c == '-' || c == 't' || c == 'f' || c == 'n' || ('0' <= c && c <= '9'):
		start := i
		for i < len(b) {
			switch c := b[i]; {
			case c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
				return jsonValue{start: start, end: i, ok: true}, i, true
			case !scalarByte[c]:
				return jsonValue{}, i, false // a quote, a colon...: malformed
			}
			i++
		}
		return jsonValue{}, i, false // truncated: an object cannot end here
	}
	return jsonValue{}, i, false
}

// scalarByte marks the bytes of numbers and of true, false and null.
var scalarByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789+-.eEtruefalsn") {
		t[c] = true
	}
	return t
}()

// plain reports whether a string's contents of classes cls are its value
// as written: no escapes, valid UTF-8.
func plain(raw []byte, cls uint8) bool {
	return cls&clsEscape == 0 && (cls&clsNonASCII == 0 || utf8.Valid(raw))
}

// LastField returns the value of key when it is the last member of the
// top-level object of body and its value is a string (unescaped as
// [Field] does); otherwise it reports false. It reads the body
// backwards from its end, so its cost does not grow with the body: use it
// before [Field] for a field that a sender writes last, such as the
// "type" of a Stripe event, which [Field] finds only after scanning
// every byte before it.
//
// It assumes body is valid JSON, as a verified body is. It does not see
// earlier members: where the name occurs more than once, it returns the
// last occurrence, which is what encoding/json decodes into a struct field
// and into a map alike (the last member matching the name ignoring case
// is the one named exactly), but it does not refuse the body as
// [Find] does. Use Find or [Members] where a value
// other decoders might read differently must be refused, as for an event
// ID.
func LastField(body []byte, key string) (string, bool) {
	v, ok := seekLastField(body, key)
	if !ok {
		return "", false
	}
	return v.string(body), true
}

// AppendLastField appends to dst the value that [LastField] would
// return for body and key, and reports whether it found one; when it
// reports false, dst is returned unchanged. See [AppendField].
func AppendLastField(dst, body []byte, key string) ([]byte, bool) {
	v, ok := seekLastField(body, key)
	if !ok {
		return dst, false
	}
	return v.appendTo(dst, body), true
}

// seekLastField returns the string value of key when it is the last
// member of body's top-level object (see LastField), or false.
func seekLastField(body []byte, key string) (jsonValue, bool) {
	var none jsonValue
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
	if cls := classify(rawKey); cls&clsControl != 0 || matchKey(rawKey, cls, newWantedKey(key)) != keyExact {
		return none, false
	}
	s := jsonScanner{b: body, i: vStart}
	return s.scalarValue()
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
