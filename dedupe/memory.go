package dedupe

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Defaults of [NewMemory].
const (
	// DefaultMaxEntries is the number of keys a [Memory] holds at most
	// unless [WithMaxEntries] says otherwise.
	DefaultMaxEntries = 1 << 20
	// DefaultShards is the number of independently locked shards of a
	// [Memory] unless [WithShards] says otherwise.
	DefaultShards = 64
)

// maxShards bounds [WithShards]: more shards than this only cost memory.
const maxShards = 1 << 16

// Memory is an in-process [Store] that keeps reservations in a sharded,
// bounded hash map.
//
// Expired records are dropped lazily, while Reserve looks at the oldest
// records of a shard and while a full shard makes room; a Memory starts no
// goroutine and needs no Close. When a shard is full, its oldest records
// (in order of reservation) are evicted first, whether pending or seen, and
// counted in [MemoryStats.Evictions]: an evicted event ID is forgotten, so
// a later copy of it is taken in again. Size the bound (see
// [WithMaxEntries]) for the number of events that arrive within the
// longest TTL you commit with.
//
// A Memory keeps no key: a record holds a 128-bit hash of its key (two
// [hash/maphash] hashes under seeds chosen at random for each store), a
// hash of its token and its deadline, and no pointer. So the garbage
// collector never scans the records, however many there are, and a key's
// bytes are never kept alive. Two different keys are taken for one with a
// chance of about 2^-128 per pair; senders, who do not know the seeds,
// cannot aim for a collision, nor for a crowded spot in the index. Tokens
// are kept only as 64-bit hashes.
//
// A Memory forgets everything when the process stops, and each process has
// its own: services that run several instances behind a load balancer need
// a shared Store.
//
// A Memory is safe for concurrent use by multiple goroutines. Its zero value
// is not usable; call [NewMemory].
type Memory struct {
	shards []shard
	mask   uint64
	seed   maphash.Seed
	seed2  maphash.Seed     // the second half of a key's hash
	now    func() time.Time // nil: the default clock, read by time.Since
	epoch  time.Time
}

var _ Store = (*Memory)(nil)

// MemoryStats is a snapshot of a [Memory]'s counters.
type MemoryStats struct {
	// Entries is the number of records held, including records whose TTL
	// ended but that have not been dropped yet.
	Entries int
	// Evictions counts records removed before their TTL ended because a
	// shard was full. A growing count means the bound is too small for the
	// traffic: duplicates older than the evicted records are no longer
	// detected.
	Evictions uint64
	// Expirations counts records dropped or replaced after their TTL ended.
	Expirations uint64
}

// MemoryOption configures a [Memory]; pass options to [NewMemory].
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	maxEntries int
	shards     int
	now        func() time.Time
	err        error // the first invalid option, for NewMemory to report
}

