// Package riverkit keeps hookguard's state in PostgreSQL, for receivers
// that run as several instances sharing one database: a dedupe store and
// a durable queue on River (github.com/riverqueue/river).
//
//   - [Migrate] runs River's migrations and creates the table of the
//     dedupe records. It is never run on its own: call it from a deploy
//     step (or run `hookguard migrate --postgres URL`) before the
//     instances start. [NewQueue] checks that it ran.
//   - [Store] is a [github.com/hookguard/hookguard/dedupe.Store] in that
//     table: Reserve, Commit, Release and Forget are one statement each,
//     atomic under concurrency, with expiry by the database's clock.
//   - [Queue] runs the handler in River workers. Given to a receiver with
//     its own store (hookguard.WithQueue(q), hookguard.WithStore(q.Store())),
//     it records an event's dedupe keys and inserts its River job in one
//     transaction of four round trips, and the receiver answers 200 only
//     after the commit. A duplicate costs three round trips and inserts
//     nothing. Deliveries that arrive while others are being committed
//     share the next transaction (group commit), each with its own answer.
//   - [NewTxQueue] runs a [TxHandler] inside the transaction that
//     completes the job (River's JobCompleteTx): the handler's writes in
//     the same database happen exactly once, whatever crashes when.
//
// # Retries, rescue and dead letters
//
// Each event is a River job of kind [EventKind] in the River queue
// [WithQueue] names. River retries a failed attempt after the queue's
// backoff ([WithBackoff], full jitter as in the other queues), up to
// [WithMaxAttempts]; the handler's context is cancelled at
// [WithAttemptTimeout]; a panic is a failed attempt wrapping
// hookguard.ErrHandlerPanic; a hookguard.Permanent error gives up at once.
// A process that dies leaves its jobs running; River's rescuer, on the
// leader, retries them after [WithRescueAfter] (checked every 30
// seconds), or discards them if that was their last attempt.
//
// An event given up by a worker has its job discarded and its dedupe
// records released in one transaction, and then the dead-letter hooks run
// in that process: the sender's redelivery after a fix is taken in, as
// with the in-memory and Redis queues (hookguard.WithKeepDedupeOnDeadLetter
// keeps the records). A job River discarded without the worker (the
// rescuer, after the last attempt's process died) is finished by the next
// maintenance run: a River periodic job ([WithMaintenance], every minute
// by default, on the leader) that releases such jobs' records, runs their
// dead-letter hooks, and deletes at most a bounded number of expired
// dedupe records. Discarded jobs stay in River's table (seven days by
// default) for River's UI and for replay.
//
// # River
//
// A Queue owns its River client ([Queue.Client], for riverui, JobList or
// subscriptions). [WithRiverConfig] adds to its configuration:
// rivercontrib/otelriver middleware, hooks, an error handler, retention.
// Processes that share a database should run the same queues: River's
// leader runs the periodic maintenance job of its own configuration.
package riverkit
