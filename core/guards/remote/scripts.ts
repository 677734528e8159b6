/**
 * The Lua scripts of the shared guards. Each acquire, release or renewal is
 * one script, so Redis runs it atomically; times come from Redis's own clock
 * (`TIME`), never from the runners', so runners whose clocks disagree still
 * share one bucket and one set of lease expiries.
 *
 * A lock is a sorted set of leases (member: lease id, score: expiry in ms of
 * Redis time) beside a hash of each lease's limit. A bucket is a hash of its
 * tokens and the Redis time of its last refill.
 */

/** Redis time in milliseconds, as the first lines of every script. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Drops expired leases (their runner died or lost its connection). */
const PURGE = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('HDEL', KEYS[2], unpack(expired))
end
`;

/** The keys live as long as their longest lease, so an abandoned lock leaves nothing behind. */
const KEEP_UNTIL_LAST_LEASE = `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last > 0 then
  local ms = tonumber(last[2]) - now + 1000
  redis.call('PEXPIRE', KEYS[1], ms)
  redis.call('PEXPIRE', KEYS[2], ms)
end
`;

/**
 * KEYS: leases (zset), limits (hash). ARGV: lease id, limit, ttl ms.
 * Grants when the holders, this one included, stay within its limit and
 * every holder's. Returns 1 when granted, else -(ms until the earliest lease
 * expires), or -1 when no lease expires sooner than a release.
 */
export const LOCK_ACQUIRE = `${NOW}${PURGE}
local limit = tonumber(ARGV[2])
local holders = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local bound = limit
local earliest = nil
for i = 1, #holders, 2 do
  local l = tonumber(redis.call('HGET', KEYS[2], holders[i]))
  if l and l < bound then bound = l end
  local expiry = tonumber(holders[i + 1])
  if earliest == nil or expiry < earliest then earliest = expiry end
end
if #holders / 2 + 1 > bound then
  if earliest == nil then return -1 end
  return -math.max(1, earliest - now)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], limit)
${KEEP_UNTIL_LAST_LEASE}
return 1
`;

/** KEYS: leases, limits. ARGV: channel, lease ids… Returns how many were still held; tells waiters there is room. */
export const LOCK_RELEASE = `
local removed = 0
for i = 2, #ARGV do
  removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
if removed > 0 then redis.call('PUBLISH', ARGV[1], 'room') end
return removed
`;

/**
 * KEYS: leases, limits. ARGV: ttl ms, lease ids… Extends the leases still
 * held; returns the ids that were not (expired, or the server lost them).
 */
export const LOCK_RENEW = `${NOW}${PURGE}
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
${KEEP_UNTIL_LAST_LEASE}
return lost
`;

/** Refills the bucket in KEYS[1] up to now at ARGV[1] tokens/s, at most ARGV[2]. Sets tokens, rate, burst. */
const REFILL = `${NOW}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = burst
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
end
if at == nil or now > at then at = now end
`;

/** A full bucket is the same as no bucket: the key lives until it would be full again. */
const STORE_BUCKET = `
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
`;

/**
 * KEYS: bucket. ARGV: per_second, burst, most. Takes as many whole tokens as
 * there are, up to `most`, and returns how many (>= 1); with none, returns
 * -(ms until the next one).
 */
export const BUCKET_TAKE = `${REFILL}
local n = math.min(tonumber(ARGV[3]), math.floor(tokens + 1e-9))
if n < 1 then
  return -math.max(1, math.ceil((1 - tokens) * 1000 / rate))
end
tokens = math.max(0, tokens - n)
${STORE_BUCKET}
return n
`;

/**
 * KEYS: bucket. ARGV: per_second, burst, amount, channel. Gives back tokens
 * taken but never used, never above the burst: the bucket ends no fuller than
 * had they never been taken, so the guarantee holds.
 */
export const BUCKET_REFUND = `${REFILL}
tokens = math.min(burst, tokens + tonumber(ARGV[3]))
${STORE_BUCKET}
redis.call('PUBLISH', ARGV[4], 'room')
return 1
`;