// invalidOption records the first invalid option's error.
func (c *memoryConfig) invalidOption(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// WithMaxEntries bounds the number of records the store holds at once
// (default [DefaultMaxEntries]). The bound is split evenly between the
// shards; when a shard is full, its oldest records are evicted first. Keys
// spread over the shards by a hash, so the first evictions happen a little
// before the store as a whole is full (about 2% before, with the defaults). Each
// record costs about 50 bytes, whatever the key's length (see the package
// documentation). n < 1 is a configuration error, which [NewMemory]
// returns.
func WithMaxEntries(n int) MemoryOption {
	return func(c *memoryConfig) {
		if n < 1 {
			c.invalidOption("WithMaxEntries(%d): the store must hold at least one record", n)
			return
		}
		c.maxEntries = n
	}
}

// WithShards sets the number of independently locked shards (default
// [DefaultShards]), rounded up to a power of two and capped at 65536. More
// shards mean less lock contention between goroutines; eviction order is
// oldest-first within each shard. A store never has more shards than its
// maximum number of entries. n < 1 is a configuration error, which
// [NewMemory] returns.
func WithShards(n int) MemoryOption {
	return func(c *memoryConfig) {
		if n < 1 {
			c.invalidOption("WithShards(%d): the store needs at least one shard", n)
			return
		}
		c.shards = n
	}
}

// WithClock sets the function the store reads the current time from
// (default [time.Now]); tests pass a fake clock to expire records without
// waiting. Only differences between its readings matter. A nil now restores
// the default.
func WithClock(now func() time.Time) MemoryOption {
	return func(c *memoryConfig) { c.now = now }
}

// NewMemory returns an empty in-memory store configured by opts. It
// returns an error wrapping [ErrInvalidOption] that names the first
// invalid option and its value, and never panics on one.
func NewMemory(opts ...MemoryOption) (*Memory, error) {
	c := memoryConfig{maxEntries: DefaultMaxEntries, shards: DefaultShards}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	n := min(c.shards, maxShards)
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	for n > 1 && n > c.maxEntries {
		n >>= 1
	}
	m := &Memory{
		shards: make([]shard, n),
		mask:   uint64(n - 1),
		seed:   maphash.MakeSeed(),
		seed2:  maphash.MakeSeed(),
		now:    c.now,
		epoch:  time.Now(),
	}
	if c.now != nil {
		m.epoch = c.now()
	}
	per, extra := c.maxEntries/n, c.maxEntries%n
	for i := range m.shards {
		s := &m.shards[i]
		s.max = per
		if i < extra {
			s.max++
		}
	}
	return m, nil
}

// Reserve implements [Store.Reserve]. A pending record whose TTL ended
// counts as free.
func (m *Memory) Reserve(ctx context.Context, key, token string, ttl time.Duration) (Status, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkArgs(key, token, ttl, true); err != nil {
		return 0, err
	}
	now := m.clock()
	h, tok := m.hash(key), m.tokenHash(token)
	s := &m.shards[h.h1&m.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpiredHead(now, 2)
	if slot, ri, ok := s.find(h); ok {
		r := &s.recs[ri]
		if r.expires > now {
			if r.token&seenBit != 0 {
				return Seen, nil
			}
			return Pending, nil
		}
		s.remove(slot, ri) // expired: reserve it anew, at the back
		s.expirations++
	}
	s.makeRoom(now)
	s.insert(rec{h1: h.h1, h2: h.h2, token: tok, expires: deadline(now, ttl)})
	return Reserved, nil
}

// Commit implements [Store.Commit]. It returns [ErrNotOwner] when the
// record was released, expired, evicted or reserved by another token.
func (m *Memory) Commit(ctx context.Context, key, token string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkArgs(key, token, ttl, true); err != nil {
		return err
	}
	now := m.clock()
	h, tok := m.hash(key), m.tokenHash(token)
	s := &m.shards[h.h1&m.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ri, ok := s.find(h)
	if !ok {
		return ErrNotOwner
	}
	r := &s.recs[ri]
	if r.token&^seenBit != tok || r.expires <= now {
		return ErrNotOwner
	}
	r.token |= seenBit
	r.expires = deadline(now, ttl)
	return nil
}

// Release implements [Store.Release]: it deletes the record, pending or
// seen, when token holds it, and otherwise does nothing.
func (m *Memory) Release(ctx context.Context, key, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkArgs(key, token, 0, false); err != nil {
		return err
	}
	h, tok := m.hash(key), m.tokenHash(token)
	s := &m.shards[h.h1&m.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot, ri, ok := s.find(h); ok && s.recs[ri].token&^seenBit == tok {
		s.remove(slot, ri)
	}
	return nil
}

// Forget implements [Store.Forget]: it deletes key's record, pending or
// seen, whoever holds it, including records written by [Memory.Once].
func (m *Memory) Forget(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return ErrEmptyKey
	}
	h := m.hash(key)
	s := &m.shards[h.h1&m.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot, ri, ok := s.find(h); ok {
		s.remove(slot, ri)
	}
	return nil
}

// Once records a delivery's keys and stores its event in one step, so that
// no key is ever seen without its event stored, and no other caller sees a
// pending record in between. When none of keys is held or seen, Once calls
// store with the keys' shards locked; if store returns nil, it records every
// key as seen for ttl and returns [Reserved]. When a key is seen it returns
// [Seen], and when a key is held by a pending reservation (from [Memory.Reserve])
// it returns [Pending]; store is not called in either case. An error from
// store is returned as it is, and nothing is recorded.
//
// store runs while other calls on the same shards wait, so it must be quick
// and must not call the store. A hookguard Receiver uses Once to put an
// event into its in-memory queue: one locked round per key instead of a
// Reserve and a Commit. Records written by Once belong to no token: Release
// and Commit do not match them; [Memory.Forget] deletes them.
func (m *Memory) Once(ctx context.Context, keys []string, ttl time.Duration, store func() error) (Status, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, ErrEmptyKey
	}
	if ttl <= 0 {
		return 0, ErrInvalidTTL
	}
	// Up to four keys hash into arrays on the stack.
	var hb [4]keyHash
	var sb [4]int
	hs, idx := hb[:0], sb[:0]
	for _, k := range keys {
		if k == "" {
			return 0, ErrEmptyKey
		}
		h := m.hash(k)
		hs = append(hs, h)
		idx = append(idx, int(h.h1&m.mask))
	}
	// Lock each shard once, in ascending order, so that two calls never
	// wait for each other's locks.
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		m.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range idx {
			m.shards[i].mu.Unlock()
		}
	}()
	now := m.clock()
	for _, h := range hs {
		s := &m.shards[h.h1&m.mask]
		s.dropExpiredHead(now, 2)
		slot, ri, ok := s.find(h)
		if !ok {
			continue
		}
		if r := &s.recs[ri]; r.expires > now {
			if r.token&seenBit != 0 {
				return Seen, nil
			}
			return Pending, nil
		}
		s.remove(slot, ri) // expired: recorded anew below
		s.expirations++
	}
	if err := store(); err != nil {
		return 0, err
	}
	exp := deadline(now, ttl)
	for j, h := range hs {
		if slices.Contains(hs[:j], h) {
			continue // the same key twice: recorded already
		}
		s := &m.shards[h.h1&m.mask]
		s.makeRoom(now)
		s.insert(rec{h1: h.h1, h2: h.h2, token: seenBit, expires: exp})
	}
	return Reserved, nil
}

// Len returns the number of records whose TTL has not ended. It visits every
// record, so it is meant for tests and diagnostics, not for hot paths.
func (m *Memory) Len() int {
	now := m.clock()
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for j := range s.n {
			if r := &s.recs[s.ringIndex(j)]; r.h2 != 0 && r.expires > now {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// Stats returns a snapshot of the store's counters. It locks each shard in
// turn, so the snapshot is not atomic across shards.
func (m *Memory) Stats() MemoryStats {
	var st MemoryStats
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		st.Entries += s.live
		st.Evictions += s.evictions
		st.Expirations += s.expirations
		s.mu.Unlock()
	}
	return st
}

// clock returns the current time in nanoseconds since the store was made.
// Differences of time.Time values use the monotonic clock when both have
// one, so wall-clock steps do not move expiries.
func (m *Memory) clock() int64 {
	if m.now == nil {
		// Reads only the monotonic clock: time.Now reads the wall clock
		// too, which costs about as much again.
		return int64(time.Since(m.epoch))
	}
	return int64(m.now().Sub(m.epoch))
}

// keyHash is a key's 128-bit hash: h1 picks the shard and the index slot,
// and h2 is never 0, which marks a hole in the ring.
type keyHash struct{ h1, h2 uint64 }

func (m *Memory) hash(key string) keyHash {
	return keyHash{maphash.String(m.seed, key), maphash.String(m.seed2, key) | 1}
}

// tokenHash returns the hash a record keeps instead of the token, with the
// bit that marks a seen record cleared. Tokens are compared, never read
// back, and 63 bits make an accidental match negligible.
func (m *Memory) tokenHash(token string) uint64 {
	return maphash.String(m.seed, token) &^ seenBit
}

// deadline returns now+ttl, saturating instead of overflowing.
func deadline(now int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// seenBit is set in rec.token once the record is committed.
const seenBit = 1

// rec is one record: 32 bytes, and no pointer for the garbage collector
// to follow.
type rec struct {
	h1, h2  uint64 // the key's hash (keyHash); h2 == 0 marks a hole left by a removed record
	token   uint64 // token hash; the low bit is seenBit
	expires int64  // nanoseconds since Memory.epoch
}

// fp is the top half of the record's h1: the fingerprint its index slot
// holds.
func (r *rec) fp() uint32 { return uint32(r.h1 >> 32) }

// shard is one lock's worth of records.
//
// The records live in recs, a ring in reservation order: the oldest is at
// head, and removing a record from the middle leaves a hole (an empty key)
// that is skipped when it reaches the head or squeezed out when the full
// ring is compacted. That order is what eviction follows, at O(1) amortized
// cost per insert.
//
// slots is an open-addressing hash index over the ring with linear probing
// and backward-shift deletion, so it has no tombstones. A slot is 0 when
// empty; otherwise its high 32 bits are the top half of the key's hash and
// its low 32 bits are the record's ring index plus one. len(slots) is twice
// len(recs), so the index is at most half full.
type shard struct {
	mu          sync.Mutex
	recs        []rec    // ring; len is zero or a power of two
	slots       []uint64 // hash index into recs
	head        int      // ring index of the oldest item
	n           int      // items in the ring, holes included
	live        int      // records in the ring
	max         int      // bound on live
	evictions   uint64
	expirations uint64

	_ [64]byte // keep shards on separate cache lines
}

func (s *shard) ringIndex(i int) int { return (s.head + i) & (len(s.recs) - 1) }

// find returns the slot and ring index of the record of the key whose hash
// is h.
func (s *shard) find(h keyHash) (slot, ri int, ok bool) {
	if len(s.slots) == 0 {
		return 0, 0, false
	}
	mask := len(s.slots) - 1
	fp := h.h1 >> 32
	for i := int(fp) & mask; ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			return i, 0, false
		}
		if v>>32 == fp {
			ri := int(uint32(v)) - 1
			if r := &s.recs[ri]; r.h1 == h.h1 && r.h2 == h.h2 {
				return i, ri, true
			}
		}
	}
}

// index adds the record at ring index ri, with key fingerprint fp, to
// slots.
func (s *shard) index(fp uint32, ri int) {
	mask := len(s.slots) - 1
	i := int(fp) & mask
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = uint64(fp)<<32 | uint64(ri+1)
}

// slotOf returns the slot that points at ring index ri, whose record has
// key fingerprint fp.
func (s *shard) slotOf(fp uint32, ri int) int {
	mask := len(s.slots) - 1
	want := uint64(fp)<<32 | uint64(ri+1)
	for i := int(fp) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case want:
			return i
		case 0:
			panic("dedupe: memory store index out of sync with its ring")
		}
	}
}

// remove deletes the record at ring index ri, found at slot, leaving a hole.
func (s *shard) remove(slot, ri int) {
	s.recs[ri] = rec{}
	s.live--
	// Backward-shift deletion: move later entries of the probe sequence into
	// the gap unless that would put them before their home slot.
	mask := len(s.slots) - 1
	gap := slot
	for j := (gap + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		home := int(s.slots[j]>>32) & mask
		// The entry at j may move to gap when home is not cyclically in (gap, j].
		if (j-home)&mask >= (j-gap)&mask {
			s.slots[gap] = s.slots[j]
			gap = j
		}
	}
	s.slots[gap] = 0
}

// popHead drops the item at the head of the ring, removing its record if
// it is not a hole, and reports the record it removed.
func (s *shard) popHead() (r rec, removed bool) {
	r = s.recs[s.head]
	if r.h2 != 0 {
		s.remove(s.slotOf(r.fp(), s.head), s.head)
	}
	s.head = (s.head + 1) & (len(s.recs) - 1)
	s.n--
	if len(s.recs) > minShrink && s.n < len(s.recs)/8 {
		// Mostly empty after a burst: give memory back. The ring must
		// then grow by a factor of four before it is full again, so the
		// copying is O(1) amortized.
		s.resize(len(s.recs) / 2)
		s.reindex()
	}
	return r, r.h2 != 0
}

// minShrink is the ring size below which a ring is never shrunk.
const minShrink = 64

// dropExpiredHead looks at up to limit items at the head of the ring and
// drops holes and records whose TTL ended, stopping at the first live
// record. It keeps a quiet shard from holding expired records, without
// scanning.
func (s *shard) dropExpiredHead(now int64, limit int) {
	for ; limit > 0 && s.n > 0; limit-- {
		if r := &s.recs[s.head]; r.h2 != 0 && r.expires > now {
			return
		}
		if _, removed := s.popHead(); removed {
			s.expirations++
		}
	}
}

// makeRoom evicts the oldest records until one more fits.
func (s *shard) makeRoom(now int64) {
	for s.live >= s.max && s.n > 0 {
		if r, removed := s.popHead(); removed {
			if r.expires > now {
				s.evictions++
			} else {
				s.expirations++
			}
		}
	}
}

// insert appends r at the back of the ring. A full ring is compacted when
// at least half its items are holes and doubled otherwise, so a ring grows
// only while more than half of it is records; both rebuild the index.
func (s *shard) insert(r rec) {
	if s.n == len(s.recs) {
		if s.n >= 8 && 2*s.live <= s.n {
			s.compact()
		} else {
			s.resize(max(8, 2*len(s.recs)))
		}
		s.reindex()
	}
	ri := s.ringIndex(s.n)
	s.recs[ri] = r
	s.n++
	s.live++
	s.index(r.fp(), ri)
}

// resize moves the ring's items, in order, to the front of a new ring of
// size items (a power of two, at least s.n) and gives the index twice that
// many slots. The caller rebuilds the index.
func (s *shard) resize(size int) {
	old := s.recs
	s.recs = make([]rec, size)
	for i := range s.n {
		s.recs[i] = old[(s.head+i)&(len(old)-1)]
	}
	s.head = 0
	s.slots = make([]uint64, 2*len(s.recs))
}

// compact squeezes the holes out of the ring in place, keeping the order.
// Items move only towards the head, so none is overwritten before it is
// read.
func (s *shard) compact() {
	w := 0
	for i := range s.n {
		ri := s.ringIndex(i)
		r := s.recs[ri]
		if r.h2 == 0 {
			continue
		}
		s.recs[ri] = rec{}
		s.recs[s.ringIndex(w)] = r
		w++
	}
	s.n = w
}

// reindex rebuilds slots from the ring.
func (s *shard) reindex() {
	clear(s.slots)
	for i := range s.n {
		ri := s.ringIndex(i)
		if r := &s.recs[ri]; r.h2 != 0 {
			s.index(r.fp(), ri)
		}
	}
}
