package rediskit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
)

// MaxShards is the largest shard count [WithShards] takes.
const MaxShards = 1024

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// WithShards spreads the queue over n shards (default 1, one stream, as
// before sharding). Each shard has its own hash tag, so its stream, its
// dead letters and the dedupe records homed on it live in one Redis
// Cluster slot, and a Cluster spreads the shards over its primaries: the
// tag of shard i is chosen so that its slot lies in the i-th of n equal
// slot ranges, so on a Cluster whose primaries own equal contiguous
// ranges (as `redis-cli --cluster create` makes them), n equal to the
// number of primaries, or a multiple of it, puts as many shards on each.
// See [Queue.Shards] for where they are.
//
// Every dedupe key has a home shard (a hash of the key). An event goes to
// the home of its last dedupe key, which for a sender whose scheme signs
// no ID or timestamp is the digest of the signed content: a replay under
// a fresh unsigned ID meets the digest recorded by the first copy. Its
// other keys' records (the unsigned ID's) stay on their own homes: they
// are reserved there first, pending, and marked seen only after the event
// was stored, so that nothing is recorded as seen without its event; such
// a delivery costs three round trips instead of one. An event with no
// dedupe key goes to the shards in turn.
//
// Consumers read every shard, take work from each in turn when workers
// are scarce, and reclaim and trim each shard on its own.
//
// Changing n on a live system changes every shard's tag: run every
// process with the new n and [WithFormerShards] set to the old one until
// the old shards are drained and the dedupe TTL has passed (see the
// package documentation). Every shard count a queue ran with is recorded
// in Redis ("hookguard:{NAME}:shards"), and consumers read the shards of
// each, so a change made without that option strands no event either; it
// is logged at WARN, as a redelivery of an event taken in under the other
// count may then be taken in again. n outside 1..[MaxShards] is a
// configuration error (see [NewQueue]).
func WithShards(n int) QueueOption {
	return func(c *queueConfig) {
		if n < 1 || n > MaxShards {
			c.invalidOption("WithShards(%d): want 1 to %d shards", n, MaxShards)
			return
		}
		c.shards = n
	}
}

// WithFormerShards tells a queue moved to another shard count (see
// [WithShards]) the count it had before, n. Its consumers then also read,
// reclaim and trim the former shards, so that no event stored there is
// stranded, and its receiver's intake (the atomic path: the queue with
// [Queue.Store]) also looks up each dedupe key's record on its former
// home (one more round trip per delivery), so that a redelivery of an
// event taken in before the change is still answered as a duplicate. Dead letters of the former shards are listed, replayed
// and dropped with the others. Keep it until [Queue.FormerDrained]
// reports true and one dedupe TTL (hookguard.WithDedupeTTL) has passed
// since the last process moved; then remove it. n outside 1..[MaxShards],
// or equal to the shard count, is a configuration error (see [NewQueue]).
func WithFormerShards(n int) QueueOption {
	return func(c *queueConfig) {
		if n < 1 || n > MaxShards {
			c.invalidOption("WithFormerShards(%d): want 1 to %d shards", n, MaxShards)
			return
		}
		c.formerShards = n
	}
}

// Shard describes one shard of a [Queue].
type Shard struct {
	Index       int    // 0 to the shard count - 1
	Tag         string // the hash tag (without braces) of every key of the shard
	Slot        int    // the Redis Cluster hash slot of Tag (0 to 16383)
	Stream      string // key of the event stream
	DeadLetters string // key of the dead-letter stream
}

// shard is one shard's keys and state.
type shard struct {
	Shard
	attempts string  // hash: attempts made per entry ID
	replayed string  // hash: replays per dead letter ID
	seen     string  // prefix of the dedupe records homed here
	lay      *layout // the layout the shard belongs to

	held map[string]bool // see Queue.held; guarded by Queue.heldMu
}

// layout is a shard count's shards, and the home of each dedupe key.
type layout struct {
	shards []*shard
	next   atomic.Uint64 // round robin for events without dedupe keys
}

// newLayout returns the n shards of the queue name.
func newLayout(name string, n int) *layout {
	l := &layout{shards: make([]*shard, n)}
	for i, tag := range shardTags(name, n) {
		base := "hookguard:{" + tag + "}:"
		l.shards[i] = &shard{
			Shard: Shard{
				Index: i, Tag: tag, Slot: int(crc16(tag) % clusterSlots),
				Stream: base + "events", DeadLetters: base + "dead",
			},
			attempts: base + "attempts",
			replayed: base + "replayed",
			seen:     base + "seen:",
			lay:      l,
			held:     make(map[string]bool),
		}
	}
	return l
}

