package riverkit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookguard/hookguard"
)

// Kinds of the River jobs this package inserts and works.
const (
	// EventKind is the kind of the job that holds one accepted event.
	EventKind = "hookguard.event"
	// MaintenanceKind is the kind of the periodic maintenance job.
	MaintenanceKind = "hookguard.maintenance"
)

// releasedKey is the metadata key set on a discarded event job once its
// dedupe records were released and its dead-letter hook ran.
const releasedKey = "hookguard_released"

// errBadArgs is wrapped by the error of a job whose arguments do not
// decode into an event: it is dead-lettered at once.
var errBadArgs = errors.New("riverkit: job arguments are not an event written by this package")

// eventArgs is the River job of one event. River stores it as jsonb,
// which refuses NUL and cannot hold bytes that are not UTF-8: strings
// that could carry either (ID, type, dedupe keys, all signed content
// chosen by the sender) go in the *B fields as bytes instead, so every
// event comes back exactly as it was taken in.
type eventArgs struct {
	V        int         `json:"v"`
	Provider string      `json:"provider"`
	ID       string      `json:"id,omitempty"`
	IDB      []byte      `json:"id_b,omitempty"`
	Type     string      `json:"type,omitempty"`
	TypeB    []byte      `json:"type_b,omitempty"`
	TS       int64       `json:"ts,omitempty"` // signed timestamp, Unix nanoseconds; 0 when none
	Received int64       `json:"received"`     // Unix nanoseconds
	Header   http.Header `json:"header,omitempty"`
	Body     []byte      `json:"body"`
	Keys     []string    `json:"dedupe,omitempty"`
	KeysB    [][]byte    `json:"dedupe_b,omitempty"`
	// Release is true when EnqueueOnce recorded Keys in the queue's own
	// table: a dead letter then deletes them in its transaction.
	Release bool `json:"dedupe_here,omitempty"`
}

// Kind implements river.JobArgs.
func (eventArgs) Kind() string { return EventKind }

// plain reports whether s survives jsonb unchanged.
func plain(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func encodeEvent(e hookguard.Event) eventArgs {
	a := eventArgs{V: 1, Provider: e.Provider, Received: e.ReceivedAt.UnixNano(), Header: e.Header, Body: e.Body}
	if a.Body == nil {
		a.Body = []byte{}
	}
	if plain(e.ID) {
		a.ID = e.ID
	} else {
		a.IDB = []byte(e.ID)
	}
	if plain(e.Type) {
		a.Type = e.Type
	} else {
		a.TypeB = []byte(e.Type)
	}
	if !e.Timestamp.IsZero() {
		a.TS = e.Timestamp.UnixNano()
	}
	allPlain := true
	for _, k := range e.DedupeKeys {
		allPlain = allPlain && plain(k)
	}
	if allPlain {
		a.Keys = e.DedupeKeys
	} else {
		for _, k := range e.DedupeKeys {
			a.KeysB = append(a.KeysB, []byte(k))
		}
	}
	return a
}

// event returns the event a holds.
func (a *eventArgs) event() (hookguard.Event, error) {
	if a.V != 1 {
		return hookguard.Event{}, fmt.Errorf("%w: version %d", errBadArgs, a.V)
	}
	e := hookguard.Event{
		Provider:   a.Provider,
		ID:         a.ID,
		Type:       a.Type,
		ReceivedAt: time.Unix(0, a.Received).UTC(),
		Header:     a.Header,
		Body:       a.Body,
		DedupeKeys: a.keys(),
	}
	if a.IDB != nil {
		e.ID = string(a.IDB)
	}
	if a.TypeB != nil {
		e.Type = string(a.TypeB)
	}
	if a.TS != 0 {
		e.Timestamp = time.Unix(0, a.TS).UTC()
	}
	return e, nil
}

// keys returns the event's dedupe keys.
func (a *eventArgs) keys() []string {
	if a.KeysB == nil {
		return a.Keys
	}
	ks := make([]string, len(a.KeysB))
	for i, k := range a.KeysB {
		ks[i] = string(k)
	}
	return ks
}

// maintenanceArgs is the periodic maintenance job.
type maintenanceArgs struct{}

// Kind implements river.JobArgs.
func (maintenanceArgs) Kind() string { return MaintenanceKind }
