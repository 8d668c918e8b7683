// Lua scripts run atomically by Redis: every instance sees one order of admissions.
//
// Leases: each admitted request has an id chosen by the instance. Its parallel slot is a member
// of the scope's `leases` sorted set and its reservation a field `r:<id>` of the period's spend
// hash (summed in `held`, indexed by deadline in the period's `holds` sorted set). Giving a lease
// back removes exactly those entries, so it can be sent again (after a timeout) without freeing
// another lease's share, and a lease nobody gives back ends at its deadline (Redis clock).
//
// Spend markers: a settlement's cost, and each debt replayed to the counter later, is added
// only by the script that marks its id paid: a member of the period's `paid` sorted set
// (`limits:{<key>}:paid:<period>`, score = the marker's deadline, the marker ttl (2 minutes by
// default) ahead on the Redis clock), added with `ZADD NX` in the same script. Sent twice, it is counted once while the
// member lives. One set per key and period, not one key per settlement: members past their
// deadline are dropped a bounded number per script, and the set itself ends a ttl after its
// last member was added.

/**
 * Shared by the scripts. `now()`: Redis's clock in ms. `release(spend, holds, id)`: gives back
 * one lease's reservation once. `expire(slots, spend, holds, now)`: drops slots past their
 * deadline and releases up to 100 expired reservations (bounded work per call).
 */
const LEASE_FUNCTIONS = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function release(spend, holds, id)
  redis.call('ZREM', holds, id)
  local amount = tonumber(redis.call('HGET', spend, 'r:' .. id))
  if amount == nil then return end
  redis.call('HDEL', spend, 'r:' .. id)
  if redis.call('HINCRBY', spend, 'held', -amount) < 0 then redis.call('HSET', spend, 'held', 0) end
end
local function expire(slots, spend, holds, at)
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', at)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', holds, '-inf', at, 'LIMIT', 0, 100)) do release(spend, holds, id) end
end
`;

/**
 * Shared by the scripts that count requests and tokens: the sliding window of sliding-window.ts,
 * the same operations in the same order (Lua numbers are doubles, as JavaScript's), so Redis and
 * the memory backend give the same numbers. A counter is a hash { start, cur, prev } (the current
 * window's start, ms, and the counts of it and of the window before), ending two windows after
 * its last write: its count weighs on the estimate that long. `roll(c, at, window)`: rollWindow.
 * `counter(key, at, window)`: the
 * hash moved forward to the window holding `at`, nil when there is none (nothing is written:
 * rolling forward again later lands on the same windows). `estimate`, `resetIn`, `retryIn`:
 * windowEstimate, windowResetMs, windowRetryMs (`admitsAt`: its final check). `store(key, c, window)`: writes it back.
 * `decimal(x)`: a fractional number as a string that reads back exactly (Redis turns a Lua
 * number in a reply into an integer).
 */
const WINDOW_FUNCTIONS = `
local function roll(c, at, window)
  local elapsed = at - c.start
  if elapsed >= window then
    if elapsed < 2 * window then c.prev = c.cur else c.prev = 0 end
    c.cur = 0
    c.start = c.start + window * math.floor(elapsed / window)
  end
end
local function counter(key, at, window)
  local s = redis.call('HMGET', key, 'start', 'cur', 'prev')
  local start = tonumber(s[1])
  if start == nil then return nil end
  local c = { start = start, cur = tonumber(s[2]) or 0, prev = tonumber(s[3]) or 0 }
  roll(c, at, window)
  return c
end
local function elapsedIn(c, at) return math.max(0, at - c.start) end
local function estimate(c, at, window) return c.cur + c.prev * (1 - elapsedIn(c, at) / window) end
local function resetIn(c, at, window)
  local elapsed = elapsedIn(c, at)
  if c.cur > 0 then return 2 * window - elapsed end
  if c.prev > 0 then return window - elapsed end
  return 0
end
local function admitsAt(c, at, window, limit)
  local later = { start = c.start, cur = c.cur, prev = c.prev }
  roll(later, at, window)
  return estimate(later, at, window) < limit