// home returns the shard that keeps the dedupe record of key.
func (l *layout) home(key string) *shard {
	if len(l.shards) == 1 {
		return l.shards[0]
	}
	// FNV-1a, 64 bits, inline: hash/fnv would allocate per key.
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return l.shards[h%uint64(len(l.shards))]
}

// pick returns the shard of an event whose dedupe keys are keys: the home
// of the last one, or the next shard in turn when there is none.
func (l *layout) pick(keys []string) *shard {
	if len(keys) > 0 {
		return l.home(keys[len(keys)-1])
	}
	if len(l.shards) == 1 {
		return l.shards[0]
	}
	return l.shards[(l.next.Add(1)-1)%uint64(len(l.shards))]
}

// record returns the Redis key of the dedupe record of key.
func (l *layout) record(key string) string { return l.home(key).seen + key }

var tagCache sync.Map // "name\x00n" -> []string

// shardTags returns the hash tags of the n shards of the queue name: name
// itself for one shard (the keys of an unsharded queue), else for shard i
// "name:s<i>of<n>", with ".<j>" added for the smallest j that puts its slot
// in the i-th of n equal slot ranges.
func shardTags(name string, n int) []string {
	ck := name + "\x00" + strconv.Itoa(n)
	if v, ok := tagCache.Load(ck); ok {
		return v.([]string)
	}
	tags := make([]string, n)
	if n == 1 {
		tags[0] = name
	} else {
		for i := range n {
			lo, hi := i*clusterSlots/n, (i+1)*clusterSlots/n
			base := name + ":s" + strconv.Itoa(i) + "of" + strconv.Itoa(n)
			tags[i] = base
			for j := 0; j < 1<<22; j++ {
				t := base
				if j > 0 {
					t += "." + strconv.Itoa(j)
				}
				if s := int(crc16(t) % clusterSlots); s >= lo && s < hi {
					tags[i] = t
					break
				}
			}
		}
	}
	tagCache.Store(ck, tags)
	return tags
}

// crc16 is the CRC-16/XMODEM of s, from which Redis Cluster computes a
// key's hash slot (CRC16(tag) mod 16384).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Shards returns the queue's shards, in order (not those of
// [WithFormerShards]). With one shard, its keys are those of an unsharded
// queue: "hookguard:{NAME}:events" and so on.
func (q *Queue) Shards() []Shard {
	out := make([]Shard, len(q.cur.shards))
	for i, s := range q.cur.shards {
		out[i] = s.Shard
	}
	return out
}

// FormerDrained reports whether the shards of other shard counts (those
// of [WithFormerShards], and any other count the queue's processes
// registered, see [WithShards]) hold no event still to be handled: for
// each, the consumer group has no pending entry and nothing past its last
// delivered entry. Dead letters there are not counted; list them with
// [Queue.DeadLetters]. With no other count it reports true.
func (q *Queue) FormerDrained(ctx context.Context) (bool, error) {
	for _, s := range q.all[len(q.cur.shards):] {
		groups, err := q.rdb.XInfoGroups(ctx, s.Stream).Result()
		if err != nil {
			if strings.Contains(err.Error(), "no such key") {
				continue
			}
			return false, fmt.Errorf("rediskit: inspect former shard %s: %w", s.Stream, err)
		}
		for _, g := range groups {
			if g.Name != q.cfg.group {
				continue
			}
			if g.Pending > 0 || g.Lag > 0 {
				return false, nil
			}
		}
	}
	return true, nil
}

// refOf returns the dead-letter ref of entry id in s's dead-letter
// stream: the entry ID for the single shard of an unsharded queue, else
// the ID, "@" and the shard's tag.
func (q *Queue) refOf(s *shard, id string) string {
	if s.Tag == q.cfg.name {
		return id
	}
	return id + "@" + s.Tag
}

