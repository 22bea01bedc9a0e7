package rediskit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookguard/hookguard/dedupe"
	"github.com/hookguard/hookguard/internal/storeargs"
)

// DefaultStorePrefix is the prefix of the keys of a [Store] made by
// [NewStore] without [WithPrefix].
const DefaultStorePrefix = "hookguard:dedupe:"

// A record's value is one state byte ('p' pending, 's' seen), a 16-byte
// nonce unique to the call that wrote it, then the delivery's token. The
// token lets only its owner commit or release the record; the nonce lets
// a call recognise its own write when go-redis retries a command whose
// reply was lost (the retry finds the record it wrote, and says Reserved,
// not Pending).
const nonceLen = 16

var (
	// reserveScript: KEYS[1] record; ARGV nonce, token, ttl in ms.
	// Returns 1 reserved, 2 pending, 3 seen.
	reserveScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p' .. ARGV[1] .. ARGV[2], 'PX', ARGV[3])
  return 1
end
if string.sub(v, 2) == ARGV[1] .. ARGV[2] then
  return 1
end
if string.sub(v, 1, 1) == 's' then
  return 3
end
return 2
`)
	// commitScript: KEYS[1] record; ARGV token, ttl in ms. Returns 1 when
	// token held the record, which is now seen, else 0.
	commitScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 18) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], 's' .. string.sub(v, 2), 'PX', ARGV[2])
return 1
`)
	// releaseScript: KEYS[1] record; ARGV token. Deletes the record only
	// if token holds it.
	releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 18) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)
)

// StoreOption configures a [Store].
type StoreOption func(*Store)

// WithPrefix sets the prefix of every key the store writes (default
// [DefaultStorePrefix]). Give each application its own prefix when they
// share a Redis. The receiver already scopes keys by provider (and
// endpoint) after the prefix.
func WithPrefix(p string) StoreOption {
	return func(s *Store) { s.prefix = p }
}

// Store is a [dedupe.Store] in Redis, for receivers on several instances.
// Each call is one round trip: a Lua script run with EVALSHA, on one key,
// so it works on Redis Cluster as it is. Reserve writes the record with
// the pending TTL; Commit rewrites it as seen with the dedupe TTL; Release
// deletes it, only if the caller's token still holds it, so a slow
// instance can never release or confirm another instance's reservation.
//
// Every call is bounded by its context: give it a deadline (the receiver
// does, see hookguard.WithAckTimeout). Store is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	layout *layout // a sharded queue's store: each record on its key's home shard
}

var _ dedupe.Store = (*Store)(nil)

// NewStore returns a Store that keeps its records in rdb. It does no I/O;
// call [CheckDurability] at start to learn whether the server may lose
// records. It returns [ErrNilClient] if rdb is nil, and never panics.
func NewStore(rdb redis.UniversalClient, opts ...StoreOption) (*Store, error) {
	if rdb == nil {
		return nil, ErrNilClient
	}
	s := &Store{rdb: rdb, prefix: DefaultStorePrefix}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s, nil
}

// Key returns the Redis key of the record of a dedupe key. In the store
// of a queue with several shards ([WithShards]), that is on the key's
// home shard.
func (s *Store) Key(key string) string {
	if s.layout != nil && len(s.layout.shards) > 1 {
		return s.layout.record(key)
	}
	return s.prefix + key
}

// shardCount is how many shards the store's records are spread over.
func (s *Store) shardCount() int {
	if s.layout == nil {
		return 1
	}
	return len(s.layout.shards)
}

// ttlMillis rounds ttl up to whole milliseconds, Redis's resolution.
func ttlMillis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// newNonce returns nonceLen random hex characters.
func newNonce() string {
	var b [nonceLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Reserve holds key for token for ttl unless it is held or seen already.
func (s *Store) Reserve(ctx context.Context, key, token string, ttl time.Duration) (dedupe.Status, error) {
	if err := storeargs.Check(key, token, ttl, true); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := reserveScript.Run(ctx, s.rdb, []string{s.Key(key)}, newNonce(), token, ttlMillis(ttl)).Int()
	return reserveStatus("reserve", n, err)
}

// reserveStatus reads the reply of reserveScript and enqueueOnceScript,
// which op ran: 1 reserved, 2 pending, 3 seen.
func reserveStatus(op string, n int, err error) (dedupe.Status, error) {
	if err != nil {
		return 0, fmt.Errorf("rediskit: %s: %w", op, err)
	}
	switch n {
	case 1:
		return dedupe.Reserved, nil
	case 3:
		return dedupe.Seen, nil
	}
	return dedupe.Pending, nil
}

// Commit marks key as seen for ttl, if token still holds it; otherwise it
// returns [dedupe.ErrNotOwner].
func (s *Store) Commit(ctx context.Context, key, token string, ttl time.Duration) error {
	if err := storeargs.Check(key, token, ttl, true); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := commitScript.Run(ctx, s.rdb, []string{s.Key(key)}, token, ttlMillis(ttl)).Int()
	if err != nil {
		return fmt.Errorf("rediskit: commit: %w", err)
	}
	if n != 1 {
		return dedupe.ErrNotOwner
	}
	return nil
}

// Release deletes key's record if token holds it; otherwise it does
// nothing.
func (s *Store) Release(ctx context.Context, key, token string) error {
	if err := storeargs.Check(key, token, 0, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, s.rdb, []string{s.Key(key)}, token).Err(); err != nil {
		return fmt.Errorf("rediskit: release: %w", err)
	}
	return nil
}

// Forget deletes key's record, pending or seen, whoever holds it (one DEL):
// the next Reserve of key succeeds. See [dedupe.Store].
func (s *Store) Forget(ctx context.Context, key string) error {
	if key == "" {
		return dedupe.ErrEmptyKey
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.rdb.Del(ctx, s.Key(key)).Err(); err != nil {
		return fmt.Errorf("rediskit: forget: %w", err)
	}
	return nil
}
