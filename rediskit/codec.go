package rediskit

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookguard/hookguard"
)

// Field names of a stream entry. An entry holds one event.
const (
	fVersion  = "v"
	fProvider = "provider"
	fID       = "id"
	fType     = "type"
	fTime     = "ts"       // signed timestamp, Unix nanoseconds, "" when none
	fReceived = "received" // Unix nanoseconds
	fHeader   = "header"   // JSON of the filtered headers
	fBody     = "body"     // raw bytes
	fError    = "error"    // dead letters: the last error
	fAttempts = "attempts" // dead letters: attempts made
	fSource   = "source"   // dead letters: the entry ID in the event stream
	fKeys     = "dedupe"   // JSON array of Event.DedupeKeys; absent when none
	// fKeysHere is "1" when EnqueueOnce recorded the keys in the queue's
	// own store: a dead letter then releases them itself.
	fKeysHere = "dedupe_here"
)

// fEvent holds the whole event in one value (format 2, see encode); the
// entry's other field is fID, so that XRANGE shows which event it is.
const fEvent = "e"

// eventFormat is the first byte of an fEvent value.
const eventFormat = 2

// Flags of an fEvent value.
const (
	flagTime     = 1 << iota // a signed timestamp follows
	flagHeader               // Header is not nil
	flagKeysHere             // as fKeysHere
	flagDeflate              // the body is compressed: see encodeEvent
)

// deflateMin is the smallest body encodeEvent compresses: below it, the
// bytes saved do not pay for the work.
const deflateMin = 512

var (
	deflaters = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, flate.BestSpeed) // never fails at a valid level
		return w
	}}
	inflaters = sync.Pool{New: func() any { return flate.NewReader(nil) }}
)

// deflate returns body compressed with DEFLATE at flate.BestSpeed, or nil
// when that does not save an eighth of it.
func deflate(body []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(body); err != nil {
		return nil
	}
	if err := w.Close(); err != nil || buf.Len() > len(body)-len(body)/8 {
		return nil
	}
	return buf.Bytes()
}

// inflate decompresses z, which must give exactly n bytes.
func inflate(z string, n uint64) ([]byte, bool) {
	// DEFLATE expands at most 1032 times: a larger n is a damaged value,
	// and must not allocate.
	if n > 1032*uint64(len(z))+64 {
		return nil, false
	}
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(strings.NewReader(z), nil); err != nil {
		return nil, false
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, false
	}
	var one [1]byte
	if k, err := r.Read(one[:]); k != 0 || err != io.EOF {
		return nil, false // longer than it says
	}
	return out, true
}

// errBadEntry is wrapped by the error of an entry that does not decode:
// it is dead-lettered at once.
var errBadEntry = errors.New("rediskit: stream entry is not an event written by this package")

// encode returns e as the field-value list of XADD: fID and fEvent, the
// event in one binary value (format 2). One value instead of a field per
// part costs Redis less at every step: the script's arguments, XADD,
// XREADGROUP's reply and the append-only file. decode reads both formats:
// entries written in format 1 (a field per part, [encodeFields]) before an
// upgrade stay readable.
func encode(e hookguard.Event) ([]any, error) { return encodeEvent(e, false, true), nil }

