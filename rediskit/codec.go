package rediskit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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

// errBadEntry is wrapped by the error of an entry that does not decode:
// it is dead-lettered at once.
var errBadEntry = errors.New("rediskit: stream entry is not an event written by this package")

// encode returns e as the field-value list of XADD.
func encode(e hookguard.Event) ([]any, error) {
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

// decode turns a stream entry back into the event it holds.
func decode(vals map[string]any) (hookguard.Event, error) {
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