end
local function retryIn(c, at, window, limit)
  local elapsed = elapsedIn(c, at)
  if limit <= 0 or (c.cur == 0 and c.prev == 0) then return math.ceil(window - elapsed) end
  local wait
  if c.cur >= limit then
    wait = math.ceil(window - elapsed) + math.floor(window * (1 - limit / c.cur)) + 1
  else
    local admittedAt = math.floor(window * (1 - (limit - c.cur) / c.prev)) + 1
    wait = math.min(math.max(admittedAt - elapsed, 0), math.ceil(window - elapsed))
  end
  local step, from = 0, math.max(at, c.start)
  while step < 2 and not admitsAt(c, from + wait, window, limit) do
    wait = wait + 1
    step = step + 1
  end
  return wait
end
local function store(key, c, window)
  redis.call('HSET', key, 'start', string.format('%d', c.start), 'cur', string.format('%d', c.cur),
    'prev', string.format('%d', c.prev))
  redis.call('PEXPIRE', key, 2 * window)
end
local function decimal(x) return string.format('%.17g', x) end
`;

/**
 * Shared by the scripts that add spend. `prunePaid(paid, at, count)`: drops up to `count`
 * markers past their deadline (bounded work per call). `markPaid(paid, id, deadline)`: true
 * only for the call that adds the id (`ZADD NX`): the one that adds its spend.
 * `keepPaid(paid, ttl)`: the set ends a ttl after its newest marker (never sooner: an
 * instance with a shorter ttl does not cut another's markers short).
 */
const PAID_FUNCTIONS = `
local function prunePaid(paid, at, count)
  local old = redis.call('ZRANGEBYSCORE', paid, '-inf', at, 'LIMIT', 0, count)
  if #old > 0 then redis.call('ZREM', paid, unpack(old)) end
end
local function markPaid(paid, id, deadline)
  return redis.call('ZADD', paid, 'NX', deadline, id) == 1
end
local function keepPaid(paid, ttl)
  -- a set just made has no expiry yet (-1): below any ttl
  if redis.call('PTTL', paid) < ttl then redis.call('PEXPIRE', paid, ttl) end
end
`;

/**
 * KEYS: requests, tokens (sliding-window hashes), lease slots (zset), spend hash, reservation
 * deadlines (zset).
 * ARGV: rpm, tpm, parallel, budget (-1 = none), reserve, budget expire-at ms (-1 = never),
 * shadow flags "rpm,tpm,parallel,budget" as "0101", window ms, lease ttl ms, persisted
 * spend (the spend counter's floor: after a Redis restart or flush), lease id, spend owed
 * by the caller (counted against the budget, not recorded), then the ids of leases of this key
 * to give back first (their release failed earlier: given back as {@link RELEASE_SCRIPT} does,
 * the reservation only where it is of this period).
 * Returns: { rejectedBy, wouldReject (comma list), requests estimate (decimal string, after
 * this admission), requests retry-after ms (0 unless rpm is over), requests reset ms, tokens
 * estimate (decimal string), tokens retry-after ms (0 unless tpm is over), tokens reset ms,
 * inFlight, spent, reserved, admitted (1/0) }. rpm and tpm are over when the estimate has
 * reached them (a request is admitted while it is below).
 */
export const ADMIT_SCRIPT = `${LEASE_FUNCTIONS}${WINDOW_FUNCTIONS}
local window = tonumber(ARGV[8])
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
local leaseTtl, seed, id, owed = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11], tonumber(ARGV[12])
local at = now()
-- this instance's leases whose release Redis did not answer (an outage): this key's next
-- admission does not find its slots still held by requests that ended
for i = 13, #ARGV do
  redis.call('ZREM', KEYS[3], ARGV[i])
  release(KEYS[4], KEYS[5], ARGV[i])
end
expire(KEYS[3], KEYS[4], KEYS[5], at)
-- the counter is at least the persisted spend: it starts from it when missing, and catches up
-- with it when it was made without it (a settlement before a slow first read of the store)
if seed > 0 and num(redis.call('HGET', KEYS[4], 'spent')) < seed then
  local created = redis.call('EXISTS', KEYS[4]) == 0
  redis.call('HSET', KEYS[4], 'spent', seed)
  if created and expireAt > 0 then redis.call('PEXPIREAT', KEYS[4], expireAt) end
