package rediskit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard"
	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/storeargs"
)

// Dead-letter retention defaults; see [WithDeadLetterRetention].
const (
	// DefaultDeadLetterMax is how many dead letters a queue keeps at most.
	DefaultDeadLetterMax = 10000
	// DefaultDeadLetterAge is how long a queue keeps a dead letter at most.
	DefaultDeadLetterAge = 7 * 24 * time.Hour
)

// deadPage bounds one XRANGE of a dead-letter listing.
const deadPage = 100

// WithDeadLetterRetention bounds the dead-letter stream: the periodic
// trim (see [WithTrim]; it runs only while trimming is on) removes the
// oldest dead letters beyond maxCount, and those given up more than
// maxAge ago, with exact XTRIM MAXLEN and MINID, and forgets their replay
// counts. Defaults: [DefaultDeadLetterMax] (10,000) and
// [DefaultDeadLetterAge] (7 days). maxCount < 1 or maxAge <= 0 is a
// configuration error (see [NewQueue]).
func WithDeadLetterRetention(maxCount int, maxAge time.Duration) QueueOption {
	return func(c *queueConfig) {
		if maxCount < 1 || maxAge <= 0 {
			c.invalidOption("WithDeadLetterRetention(%d, %v): want maxCount >= 1 and maxAge > 0", maxCount, maxAge)
			return
		}
		c.deadMax, c.deadAge = maxCount, maxAge
	}
}

var (
	// trimDeadScript: KEYS[1] dead-letter stream, KEYS[2] replay counts;
	// ARGV max count, the oldest ID kept. Trims exactly, then forgets the
	// replay counts of the entries it removed (every ID below the oldest
	// left). Returns how many entries it removed.
	trimDeadScript = redis.NewScript(`
local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local n = redis.call('XTRIM', KEYS[1], 'MAXLEN', '=', ARGV[1])
n = n + redis.call('XTRIM', KEYS[1], 'MINID', '=', ARGV[2])
if n > 0 and redis.call('HLEN', KEYS[2]) > 0 then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  local oldest = first[1] and first[1][1]
  for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
    if not oldest or less(id, oldest) then redis.call('HDEL', KEYS[2], id) end
  end
end
return n
`)
)

var refRE = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// checkRef returns an error wrapping hookguard.ErrNoDeadLetter when ref
// is not a stream entry ID.
func checkRef(ref string) error {
	if !refRE.MatchString(ref) {
		return fmt.Errorf("rediskit: dead letter %q: not a stream entry ID (like 1712345678901-0): %w", ref, hookguard.ErrNoDeadLetter)
	}
	return nil
}

