package jsonscan

import "github.com/hookguard/hookguard/verify"

// Member names one top-level member for [Members] and receives
// what was found.
type Member struct {
	// Key is the member's name.
	Key string
	// Value is the member's value when it is a string, number, true, false
	// or null, exactly as [Field] would return it. [AppendMembers]
	// leaves it empty and sets Start and End instead.
	Value string
	// Raw is the member's value as written when it is an object or an
	// array; read inside it with Field(Raw, ...).
	Raw []byte
	// Found reports that Value (or Start and End) or Raw was set.
	Found bool
	// Start and End, set by [AppendMembers] for a scalar value, give
	// its place in the slice that AppendMembers returns:
	// buf[Start:End].
	Start, End int
}

// maxMembers bounds how many members one Members call looks for: the
// ones already met are tracked in a uint64.
const maxMembers = 64

// Members reads several members of the top-level object of body in one
// forward pass over that object, where a [Field] call per key would
// scan it once per key. For each member it sets what Field(body, Key)
// would return (Value for a scalar, Raw for an object or array); a member
// that Field would not find is left not found, and so is every member
// when body is not a well-formed JSON object (read as far as its closing
// brace).
//
// It returns a [*Error], with every member left not found, where
// [Find] would for one of the keys: a name that occurs more than
// once in the object, or only in another case ([verify.ErrAmbiguousJSON]), or a
// string value that decodes with U+FFFD replacements
// ([verify.ErrInvalidJSONString]). Key comparison does not allocate and reads a
// key only until it differs, so the pass stays linear in the body however
// its keys are escaped. Panics if ms holds more than 64 members.
func Members(body []byte, ms []Member) error {
	_, err := scanMembers(nil, body, ms, false)
	return err
}

// AppendMembers is [Members] without an allocation per value: it
// appends each scalar value found to dst, in the order of ms, and sets the
// member's Start and End to its place in the returned slice, leaving Value
// empty. When it returns an error, or finds nothing, dst is returned
// unchanged.
func AppendMembers(dst, body []byte, ms []Member) ([]byte, error) {
	return scanMembers(dst, body, ms, true)
}

func scanMembers(dst, body []byte, ms []Member, appendValues bool) ([]byte, error) {
	if len(ms) > maxMembers {
		panic("jsonscan: Members looks for at most 64 members")
	}
	for i := range ms {
		ms[i] = Member{Key: ms[i].Key}
	}
	if len(ms) == 0 {
		return dst, nil
	}
	var ascii uint64
	for i := range ms {
		if newWantedKey(ms[i].Key).ascii {
			ascii |= 1 << i
		}
	}
	// A scalar value found for member i is kept as ms[i].Start and End
	// (its span in body), cls[i] and bit i of strs until the pass ends.
	var cls [maxMembers]uint8
	var met, scalars, strs uint64
	malformed := func() ([]byte, error) {
		for i := range ms {
			ms[i] = Member{Key: ms[i].Key}
		}
		return dst, nil
	}
	// The pass keeps its place in a local, at, which the helpers take
	// and return: it stays in a register across the members.
	at := spaceAt(body, 0)
	if at >= len(body) || body[at] != '{' {
		return dst, nil
	}
	at = spaceAt(body, at+1)
	if at < len(body) && body[at] == '}' {
		return dst, nil // an empty object
	}
	for {
		if at >= len(body) || body[at] != '"' {
			return malformed()
		}
		start := at + 1
		end, kcls, ok := strEnd(body, start)
		if !ok || kcls&clsControl != 0 {
			return malformed()
		}
		at = spaceAt(body, end+1)
		if at >= len(body) || body[at] != ':' {
			return malformed()
		}
		at = spaceAt(body, at+1)
		var hit uint64
		for i := range ms {
			if kcls == 0 && ascii&(1<<i) != 0 && len(ms[i].Key) != end-start {
				// Plain ASCII names of different lengths differ, even
				// ignoring case: matchKey need not be called.
				continue
			}
			switch matchKey(body[start:end], kcls, wantedKey{ms[i].Key, ascii&(1<<i) != 0}) {
			case keyExact:
				if met&(1<<i) != 0 {
					malformed()
					return dst, &Error{Path: ms[i].Key, Err: verify.ErrAmbiguousJSON}
				}
				hit |= 1 << i
			case keyFolded:
				malformed()
				return dst, &Error{Path: ms[i].Key, Err: verify.ErrAmbiguousJSON, folded: true}
			}
		}
		switch {
		case hit == 0:
			if at, ok = skipValueAt(body, at); !ok {
				return malformed()
			}
		case at < len(body) && (body[at] == '{' || body[at] == '['):
			vStart := at
			if at, ok = skipValueAt(body, at); !ok {
				return malformed()
			}
			for i := range ms {
				if hit&(1<<i) != 0 {
					ms[i].Raw, ms[i].Found = body[vStart:at], true
				}
			}
		default:
			v, next, ok := scalarValueAt(body, at)
			if !ok {
				// A malformed value is not found, as Field would
				// not find it; the pass goes on as it would for
				// another key.
				if next, ok = skipValueAt(body, at); !ok {
					return malformed()
				}
				met |= hit
				hit = 0
			}
			at = next
			scalars |= hit
			for i := range ms {
				if hit&(1<<i) != 0 {
					ms[i].Start, ms[i].End, cls[i] = v.start, v.end, v.cls
					if v.str {
						strs |= 1 << i
					}
				}
			}
		}
		met |= hit
		at = spaceAt(body, at)
		if at < len(body) && body[at] == ',' {
			at = spaceAt(body, at+1)
			continue
		}
		if at < len(body) && body[at] == '}' {
			break
		}
		return malformed()
	}
	for i := range ms {
		// A string of class 0 (printable ASCII, no escape) is not lossy.
		if scalars&(1<<i) != 0 && cls[i] != 0 && storedValue(ms, &cls, strs, i).lossy(body) {
			malformed()
			return dst, &Error{Path: ms[i].Key, Err: verify.ErrInvalidJSONString}
		}
	}
	for i := range ms {
		if scalars&(1<<i) == 0 {
			continue
		}
		v := storedValue(ms, &cls, strs, i)
		m := &ms[i]
		m.Found = true
		if appendValues {
			m.Start = len(dst)
			dst = v.appendTo(dst, body)
			m.End = len(dst)
		} else {
			m.Value, m.Start, m.End = v.string(body), 0, 0
		}
	}
	return dst, nil
}

// storedValue returns the scalar value scanMembers found for ms[i], from
// where it keeps it until the pass ends.
func storedValue(ms []Member, cls *[maxMembers]uint8, strs uint64, i int) jsonValue {
	return jsonValue{start: ms[i].Start, end: ms[i].End, cls: cls[i], str: strs&(1<<i) != 0, ok: true}
}