// shardOfRef returns the shard and entry ID a dead-letter ref names, or
// an error wrapping hookguard.ErrNoDeadLetter.
func (q *Queue) shardOfRef(ref string) (*shard, string, error) {
	id, tag, sharded := strings.Cut(ref, "@")
	if err := checkRef(id); err != nil {
		return nil, "", err
	}
	if !sharded {
		tag = q.cfg.name
	}
	for _, s := range q.all {
		if s.Tag == tag {
			return s, id, nil
		}
	}
	return nil, "", fmt.Errorf("rediskit: dead letter %q: no shard of this queue has the tag %q (check WithName, WithShards and WithFormerShards): %w", ref, tag, hookguard.ErrNoDeadLetter)
}

// once stores the entry vals in sh's stream unless one of keys has a
// record, and records every key as seen for ttl: the receiver's atomic
// reserve-and-enqueue. Records homed on sh are checked and written in the
// same script as the entry. Those homed on other shards are reserved
// there first, pending, by a token unique to this call, then marked seen
// when the entry was stored, or released when it was not: nothing is
// recorded as seen without its event, and a crash between the steps
// leaves only a pending record, which expires. With [WithFormerShards],
// each key's record on its former home is looked up first. It returns
// enqueueOnceScript's code: 1 stored, 2 a key is pending, 3 a key is seen.
//
// With [WithWaitReplicas], what WAIT does not confirm is taken back if
// undo is set; otherwise it stays, and once returns 1 with the error
// wrapping [ErrNotReplicated].
func (q *Queue) once(ctx context.Context, sh *shard, keys []string, ttl time.Duration, vals []any, undo bool) (int, error) {
	if err := q.register(ctx); err != nil {
		return 0, err
	}
	if q.former != nil {
		if n, err := q.formerRecords(ctx, keys); err != nil || n != 0 {
			return n, err
		}
	}
	token := q.cfg.consumer // names the writer in the record; the nonce makes it unique
	local, remote := keys, []string(nil)
	if len(q.cur.shards) > 1 {
		local = nil
		for _, k := range keys {
			if q.cur.home(k) == sh {
				local = append(local, k)
			} else {
				remote = append(remote, k)
			}
		}
	}
	var held []string
	if len(remote) > 0 {
		token += "/" + newNonce() // only this call may confirm or release its remote records
		n, err := q.reserveRemote(ctx, remote, token, &held)
		if err != nil || n != 1 {
			q.releaseRemote(ctx, held, token)
			q.reroute(err)
			return n, err
		}
	}
	rkeys := make([]string, 0, 1+len(local))
	rkeys = append(rkeys, sh.Stream)
	for _, k := range local {
		rkeys = append(rkeys, sh.seen+k)
	}
	nonce, wait := newNonce(), "0"
	if q.cfg.waitReplicas > 0 {
		wait = "1"
	}
	args := make([]any, 0, 4+len(vals))
	args = append(args, nonce, token, ttlMillis(ttl), wait)
	args = append(args, vals...)
	var (
		n   int
		err error
	)
	if q.cfg.waitReplicas > 0 {
		n, err = q.enqueueOnceWait(ctx, sh, rkeys, args, nonce+token, undo)
	} else {
		n, _, err = q.in.do(ctx, rkeys, args)
	}
	if len(held) > 0 {
		if stored(n, err) {
			q.commitRemote(ctx, held, token, ttl)
		} else {
			q.releaseRemote(ctx, held, token)
		}
	}
	q.reroute(err)
	return n, err
}

// reserveRemote reserves, pending, the records of keys on their homes for
// token, appending each it reserved to held. It returns 1 when it
// reserved them all, else the first other code of reserveScript (2
// pending, 3 seen) or error.
func (q *Queue) reserveRemote(ctx context.Context, keys []string, token string, held *[]string) (int, error) {
	for _, k := range keys {
		n, err := reserveScript.Run(ctx, q.rdb, []string{q.cur.record(k)}, newNonce(), token, ttlMillis(hookguard.DefaultPendingTTL)).Int()
		if err != nil {
			return 0, err
		}
		if n != 1 {
			return n, nil
		}
		*held = append(*held, k)
	}
	return 1, nil
}

// releaseRemote deletes the records reserveRemote reserved for token, if
// token still holds them.
func (q *Queue) releaseRemote(ctx context.Context, keys []string, token string) {
	if len(keys) == 0 {
		return
	}
	uctx, cancel := q.undoCtx(ctx)
	defer cancel()
	for _, k := range keys {
		if err := releaseScript.Run(uctx, q.rdb, []string{q.cur.record(k)}, token).Err(); err != nil {
			q.cfg.logger.LogAttrs(uctx, slog.LevelWarn, "rediskit: could not release a dedupe record on another shard; the sender's retry is answered as pending until it expires",
				slog.Any("error", err))
		}
	}
}