// DeadLetters returns the dead letters f selects, oldest first, at most
// f's limit. It reads the dead-letter stream in pages of at most 100
// entries and stops at the limit; Since and Until narrow the range read.
// It returns an error wrapping [hookguard.ErrInvalidFilter] for a
// negative limit.
func (q *Queue) DeadLetters(ctx context.Context, f hookguard.DeadLetterFilter) ([]hookguard.DeadLetter, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	limit := f.Max()
	start, end := "-", "+"
	if !f.Since.IsZero() && f.Since.UnixMilli() > 0 {
		start = strconv.FormatInt(f.Since.UnixMilli(), 10) + "-0" // Match drops the part of the millisecond before Since
	}
	if !f.Until.IsZero() {
		ms := f.Until.UnixMilli()
		if time.UnixMilli(ms).Before(f.Until) {
			ms++ // the first millisecond at or after Until
		}
		if ms <= 0 {
			return nil, nil
		}
		end = strconv.FormatInt(ms-1, 10) + "-18446744073709551615"
	}
	var out []hookguard.DeadLetter
	for _, sh := range q.all {
		ds, err := q.shardDeadLetters(ctx, sh, f, start, end, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	if len(q.all) > 1 {
		// Each shard's are in order; merge them by time, then take the
		// oldest up to the limit.
		slices.SortStableFunc(out, func(a, b hookguard.DeadLetter) int { return cmpID(idOfRef(a.Ref), idOfRef(b.Ref)) })
		out = out[:min(len(out), limit)]
	}
	return out, nil
}

// shardDeadLetters returns the dead letters of sh between the entry IDs
// start and end that f selects, oldest first, at most limit.
func (q *Queue) shardDeadLetters(ctx context.Context, sh *shard, f hookguard.DeadLetterFilter, start, end string, limit int) ([]hookguard.DeadLetter, error) {
	page := min(limit, deadPage)
	var out []hookguard.DeadLetter
	for len(out) < limit {
		msgs, err := q.rdb.XRangeN(ctx, sh.DeadLetters, start, end, int64(page)).Result()
		if err != nil {
			return nil, fmt.Errorf("rediskit: list dead letters: %w", err)
		}
		if len(msgs) == 0 {
			break
		}
		ds, err := q.deadLetters(ctx, sh, msgs)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if f.Match(d) {
				out = append(out, d)
				if len(out) == limit {
					break
				}
			}
		}
		if len(msgs) < page {
			break
		}
		start = nextID(msgs[len(msgs)-1].ID)
	}
	return out, nil
}

// idOfRef returns the entry ID part of a dead-letter ref.
func idOfRef(ref string) string {
	id, _, _ := strings.Cut(ref, "@")
	return id
}

// cmpID compares two stream entry IDs by time, then sequence.
func cmpID(a, b string) int {
	split := func(id string) (uint64, uint64) {
		ms, seq, _ := strings.Cut(id, "-")
		m, _ := strconv.ParseUint(ms, 10, 64)
		s, _ := strconv.ParseUint(seq, 10, 64)
		return m, s
	}
	am, as := split(a)
	bm, bs := split(b)
	if c := cmp.Compare(am, bm); c != 0 {
		return c
	}
	return cmp.Compare(as, bs)
}

// DeadLetter returns the dead letter whose entry ID in the dead-letter
// stream is ref, or an error wrapping [hookguard.ErrNoDeadLetter].
func (q *Queue) DeadLetter(ctx context.Context, ref string) (hookguard.DeadLetter, error) {
	sh, id, err := q.shardOfRef(ref)
	if err != nil {
		return hookguard.DeadLetter{}, err
	}
	msgs, err := q.rdb.XRange(ctx, sh.DeadLetters, id, id).Result()
	if err != nil {
		return hookguard.DeadLetter{}, fmt.Errorf("rediskit: read dead letter %s: %w", ref, err)
	}
	if len(msgs) == 0 {
		return hookguard.DeadLetter{}, fmt.Errorf("rediskit: dead letter %s: %w", ref, hookguard.ErrNoDeadLetter)
	}
	ds, err := q.deadLetters(ctx, sh, msgs)
	if err != nil {
		return hookguard.DeadLetter{}, err
	}
	return ds[0], nil
}

// ReplayDeadLetter puts the event of the dead letter ref back through
// dedupe and the queue, in one script: unless one of the event's dedupe
// keys, or the replay key of this dead letter, is recorded in
// [Queue.Store], it adds the event to the stream, records those keys as
// seen for hookguard.DefaultDedupeTTL and counts the replay
// ([hookguard.DeadLetter.Replays]). It returns [dedupe.Reserved] when it
// enqueued the event, and [dedupe.Seen] when it enqueued nothing: the
// dead letter was replayed before, or the sender redelivered the event
// and it was taken in since it was dead-lettered. Replaying twice
// therefore handles the event once, even one without dedupe keys.
//
// The event keeps its original ID, body and headers and is handled like
// any other: retried, and dead-lettered anew (a new dead letter, whose
// keys are released again) if it fails again. The dead letter stays
// until it is dropped or retention removes it.
//
// It returns an error wrapping [hookguard.ErrNoDeadLetter] when ref names
// no dead letter, hookguard.ErrShuttingDown once Shutdown has begun, and,
// with [WithWaitReplicas], an error wrapping [ErrNotReplicated] when
// replicas did not confirm the replay in time (the replay may or may not
// survive a failover; replaying again is safe).
func (q *Queue) ReplayDeadLetter(ctx context.Context, ref string) (dedupe.Status, error) {
	sh, id, err := q.shardOfRef(ref)
	if err != nil {
		return 0, err
	}
	msgs, err := q.rdb.XRange(ctx, sh.DeadLetters, id, id).Result()
	if err != nil {
		return 0, fmt.Errorf("rediskit: read dead letter %s: %w", ref, err)
	}
	if len(msgs) == 0 {
		return 0, fmt.Errorf("rediskit: dead letter %s: %w", ref, hookguard.ErrNoDeadLetter)
	}
	ev, err := decode(msgs[0].Values)
	if err != nil {
		return 0, fmt.Errorf("rediskit: dead letter %s cannot be replayed: %w", ref, err)
	}
	ev.Attempt = 0
	token := q.cfg.consumer
	keys := append(append([]string(nil), ev.DedupeKeys...), "replay:"+q.cfg.name+":"+ref)
	for _, k := range keys {
		if err := storeargs.Check(k, token, hookguard.DefaultDedupeTTL, true); err != nil {
			return 0, err
		}
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return 0, hookguard.ErrShuttingDown
	}
	vals := encodeEvent(ev, false, q.cfg.compress)
	if len(ev.DedupeKeys) > 0 {
		vals = append(vals, fKeysHere, "1") // a new dead letter releases them again
	}
	// The event goes where the receiver puts it: the home of its last
	// dedupe key, or of the replay key when it has none.
	// What WAIT does not confirm stays: replaying again is idempotent and
	// enqueues the event only if the first replay was lost.
	n, err := q.once(ctx, q.cur.pick(keys[max(len(ev.DedupeKeys)-1, 0):]), keys, hookguard.DefaultDedupeTTL, vals, false)
	if stored(n, err) {
		if cerr := q.rdb.HIncrBy(ctx, sh.replayed, id, 1).Err(); cerr != nil {
			q.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "rediskit: a dead letter was replayed, but its replay count could not be raised",
				slog.String("ref", ref), slog.Any("error", cerr))
		}
	}
	return reserveStatus("replay dead letter", n, err)
}

