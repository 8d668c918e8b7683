// Lua scripts run atomically by Redis: every instance sees one order of admissions.

/**
 * KEYS: requests, tokens, in-flight, spend hash.
 * ARGV: rpm, tpm, parallel, budget (-1 = none), reserve, budget expire-at ms (-1 = never),
 * shadow flags "rpm,tpm,parallel,budget" as "0101", window ms, in-flight ttl ms, persisted
 * spend (seeds a missing spend counter: after a Redis restart or flush).
 * Returns: { rejectedBy, wouldReject (comma list), requestsUsed, requestsTtl, tokensUsed,
 * tokensTtl, inFlight, spent, reserved, admitted (1/0) }.
 */
export const ADMIT_SCRIPT = `
local window = tonumber(ARGV[8])
local function ttl(key)
  local t = redis.call('PTTL', key)
  if t < 0 then return window end
  return t
end
local function num(v) return tonumber(v or '0') or 0 end
local shadow = ARGV[7]
local rejected = ''
local would = {}
local function check(index, name, over)
  if not over or rejected ~= '' then return end
  if string.sub(shadow, index, index) == '1' then table.insert(would, name) else rejected = name end
end
local rpm, tpm, par, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local reserve, expireAt = tonumber(ARGV[5]), tonumber(ARGV[6])
local seed = tonumber(ARGV[10])
if seed > 0 and redis.call('HSETNX', KEYS[4], 'spent', seed) == 1 and expireAt > 0 then redis.call('PEXPIREAT', KEYS[4], expireAt) end
local requests = num(redis.call('GET', KEYS[1]))
local tokens = num(redis.call('GET', KEYS[2]))
local inflight = num(redis.call('GET', KEYS[3]))
local spent = num(redis.call('HGET', KEYS[4], 'spent'))
local reserved = num(redis.call('HGET', KEYS[4], 'reserved'))
check(1, 'rpm', rpm >= 0 and requests >= rpm)
check(2, 'tpm', tpm >= 0 and tokens >= tpm)
check(3, 'parallel', par >= 0 and inflight >= par)
check(4, 'budget', budget >= 0 and (spent >= budget or spent + reserved + reserve > budget))
local admitted = 0
if rejected == '' then
  admitted = 1
  requests = redis.call('INCR', KEYS[1])
  if requests == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], window) end
  if par >= 0 then
    inflight = redis.call('INCR', KEYS[3])
    redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[9]))
  end
  if reserve > 0 then reserved = redis.call('HINCRBY', KEYS[4], 'reserved', reserve) end
  if expireAt > 0 then redis.call('PEXPIREAT', KEYS[4], expireAt) end
end
return { rejected, table.concat(would, ','), requests, ttl(KEYS[1]), tokens, ttl(KEYS[2]), inflight, spent, reserved, admitted }
`;

/**
 * KEYS: tokens, in-flight, spend hash.
 * ARGV: tokens, holds slot (1/0), reserve, cost, window ms, budget expire-at ms (-1 = never).
 */
export const SETTLE_SCRIPT = `
local tokens, slot, reserve, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if tokens > 0 then
  redis.call('INCRBY', KEYS[1], tokens)
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5])) end
end
if slot == 1 then
  if redis.call('DECR', KEYS[2]) < 0 then redis.call('SET', KEYS[2], 0) end
end
if reserve > 0 then
  if redis.call('HINCRBY', KEYS[3], 'reserved', -reserve) < 0 then redis.call('HSET', KEYS[3], 'reserved', 0) end
end
if cost > 0 then redis.call('HINCRBY', KEYS[3], 'spent', cost) end
if tonumber(ARGV[6]) > 0 then redis.call('PEXPIREAT', KEYS[3], tonumber(ARGV[6])) end
return 1
`;

/**
 * KEYS: spend hash. ARGV: spend to add (micro-USD), budget expire-at ms (-1 = never).
 * Adds spend counted elsewhere (the fail-open fallback during an outage) to the shared counter.
 */
export const ADD_SPEND_SCRIPT = `
redis.call('HINCRBY', KEYS[1], 'spent', tonumber(ARGV[1]))
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[2])) end
return 1
`;