// commitRemote marks the records reserveRemote reserved for token as seen
// for ttl, after the event was stored; with [WithWaitReplicas], WAIT
// follows each.
func (q *Queue) commitRemote(ctx context.Context, keys []string, token string, ttl time.Duration) {
	cctx, cancel := q.undoCtx(ctx) // the event is stored: finish even if the request ended
	defer cancel()
	for _, k := range keys {
		rk := q.cur.record(k)
		var err error
		if q.cfg.waitReplicas > 0 {
			err = q.runWait(cctx, rk, commitScript, []string{rk}, token, ttlMillis(ttl))
		} else {
			err = commitScript.Run(cctx, q.rdb, []string{rk}, token, ttlMillis(ttl)).Err()
		}
		if err != nil {
			q.reroute(err)
			q.cfg.logger.LogAttrs(cctx, slog.LevelWarn, "rediskit: the event was stored, but its dedupe record on another shard could not be marked seen; it stays pending until it expires (hookguard.DefaultPendingTTL)",
				slog.Any("error", err))
		}
	}
}

// formerRecords looks up the records of keys on their homes in the former
// layout (see [WithFormerShards]), in one pipeline: 3 when one is seen, 2
// when one is pending, 0 when none exists.
func (q *Queue) formerRecords(ctx context.Context, keys []string) (int, error) {
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, q.former.record(k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	code := 0
	for _, c := range cmds {
		v, err := c.Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return 0, err
		case strings.HasPrefix(v, "s"):
			return 3, nil
		default:
			code = 2
		}
	}
	return code, nil
}

// stored reports whether once, which returned n and err, left the event
// in the stream.
func stored(n int, err error) bool {
	return n == 1 && (err == nil || errors.Is(err, ErrNotReplicated))
}

// registry is the key of the set of shard counts the queue's processes
// wrote events under.
func (q *Queue) registry() string { return "hookguard:{" + q.cfg.name + "}:shards" }

// layouts adds to q.all the shards of every other shard count in the
// queue's registry: consumers read, reclaim and trim them too, and dead
// letters are listed from them, so a process started with another count
// than the one before never strands the events taken in under it, even
// without [WithFormerShards]. It logs such counts at WARN: without
// WithFormerShards, a redelivery of an event taken in under them may be
// taken in again.
func (q *Queue) layouts(ctx context.Context) error {
	members, err := q.rdb.SMembers(ctx, q.registry()).Result()
	if err != nil {
		return fmt.Errorf("rediskit: reach Redis (to read the shard counts in %s): %w", q.registry(), err)
	}
	others := []int{}
	if q.cfg.formerShards > 0 {
		others = append(others, q.cfg.formerShards)
	}
	for _, m := range members {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > MaxShards || n == q.cfg.shards || slices.Contains(others, n) {
			continue
		}
		others = append(others, n)
		q.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "rediskit: the queue also ran with another shard count; its shards are drained too, but without WithFormerShards a redelivery of an event taken in under it may be taken in again",
			slog.String("queue", q.cfg.name), slog.Int("shards", q.cfg.shards), slog.Int("other", n))
	}
	slices.Sort(others)
	q.all = q.cur.shards
	for _, n := range others {
		l := q.former
		if n != q.cfg.formerShards {
			l = newLayout(q.cfg.name, n)
		}
		q.all = append(slices.Clip(q.all), l.shards...)
	}
	return nil
}

// register records the queue's shard count in its registry before the
// first event this process writes (once it succeeded), so that processes
// started later with another count read the shards it writes to. A
// process that only reads, such as "hookguard dead list", registers
// nothing.
func (q *Queue) register(ctx context.Context) error {
	if q.registered.Load() {
		return nil
	}
	q.regMu.Lock()
	defer q.regMu.Unlock()
	if q.registered.Load() {
		return nil
	}
	if err := q.rdb.SAdd(ctx, q.registry(), q.cfg.shards).Err(); err != nil {
		q.reroute(err)
		return fmt.Errorf("rediskit: register the shard count in %s: %w", q.registry(), err)
	}
	q.registered.Store(true)
	return nil
}
