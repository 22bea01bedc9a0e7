package riverkit

import (
	"github.com/riverqueue/river"

	"github.com/hookguard/hookguard"
)

// EventJobArgs returns the River job arguments that [Queue.Enqueue]
// inserts for e. The crash tests insert their events with an insert-only
// River client, so that no worker runs in the process that inserts them.
func EventJobArgs(e hookguard.Event) river.JobArgs { return encodeEvent(e) }
