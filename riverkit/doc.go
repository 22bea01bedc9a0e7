// Package riverkit keeps hookguard's state in PostgreSQL, for receivers
// that run as several instances sharing one database.
//
// This first step provides the dedupe store and the schema:
//
//   - [Migrate] runs River's migrations and creates the table of the
//     dedupe records. It is never run on its own: call it from a deploy
//     step, before the instances start.
//   - [Store] is a [github.com/hookguard/hookguard/dedupe.Store] in that
//     table: Reserve, Commit, Release and Forget are one statement each,
//     atomic under concurrency, with expiry by the database's clock.
//     [Store.Expire] deletes expired records in bounded batches.
//
// A queue on River, with one transaction per delivery, comes next.
package riverkit
