package verify

// JSONMember names one top-level member for [JSONMembers] and receives
// what was found.
type JSONMember struct {
	// Key is the member's name.
	Key string
	// Value is the member's value when it is a string, number, true, false
	// or null, exactly as [JSONField] would return it.
	Value string
	// Raw is the member's value as written when it is an object or an
	// array (to the end of body if that is truncated); read inside it with
	// JSONField(Raw, ...).
	Raw []byte
	// Found reports that Value or Raw was set.
	Found bool
}

// maxMembers bounds how many members one JSONMembers call looks for: the
// ones already met are tracked in a uint64.
const maxMembers = 64

// JSONMembers reads several members of the top-level object of body in one
// forward pass, where a [JSONField] call per key would scan the body up to
// that key once per key. For each member it sets what JSONField(body, Key)
// would return (Value for a scalar, Raw for an object or array); the first
// occurrence of a key wins, and a member that JSONField would not find is
// left not found. It stops as soon as every member was met. Panics if ms
// holds more than 64 members. Call it only on verified bodies.
func JSONMembers(body []byte, ms []JSONMember) {
	if len(ms) > maxMembers {
		panic("verify: JSONMembers looks for at most 64 members")
	}
	for i := range ms {
		ms[i].Value, ms[i].Raw, ms[i].Found = "", nil, false
	}
	if len(ms) == 0 {
		return
	}
	all := ^uint64(0) >> (maxMembers - len(ms))
	var met uint64
	s := jsonScanner{b: body}
	s.space()
	if !s.eat('{') {
		return
	}
	for {
		s.space()
		if s.eat('}') {
			return
		}
		start, end, cls, ok := s.str()
		if !ok {
			return
		}
		s.space()
		if !s.eat(':') {
			return
		}
		s.space()
		idx := -1
		for i := range ms {
			if met&(1<<i) == 0 && keyEquals(body[start:end], cls, ms[i].Key) {
				idx = i
				break
			}
		}
		if idx < 0 {
			if !s.skipValue() {
				return
			}
		} else {
			met |= 1 << idx
			m := &ms[idx]
			vStart := s.i
			if s.i < len(body) && (body[s.i] == '{' || body[s.i] == '[') {
				if !s.skipValue() {
					m.Raw, m.Found = body[vStart:], true
					return
				}
				m.Raw, m.Found = body[vStart:s.i], true
			} else {
				if v, ok := s.scalar(); ok {
					m.Value, m.Found = v, true
				}
				// Move on as a JSONField scan for a later key would:
				// skipValue may end a malformed value elsewhere than
				// scalar does.
				s.i = vStart
				if !s.skipValue() {
					return
				}
			}
			if met == all {
				return
			}
		}
		s.space()
		if !s.eat(',') {
			return
		}
	}
}