// DropDeadLetter deletes the dead letter ref and its replay count. It
// returns an error wrapping [hookguard.ErrNoDeadLetter] when ref names no
// dead letter.
func (q *Queue) DropDeadLetter(ctx context.Context, ref string) error {
	sh, id, err := q.shardOfRef(ref)
	if err != nil {
		return err
	}
	var del *redis.IntCmd
	_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.XDel(ctx, sh.DeadLetters, id)
		p.HDel(ctx, sh.replayed, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rediskit: drop dead letter %s: %w", ref, err)
	}
	if del.Val() == 0 {
		return fmt.Errorf("rediskit: dead letter %s: %w", ref, hookguard.ErrNoDeadLetter)
	}
	return nil
}

// TrimDeadLetters applies the dead-letter retention now, as the periodic
// trim does (see [WithDeadLetterRetention]): it removes the oldest dead
// letters beyond the maximum count and those older than the maximum age,
// and forgets their replay counts. It returns how many it removed.
func (q *Queue) TrimDeadLetters(ctx context.Context) (int64, error) {
	minID := strconv.FormatInt(max(time.Now().Add(-q.cfg.deadAge).UnixMilli(), 0), 10) + "-0"
	var total int64
	for _, sh := range q.all {
		n, err := trimDeadScript.Run(ctx, q.rdb, []string{sh.DeadLetters, sh.replayed}, q.cfg.deadMax, minID).Int64()
		if err != nil {
			return total, fmt.Errorf("rediskit: trim dead letters of %s: %w", sh.DeadLetters, err)
		}
		total += n
	}
	return total, nil
}

// deadLetters turns dead-letter stream entries into dead letters, with
// their replay counts.
func (q *Queue) deadLetters(ctx context.Context, sh *shard, msgs []redis.XMessage) ([]hookguard.DeadLetter, error) {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	counts, err := q.rdb.HMGet(ctx, sh.replayed, ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("rediskit: read replay counts: %w", err)
	}
	out := make([]hookguard.DeadLetter, len(msgs))
	for i, m := range msgs {
		out[i] = deadLetterOf(m)
		out[i].Ref = q.refOf(sh, m.ID)
		if s, ok := counts[i].(string); ok {
			out[i].Replays, _ = strconv.Atoi(s)
		}
	}
	return out, nil
}

// deadLetterOf reads one dead-letter stream entry. An entry whose event
// does not decode (it was dead-lettered for that) still shows what it
// holds.
func deadLetterOf(m redis.XMessage) hookguard.DeadLetter {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	d := hookguard.DeadLetter{Ref: m.ID, Err: str(fError)}
	d.Attempts, _ = strconv.Atoi(str(fAttempts))
	if ms, _, ok := strings.Cut(m.ID, "-"); ok {
		if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
			d.At = time.UnixMilli(n).UTC()
		}
	}
	ev, err := decode(m.Values)
	if err != nil {
		ev = hookguard.Event{Provider: str(fProvider), ID: str(fID), Type: str(fType), Body: []byte(str(fBody))}
		if !errors.Is(err, errBadEntry) || d.Err == "" {
			d.Err = err.Error()
		}
	}
	ev.Attempt = d.Attempts
	d.Event = ev
	return d
}

// nextID returns the stream entry ID right after id.
func nextID(id string) string {
	ms, seq, _ := strings.Cut(id, "-")
	s, err := strconv.ParseUint(seq, 10, 64)
	if err != nil || s == ^uint64(0) {
		m, _ := strconv.ParseUint(ms, 10, 64)
		return strconv.FormatUint(m+1, 10) + "-0"
	}
	return ms + "-" + strconv.FormatUint(s+1, 10)
}
