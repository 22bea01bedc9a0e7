package rediskit

import "github.com/redis/go-redis/v9"

// The queue's Lua scripts. Each runs atomically on one node: every key it
// touches is passed in KEYS and shares the queue's hash tag, so they work
// on Redis Cluster too.
var (
	// enqueueOnceScript: KEYS[1] stream, KEYS[2..] dedupe records;
	// ARGV nonce, token, ttl in ms, touch ("1" or "0"), then the entry's
	// fields and values. Returns {code, entry ID}: code 1 stored (or
	// stored already by this very call: a go-redis retry of a command
	// whose reply was lost; then the ID is ""), 2 a key is pending, 3 a
	// key is seen. With touch "1" a call that writes nothing rewrites a
	// record it found as it is (SET KEEPTTL): the write moves this
	// connection's replication offset past the write that made the
	// record, so a WAIT after it confirms that write reached the replicas.
	//
	// One record (the common case, one dedupe key) takes two commands,
	// SET NX then XADD: SET NX both checks and writes the record, and a
	// GET follows only when the record exists. If the XADD fails, the
	// record is deleted before the error is returned, so no record is
	// left without its event. (SET NX GET would save that GET but needs
	// Redis 7; this works on 6.2.) Several records are all checked with
	// GET before any is written.
	enqueueOnceScript = redis.NewScript(`
local mine = ARGV[1] .. ARGV[2]
if #KEYS == 2 and redis.call('SET', KEYS[2], 's' .. mine, 'NX', 'PX', ARGV[3]) then
  local id = redis.pcall('XADD', KEYS[1], '*', unpack(ARGV, 5))
  if type(id) == 'table' and id.err then
    redis.call('DEL', KEYS[2])
    return id
  end
  return {1, id}
end
local seen, pending, found, fv = false, false, nil, nil
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    if not found then found, fv = KEYS[i], v end
    if string.sub(v, 2) == mine then
      found, fv, seen, pending = KEYS[i], v, false, false
      break
    end
    if string.sub(v, 1, 1) == 's' then seen = true else pending = true end
  end
end
if found then
  if ARGV[4] == '1' then redis.call('SET', found, fv, 'KEEPTTL') end
  if seen then return {3, ''} end
  if pending then return {2, ''} end
  return {1, ''}
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 5))
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], 's' .. mine, 'PX', ARGV[3])
end
return {1, id}
`)

	// undoOnceScript: KEYS[1] stream, KEYS[2..] dedupe records; ARGV
	// nonce .. token of the call to undo, entry ID or "". Deletes the
	// records that call wrote, if they are still its own, and its entry,
	// so that a delivery answered 503 leaves nothing behind. Returns how
	// many records it deleted.
	undoOnceScript = redis.NewScript(`
local n = 0
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 2) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
if ARGV[2] ~= '' then redis.call('XDEL', KEYS[1], ARGV[2]) end
return n
`)

	// deadLetterScript: KEYS[1] stream, KEYS[2] dead-letter stream,
	// KEYS[3] attempts hash, KEYS[4..] the event's dedupe records to
	// release; ARGV group, entry ID, then the dead letter's fields and
	// values. Moves the entry only if it was still pending, so that it is
	// dead-lettered once, and releases the records in the same step, so
	// that a redelivery is taken in from the moment the event is a dead
	// letter. Returns 1 moved, 0 not pending.
	deadLetterScript = redis.NewScript(`
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
`)

	// touchScript: KEYS[1] stream; ARGV group, consumer, entry IDs.
	// Resets the idle time of every entry the consumer still owns, so that
	// no other consumer reclaims an entry that is being handled or waits
	// for a retry. Returns two lists: the IDs still pending but owned by
	// another consumer, and the IDs no longer pending at all
	// (acknowledged, by this consumer or another). Telling them apart lets
	// the caller ignore the entries it acknowledged itself since it chose
	// the IDs.
	touchScript = redis.NewScript(`
local other, gone = {}, {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if not p[1] then
    table.insert(gone, ARGV[i])
  elseif p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    table.insert(other, ARGV[i])
  end
end
return {other, gone}
`)

	// trimScript: KEYS[1] stream; ARGV[1] the oldest ID retention wants
	// kept. Trims with MINID below the oldest entry that any consumer
	// group still needs: its oldest pending entry, and its last delivered
	// entry (everything after it is undelivered). A stream without groups
	// is not trimmed. Returns how many entries were removed.
	trimScript = redis.NewScript(`
local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local floor = ARGV[1]
for _, g in ipairs(groups) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  local cand = f['last-delivered-id']
  if f['pending'] > 0 then
    local s = redis.call('XPENDING', KEYS[1], f['name'])
    if less(s[2], cand) then cand = s[2] end
  end
  if less(cand, floor) then floor = cand end
end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)
`)
)