end
-- the token window opens with the first tokens settled, not here: nothing is written for it
local rc = counter(KEYS[1], at, window) or { start = at, cur = 0, prev = 0 }
local tc = counter(KEYS[2], at, window)
local requests = estimate(rc, at, window)
local tokens = 0
if tc then tokens = estimate(tc, at, window) end
local rpmOver = rpm >= 0 and requests >= rpm
local tpmOver = tpm >= 0 and tokens >= tpm
local inflight = redis.call('ZCARD', KEYS[3])
local spent = num(redis.call('HGET', KEYS[4], 'spent'))
local reserved = num(redis.call('HGET', KEYS[4], 'held'))
check(1, 'rpm', rpmOver)
check(2, 'tpm', tpmOver)
check(3, 'parallel', par >= 0 and inflight >= par)
check(4, 'budget', budget >= 0 and (spent + owed >= budget or spent + owed + reserved + reserve > budget))
local admitted = 0
if rejected == '' then
  admitted = 1
  rc.cur = rc.cur + 1
  store(KEYS[1], rc, window)
  requests = estimate(rc, at, window)
  if par >= 0 then
    redis.call('ZADD', KEYS[3], 'NX', at + leaseTtl, id)
    inflight = redis.call('ZCARD', KEYS[3])
    -- every member's deadline is at most a ttl away: the set goes when its last lease would
    redis.call('PEXPIRE', KEYS[3], leaseTtl)
  end
  -- HSETNX: the same lease admitted twice (a resent command) reserves once
  if reserve > 0 and redis.call('HSETNX', KEYS[4], 'r:' .. id, reserve) == 1 then
    reserved = redis.call('HINCRBY', KEYS[4], 'held', reserve)
    redis.call('ZADD', KEYS[5], at + leaseTtl, id)
    if expireAt > 0 then redis.call('PEXPIREAT', KEYS[5], expireAt) end
  end
  if expireAt > 0 then redis.call('PEXPIREAT', KEYS[4], expireAt) end
end
local requestsRetry, tokensRetry, tokensReset = 0, 0, 0
if rpmOver then requestsRetry = retryIn(rc, at, window, rpm) end
if tc then
  tokensReset = resetIn(tc, at, window)
  if tpmOver then tokensRetry = retryIn(tc, at, window, tpm) end
end
return { rejected, table.concat(would, ','), decimal(requests), requestsRetry, resetIn(rc, at, window),
  decimal(tokens), tokensRetry, tokensReset, inflight, spent, reserved, admitted }
`;

/**
 * KEYS: tokens (sliding-window hash), lease slots, spend hash, reservation deadlines, spend
 * markers (zset) of the period.
 * ARGV: tokens, lease id, cost, window ms, budget expire-at ms (-1 = never), marker ttl ms.
 * Gives the lease's slot and reservation back if it still holds them (idempotent), and adds
 * tokens (not idempotent: send them once) and cost. The cost is added only by the command that
 * marks the lease's id paid (`ZADD NX`), so a replay of it under the lease's id
 * ({@link ADD_SPEND_SCRIPT}) after a settlement that timed out but ran adds nothing more, for as
 * long as the marker lives. With tokens and cost 0 it is a release.
 */
export const SETTLE_SCRIPT = `${LEASE_FUNCTIONS}${WINDOW_FUNCTIONS}${PAID_FUNCTIONS}
local tokens, id, cost = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local at = now()
if tokens > 0 then
  local window = tonumber(ARGV[4])
  local c = counter(KEYS[1], at, window) or { start = at, cur = 0, prev = 0 }
  c.cur = c.cur + tokens
  store(KEYS[1], c, window)