// encodeEvent is encode; here records that the event's dedupe keys are in
// the queue's own store (see fKeysHere); compress allows compressing the
// body (see [WithCompression]).
//
// The fEvent value: the format byte (2), a uvarint of flags, then
// provider, ID and type as strings, the signed timestamp (varint Unix
// nanoseconds, only with flagTime), the received time (varint Unix
// nanoseconds), the headers (with flagHeader: a uvarint count of names,
// each a string and a uvarint count of values, each a string), a uvarint
// count of dedupe keys, each a string, and the body as a string; with
// flagDeflate (a body of deflateMin bytes or more that DEFLATE shrinks by
// an eighth at least), a uvarint of the body's length and the compressed
// body as a string. A string is a uvarint length and its bytes.
//
// Compressing moves work from Redis to this process: a 1 KiB JSON body
// shrinks about threefold at flate.BestSpeed, for some 11µs of CPU here
// and 6µs in the worker, and every step in Redis that copies the body
// (the script's arguments, XADD, the append-only file, replication,
// XREADGROUP's reply) copies a third of it. Redis is the part that does
// not scale out.
func encodeEvent(e hookguard.Event, here, compress bool) []any {
	n := 32 + len(e.Provider) + len(e.ID) + len(e.Type) + len(e.Body)
	for k, vs := range e.Header {
		n += len(k) + 2*binary.MaxVarintLen16
		for _, v := range vs {
			n += len(v) + binary.MaxVarintLen16
		}
	}
	for _, k := range e.DedupeKeys {
		n += len(k) + binary.MaxVarintLen16
	}
	var z []byte
	if compress && len(e.Body) >= deflateMin {
		z = deflate(e.Body)
	}
	b := make([]byte, 0, n)
	var flags uint64
	if !e.Timestamp.IsZero() {
		flags |= flagTime
	}
	if e.Header != nil {
		flags |= flagHeader
	}
	if here {
		flags |= flagKeysHere
	}
	if z != nil {
		flags |= flagDeflate
	}
	b = append(b, eventFormat)
	b = binary.AppendUvarint(b, flags)
	b = appendString(b, e.Provider)
	b = appendString(b, e.ID)
	b = appendString(b, e.Type)
	if flags&flagTime != 0 {
		b = binary.AppendVarint(b, e.Timestamp.UnixNano())
	}
	b = binary.AppendVarint(b, e.ReceivedAt.UnixNano())
	if flags&flagHeader != 0 {
		b = binary.AppendUvarint(b, uint64(len(e.Header)))
		for k, vs := range e.Header {
			b = appendString(b, k)
			b = binary.AppendUvarint(b, uint64(len(vs)))
			for _, v := range vs {
				b = appendString(b, v)
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.DedupeKeys)))
	for _, k := range e.DedupeKeys {
		b = appendString(b, k)
	}
	if z != nil {
		b = binary.AppendUvarint(b, uint64(len(e.Body)))
		b = appendString(b, string(z))
	} else {
		b = appendString(b, string(e.Body))
	}
	return []any{fID, e.ID, fEvent, b}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// encodeFields returns e as format 1, a field per part: the format of
// dead-letter entries, which people and tools read field by field, and of
// event entries written before format 2.
func encodeFields(e hookguard.Event) ([]any, error) {
	hdr, err := json.Marshal(e.Header)
	if err != nil {
		return nil, fmt.Errorf("rediskit: encode headers: %w", err)
	}
	ts := ""
	if !e.Timestamp.IsZero() {
		ts = strconv.FormatInt(e.Timestamp.UnixNano(), 10)
	}
	vals := make([]any, 0, 18)
	vals = append(vals,
		fVersion, "1",
		fProvider, e.Provider,
		fID, e.ID,
		fType, e.Type,
		fTime, ts,
		fReceived, strconv.FormatInt(e.ReceivedAt.UnixNano(), 10),
		fHeader, hdr,
		fBody, e.Body,
	)
	if len(e.DedupeKeys) > 0 {
		keys, err := json.Marshal(e.DedupeKeys)
		if err != nil {
			return nil, fmt.Errorf("rediskit: encode dedupe keys: %w", err)
		}
		vals = append(vals, fKeys, keys)
	}
	return vals, nil
}

// decode turns a stream entry, of either format, back into the event it
// holds.
func decode(vals map[string]any) (hookguard.Event, error) {
	e, _, err := decodeEntry(vals)
	return e, err
}

// decodeEntry is decode; here reports whether the event's dedupe keys
// are in the queue's own store (fKeysHere, or flagKeysHere).
func decodeEntry(vals map[string]any) (e hookguard.Event, here bool, err error) {
	here = vals[fKeysHere] == "1"
	if v, ok := vals[fEvent]; ok {
		s, _ := v.(string)
		e, h, err := decodeEvent(s)
		return e, here || h, err
	}
	e, err = decodeFields(vals)
	return e, here, err
}

// decodeEvent reads an fEvent value.
func decodeEvent(s string) (hookguard.Event, bool, error) {
	var e hookguard.Event
	if s == "" || s[0] != eventFormat {
		return e, false, fmt.Errorf("%w: event value of unknown format", errBadEntry)
	}
	d := reader{s: s, i: 1}
	flags := d.uvarint()
	e.Provider, e.ID, e.Type = d.str(), d.str(), d.str()
	if flags&flagTime != 0 {
		e.Timestamp = time.Unix(0, d.varint()).UTC()
	}
	e.ReceivedAt = time.Unix(0, d.varint()).UTC()
	if flags&flagHeader != 0 {
		n := d.count()
		e.Header = make(http.Header, n)
		for range n {
			k := d.str()
			vs := make([]string, d.count())
			for j := range vs {
				vs[j] = d.str()
			}
			e.Header[k] = vs
		}
	}
	if n := d.count(); n > 0 {
		e.DedupeKeys = make([]string, n)
		for j := range e.DedupeKeys {
			e.DedupeKeys[j] = d.str()
		}
	}
	if flags&flagDeflate != 0 {
		n := d.uvarint()
		if z := d.str(); !d.bad {
			var ok bool
			if e.Body, ok = inflate(z, n); !ok {
				return hookguard.Event{}, false, fmt.Errorf("%w: compressed body does not decompress", errBadEntry)
			}
		}
	} else {
		e.Body = []byte(d.str())
	}
	if d.bad || d.i != len(s) {
		return hookguard.Event{}, false, fmt.Errorf("%w: event value is cut short or too long", errBadEntry)
	}
	return e, flags&flagKeysHere != 0, nil
}

// reader reads an fEvent value; bad is set at the first value that does
// not fit, and every read after it returns zero.
type reader struct {
	s   string
	i   int
	bad bool
}

func (d *reader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64 && !d.bad && d.i < len(d.s); shift += 7 {
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			if shift == 63 && c > 1 {
				break // overflows 64 bits
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
	}
	d.bad = true
	return 0
}

func (d *reader) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a count of items, each at least one byte long: a count
// larger than what is left is bad (and allocates nothing).
func (d *reader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.bad = true
		return 0
	}
	return int(n)
}

func (d *reader) str() string {
	n := d.count()
	if d.bad {
		return ""
	}
	v := d.s[d.i : d.i+n]
	d.i += n
	return v
}

// decodeFields reads an entry of format 1.
func decodeFields(vals map[string]any) (hookguard.Event, error) {
	str := func(k string) string { s, _ := vals[k].(string); return s }
	if str(fVersion) != "1" {
		return hookguard.Event{}, fmt.Errorf("%w: version %q", errBadEntry, str(fVersion))
	}
	e := hookguard.Event{Provider: str(fProvider), ID: str(fID), Type: str(fType), Body: []byte(str(fBody))}
	if ts := str(fTime); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return hookguard.Event{}, fmt.Errorf("%w: timestamp %q", errBadEntry, ts)
		}
		e.Timestamp = time.Unix(0, n).UTC()
	}
	n, err := strconv.ParseInt(str(fReceived), 10, 64)
	if err != nil {
		return hookguard.Event{}, fmt.Errorf("%w: received %q", errBadEntry, str(fReceived))
	}
	e.ReceivedAt = time.Unix(0, n).UTC()
	if h := str(fHeader); h != "" && h != "null" {
		var hdr http.Header
		if err := json.Unmarshal([]byte(h), &hdr); err != nil {
			return hookguard.Event{}, fmt.Errorf("%w: header: %v", errBadEntry, err)
		}
		e.Header = hdr
	}
	if k := str(fKeys); k != "" {
		if err := json.Unmarshal([]byte(k), &e.DedupeKeys); err != nil {
			return hookguard.Event{}, fmt.Errorf("%w: dedupe keys: %v", errBadEntry, err)
		}
	}
	return e, nil
}
