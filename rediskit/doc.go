// Package rediskit runs hookguard on several instances: a Redis dedupe
// [Store] and a durable [Queue] on a Redis stream, through
// github.com/redis/go-redis/v9.
//
// # Wiring
//
// Give a receiver the queue and the queue's store; it then reserves the
// event's IDs and stores the event in one Lua script, so no ID is ever
// recorded without its event. A delivery costs at most one round trip
// (on a sharded queue, see [WithShards] for when it costs three):
// the scripts of deliveries that arrive while others are in flight go
// together in one pipeline, each answered with its own reply.
//
//	q, err := rediskit.NewQueue(ctx, rdb, handler)
//	r, err := hookguard.New(preset, nil, hookguard.WithQueue(q), hookguard.WithStore(q.Store()))
//	...
//	_ = q.Shutdown(ctx) // after http.Server.Shutdown and r.Shutdown
//
// A [Store] made with [NewStore] works on its own too, beside any queue:
// Reserve, Commit and Release are one script each, and a record is
// deleted or confirmed only by the token that holds it.
//
// # Failure policy
//
// When the store alone fails, the receiver follows its policy (default:
// fall back to a local store; hookguard.WithFailClosed: 503). When the
// queue cannot take an event, including on the atomic path, the answer is
// always 503 with Retry-After: nothing is acknowledged that was not stored.
//
// go-redis retries a command whose connection broke. Every record's value
// holds the delivery's token and a nonce unique to the call, so a retry
// that finds the record its own first try wrote reports success instead
// of "already taken", and the atomic script never adds the event twice.
//
// # Sizing
//
// Workers ([WithWorkers]) is how many handlers run at once in one process;
// the fetcher reads only as many entries as there are idle workers, so no
// entry waits in a local buffer where a crash would strand it. Across
// processes the throughput adds up. Keep the go-redis pool larger than the
// number of workers plus the receiver's concurrent requests.
//
// The visibility timeout ([WithVisibilityTimeout], default 30s) is how
// long the entries of a consumer that died wait before another consumer
// reclaims them with XAUTOCLAIM. A consumer claims as many as it has idle
// workers, and claims again as soon as workers free up while stranded
// entries remain, so a large backlog is drained at the workers' pace,
// never held in a buffer. Live consumers refresh the entries they
// hold every third of it, so it does not bound how long a handler may run;
// make it a few times longer than a garbage-collection pause or network
// blip, and as short as the delay you accept after a crash. A consumer
// whose refresh finds that another consumer took over an entry it still
// handles (its refreshes came too late) logs that at WARN, since the event
// may be handled twice, and counts it in [Queue.TakenOver]; an entry it
// acknowledged, dead-lettered or handed back itself is never reported. An
// entry
// reclaimed from a dead consumer counts one attempt for the attempt that
// may have been running there, so an event that kills its worker ends in
// the dead-letter stream after the maximum attempts.
//
// A dead letter releases the event's dedupe records (hookguard.Event's
// DedupeKeys) in the same script that moves it to the dead-letter stream,
// when the receiver recorded them in this queue's store ([Queue.Store],
// the one-round-trip path): the sender's redelivery of the event, once the
// handler is fixed, is then handled instead of answered as a duplicate.
// With another store, the keys travel with the event to the dead-letter
// hook; call the receiver's Forget there. A receiver built with
// hookguard.WithKeepDedupeOnDeadLetter passes no keys, and nothing is
// released.
//
// Trimming ([WithTrim], default every minute) removes handled entries with
// XTRIM MINID below the oldest entry any consumer group still needs: its
// oldest pending entry and everything after its last delivered entry are
// never removed. Add a retention to keep handled events for inspection or
// replay. The dead-letter stream is never trimmed: read it, act, XDEL.
// A pending entry removed anyway (XTRIM or XDEL by hand or by another
// tool) is lost: the next reclaim logs it at ERROR, acknowledges it and
// counts it in [Queue.Lost].
//
// Consumer names default to host, PID and a random suffix, unique per
// process. Consumers that stopped stay listed in the group (XINFO
// CONSUMERS) with no pending entries once reclaimed; remove them with
// XGROUP DELCONSUMER if the list grows.
//
// # Logging
//
// The queue logs through [WithLogger]. go-redis logs a few lines of its
// own (a failed dial during an outage, for one) to standard error in its
// own format; [SetRedisLogger] sends them to a slog.Logger instead, at
// WARN. That setting is process-wide, like go-redis's logger.
//
// # Durability
//
// An acknowledged event is safe only if Redis keeps it: run Redis with
// appendonly yes and appendfsync always (or accept losing up to a second
// of events on a machine crash with everysec), and with maxmemory-policy
// noeviction, so that Redis refuses writes (the receiver answers 503)
// instead of evicting queued events or dedupe records. [NewQueue] logs a
// warning for each setting that may lose data; [CheckDurability] returns
// them.
//
// Replication is asynchronous: when Sentinel promotes a replica after the
// primary died, the events acknowledged in the last moment before may be
// missing. [WithWaitReplicas] closes that window: every enqueue is
// followed, in the same round trip, by WAIT, and an event is acknowledged
// only once enough replicas confirmed it; otherwise the queue takes it
// back and the receiver answers 503. Use it with a go-redis
// FailoverClient. An event answered 503 this way may still have been
// handled once, by a worker that read it during the WAIT.
//
// # Redis Cluster and shards
//
// Every key of a queue carries a hash tag: {NAME} ([WithName]) for the
// one shard of an unsharded queue. The stream, the dead-letter stream,
// the attempt counts and the dedupe records homed there hash to one slot,
// as the atomic script requires, so one shard lives on one primary.
// [WithShards] spreads a queue over n shards, each with its own tag,
// placed so that a Cluster whose primaries own equal slot ranges gets an
// equal share of them ([Queue.Shards] says where each is). Each dedupe
// key has a home shard, a hash of the key; an event goes to the home of
// its last key, and its records on other homes are reserved first and
// confirmed after, so every duplicate one shard catches is still caught
// (see [WithShards] for the cost). Consumers read every shard, sharing
// their workers fairly, and reclaim and trim each shard on its own. The
// standalone [Store] touches one key per call and needs no tag.
//
// When a primary fails over, go-redis keeps sending its slots' commands to
// the dead node until a node answers MOVED or its slot map is older than
// ClusterStateReloadInterval (a minute by default); the queue asks the
// ClusterClient to reload as soon as a command fails that way, so a shard
// answers again within seconds of the promotion. Run the Cluster with
// cluster-require-full-coverage no, so that the other primaries keep
// serving while one fails over, and with replicas and [WithWaitReplicas]
// (two replicas per primary with WAIT 1: the promoted one then still has
// one to confirm) if an acknowledged event must survive a failover.
//
// Changing the shard count moves every shard to a new tag, and most
// dedupe keys to a new home. Nothing is lost if it is done in this order:
//
//  1. Deploy every process (receivers and consumers) with WithShards(new)
//     and WithFormerShards(old). Consumers then read the old shards too,
//     and receivers look each key up on its old home as well, so that a
//     sender's redelivery of an event taken in before the change is still
//     a duplicate. Until every process runs it, an old process may take in
//     an event on the old shards; the new consumers handle it.
//  2. Wait until [Queue.FormerDrained] reports true and one dedupe TTL
//     (hookguard.WithDedupeTTL, 72 hours by default) has passed since the
//     last process moved. Replay or drop the old shards' dead letters
//     (they are listed with the others) if you want them.
//  3. Deploy without WithFormerShards. The old shards' keys may then be
//     deleted (SCAN for "hookguard:{NAME:s*" or "hookguard:{NAME}*"), and
//     the old count removed from the registry of counts with SREM
//     hookguard:{NAME}:shards OLD.
//
// Every count a queue ran with stays in that registry, and consumers keep
// reading (cheaply: one blocking read per empty shard and block time) the
// shards of each: a change made without step 1 strands no event, but is
// logged at WARN, since redeliveries of events taken in before it are
// then not recognised for one dedupe TTL.
//
// `hookguard serve --redis URL --shards N` and `hookguard dead ... --shards
// N` take the count too.
package rediskit