end
redis.call('ZREM', KEYS[2], id)
release(KEYS[3], KEYS[4], id)
if cost > 0 then
  local ttl = tonumber(ARGV[6])
  prunePaid(KEYS[5], at, 100)
  if markPaid(KEYS[5], id, at + ttl) then
    redis.call('HINCRBY', KEYS[3], 'spent', cost)
    if tonumber(ARGV[5]) > 0 then redis.call('PEXPIREAT', KEYS[3], tonumber(ARGV[5])) end
  end
  keepPaid(KEYS[5], ttl)
end
return 1
`;

/**
 * KEYS: requests, tokens (sliding-window hashes), lease slots, spend hash, reservation deadlines.
 * ARGV: window ms.
 * Drops expired leases first, so what it reports is what an admission would count; writes no
 * counter.
 * Returns: { requests estimate (decimal string), requests reset ms, tokens estimate (decimal
 * string), tokens reset ms, inFlight, spent, reserved }.
 */
export const USAGE_SCRIPT = `${LEASE_FUNCTIONS}${WINDOW_FUNCTIONS}
local function num(v) return tonumber(v or '0') or 0 end
local at, window = now(), tonumber(ARGV[1])
expire(KEYS[3], KEYS[4], KEYS[5], at)
local function report(key)
  local c = counter(key, at, window)
  if c == nil then return '0', 0 end
  return decimal(estimate(c, at, window)), resetIn(c, at, window)
end
local requests, requestsReset = report(KEYS[1])
local tokens, tokensReset = report(KEYS[2])
return { requests, requestsReset, tokens, tokensReset,
  redis.call('ZCARD', KEYS[3]), num(redis.call('HGET', KEYS[4], 'spent')), num(redis.call('HGET', KEYS[4], 'held')) }
`;

/**
 * KEYS: lease slots, spend hash, reservation deadlines (of one key and period). ARGV: lease ids.
 * Gives each lease's slot and reservation back if it still holds them (idempotent): the
 * releases sent again after Redis failed to answer them.
 */
export const RELEASE_SCRIPT = `${LEASE_FUNCTIONS}
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  release(KEYS[2], KEYS[3], ARGV[i])
end
return #ARGV
`;

/**
 * KEYS: spend hash, spend markers (zset) of the period. ARGV: budget expire-at ms (-1 = never),
 * marker ttl ms, then each debt's id and spend (micro-USD), in pairs.
 * Adds spend counted elsewhere (the fail-open fallback during an outage, a settlement Redis did
 * not answer) to the shared counter, each debt once: only where its id is not marked paid yet
 * (`ZADD NX`; by an earlier replay or by the settlement itself), so a debt sent again after a
 * replay or a settlement that timed out but ran is not counted twice. Drops as many expired
 * markers as it may add, and 100 more. Returns the spend added.
 */
export const ADD_SPEND_SCRIPT = `${LEASE_FUNCTIONS}${PAID_FUNCTIONS}
local at, ttl = now(), tonumber(ARGV[2])
local debts = (#ARGV - 2) / 2
prunePaid(KEYS[2], at, debts + 100)
local added = 0
for i = 3, #ARGV, 2 do
  if markPaid(KEYS[2], ARGV[i], at + ttl) then added = added + tonumber(ARGV[i + 1]) end
end
if debts > 0 then keepPaid(KEYS[2], ttl) end
if added > 0 then
  redis.call('HINCRBY', KEYS[1], 'spent', added)
  if tonumber(ARGV[1]) > 0 then redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[1])) end
end
return added
`;

/**
 * KEYS: lease slots (zset), reservation deadlines (zset) of one key and period.
 * ARGV: lease ttl ms, then the ids of this instance's live leases there.
 * Moves each lease's deadline to a ttl from now (Redis clock), only where it is still a
 * member (`XX`: a lease already given back stays given back). Returns the slots renewed.
 */
export const RENEW_SCRIPT = `${LEASE_FUNCTIONS}
local ttl = tonumber(ARGV[1])
local deadline = now() + ttl
local renewed = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
    renewed = renewed + 1
  end
  redis.call('ZADD', KEYS[2], 'XX', deadline, ARGV[i])
end
-- as at admission: the set goes when its last lease would
if renewed > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return renewed
`;
