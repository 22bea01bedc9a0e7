package riverkit

import "errors"

// ErrNilPool is returned by [NewStore] and [Migrate] when the pool is nil:
// open one with pgxpool.New and pass it.
var ErrNilPool = errors.New("riverkit: nil *pgxpool.Pool: open one with pgxpool.New and pass it")

// ErrInvalidOption is wrapped by the error [NewStore] and [Migrate] return
// when an option was given a value it cannot use; the wrapping error
// names the option and the value and says what is allowed. Options never
// panic.
var ErrInvalidOption = errors.New("riverkit: invalid option")

// ErrInvalidLimit is returned by [Store.Expire] for a limit below 1.
var ErrInvalidLimit = errors.New("riverkit: expire limit must be at least 1: it bounds how many records one call deletes")

// ErrNotMigrated is wrapped by the error [NewQueue] returns when River's
// tables or the dedupe table are missing: run [Migrate] first.
var ErrNotMigrated = errors.New("riverkit: the database has no hookguard schema")
