import { GCRA_TOLERANCE_MS } from './gcra.js';

/**
 * The Redis limiter's one Lua script (see redis-limiter.ts for the key layout). One script with an
 * operation argument, so one SHA to load and one NOSCRIPT fallback. Its GCRA is gcra.ts line for
 * line (both are IEEE doubles doing the same operations in the same order: the same answers; the
 * contract suite holds them to it). A Lua number passed to redis.call is written with %.17g by
 * Redis itself (exact), so the admission path passes numbers as they are. Numbers leave the script
 * as integer replies when integral, else as strings formatted with %.17g: a Lua number returned
 * as is would be truncated to an integer, and tostring keeps only 14 digits.
 *
 * Subject hash fields: n (requests admitted), rt / tt (GCRA TAT of requests / tokens per minute),
 * f (requests in flight), s|<period> / r|<period> (spent / reserved nano-dollars), l|<period>
 * (the budget the last admission brought, for the metrics), x (when its TTL was last renewed), c
 * (when the state was created: a settle older than it finds its reservation lost with Redis's data).
 * Reservation hash fields (layout 2: three or four fields, not 22, as writing a wide hash per
 * admission was a large part of the script's cost): st (open, swept, settled), k<i> the key of
 * subject i, and d, packed `at|et|ec|dk|mk|n|` (admitted at, estimated tokens / cost, day and
 * month period keys at admission, subject count) then per subject `c|tp|b|` (slot taken, TPM
 * limit, the period key its budget reserved in, '' when none). Subject keys are fields of their
 * own, as ids may hold any character. A settled reservation keeps st alone (a tombstone until the
 * tombstone TTL: what makes a repeated settle charge nothing); a swept one keeps every field, as
 * its late settle corrects the charge from them.
 */

/**
 * Bumped with any change of the script's keys or fields, or of their units: it names every key (see
 * redis-limiter.ts), and the script's text, hence its SHA, holds it. 3: money in nano-dollars (2 held
 * micro-dollars; its keys are left to expire, never read as nano-dollars).
 */
export const LAYOUT_VERSION = 3;

export const LIMITER_SCRIPT = `
local LAYOUT = ${LAYOUT_VERSION}
local MINUTE = 60000
local function fmt(x) return string.format('%.17g', x) end
-- Integral values leave as integer replies (no formatting); others as fmt strings.
local function int(x) if x % 1 == 0 and x > -9007199254740992 and x < 9007199254740992 then return x end return fmt(x) end
local function num(x) if x == false or x == nil or x == '' then return nil end return tonumber(x) end

-- TOL: gcra.ts's GCRA_TOLERANCE_MS (differences this small are float error at epoch-ms magnitudes).
local TOL = ${GCRA_TOLERANCE_MS}
local function gcra(tat, now, limit, window, cost)
  local interval = window / limit
  local start = now
  if tat ~= nil and tat > now then start = tat end
  local checked = start + math.min(cost, limit) * interval
  local allowAt = checked - window
  if now + TOL < allowAt then
    return false, start, math.ceil(allowAt - now), math.max(0, math.floor((now + window - start + TOL) / interval)), math.ceil(start - now)
  end
  local nxt = start + cost * interval
  return true, nxt, 0, math.max(0, math.floor((now + window - nxt + TOL) / interval)), math.ceil(nxt - now)
end

-- A reservation: st, then d packed as 'at|et|ec|dk|mk|n|' and per subject 'c|tp|b|', and k<i>.
local function load(r)
  local h = redis.call('HGETALL', r)
  if #h == 0 then return nil end
  local m = {}
  for i = 1, #h, 2 do m[h[i]] = h[i + 1] end
  -- A tombstone without the reservation (written by 'settle' of a lost one, or by 'replay').
  if m.d == nil then return {st = m.st, n = 0, s = {}} end
  local d = {}
  for x in string.gmatch(m.d, '([^|]*)|') do d[#d + 1] = x end
  local v = {st = m.st, et = tonumber(d[2]), ec = tonumber(d[3]), dk = d[4], mk = d[5], n = tonumber(d[6]), s = {}}
  for i = 1, v.n do
    local b = 6 + (i - 1) * 3
    v.s[i] = {key = m['k' .. i], c = d[b + 1], tpm = num(d[b + 2]), b = d[b + 3]}
  end
  return v
end

-- Gives back what a reservation took, charging 'tokens' and 'cost' as its use (its estimate when
-- swept). After the sweeper ('swept'): only the difference between the estimate and the use.
local function release(v, tokens, cost, swept)
  local periods = {'total', v.dk, v.mk}
  local charge = swept and (cost - v.ec) or cost
  for i = 1, v.n do
    local s = v.s[i]
    local key = s.key
    local f = redis.call('HMGET', key, 'f', 'tt', 's|total', 's|' .. v.dk, 's|' .. v.mk, 'r|' .. s.b)
    local w = {}
    local gone = false
    if not swept and s.c == '1' then
      local left = (num(f[1]) or 0) - 1
      if left <= 0 then gone = true else w[#w + 1] = 'f'; w[#w + 1] = left end
    end
    if s.tpm ~= nil then
      local tat = num(f[2])
      if tat ~= nil then w[#w + 1] = 'tt'; w[#w + 1] = tat + (tokens - v.et) * (MINUTE / s.tpm) end
    end
    for j, p in ipairs(periods) do
      local spent = num(f[2 + j])
      if spent ~= nil then
        if not swept and s.b == p then
          w[#w + 1] = 'r|' .. p
          w[#w + 1] = math.max(0, (num(f[6]) or 0) - v.ec)
        end
        w[#w + 1] = 's|' .. p
        w[#w + 1] = spent + charge
      end
    end
    if #w > 0 then redis.call('HSET', key, unpack(w)) end
    if gone then redis.call('HDEL', key, 'f') end
  end
end

-- Settles the expired reservations of one hash tag as unfinished requests charged their estimate.
local function sweep(prefix, dl, now, max, tomb)
  local ids = redis.call('ZRANGEBYSCORE', dl, '-inf', now, 'LIMIT', 0, max)
  for _, id in ipairs(ids) do
    local r = prefix .. 'r:' .. id
    local v = load(r)
    if v ~= nil and v.st == 'open' then
      release(v, v.et, v.ec, false)
      redis.call('HSET', r, 'st', 'swept')
      redis.call('PEXPIRE', r, tomb)
    end
    redis.call('ZREM', dl, id)
  end
  return #ids
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Adds 'cost' to the spend of the periods (lifetime, day, month) each subject already holds, and
-- 'reqs' to its request count if it holds one. Counters a subject does not hold are left for the
-- store's seed, which then includes the request once its usage is written. 'since': only subjects
-- whose state was created after it (c).
local function charge(first, reqs, cost, dk, mk, since)
  for i = first, #KEYS do
    local key = KEYS[i]
    local f = redis.call('HMGET', key, 'n', 's|total', 's|' .. dk, 's|' .. mk, 'c')
    local w = {}
    if since ~= nil and (num(f[5]) or 0) <= since then f = {false, false, false, false} end
    if reqs > 0 and f[1] ~= false then w[#w + 1] = 'n'; w[#w + 1] = tonumber(f[1]) + reqs end
    if cost ~= 0 then
      for j, p in ipairs({'total', dk, mk}) do
        if f[1 + j] ~= false then w[#w + 1] = 's|' .. p; w[#w + 1] = tonumber(f[1 + j]) + cost end
      end
    end
    if #w > 0 then redis.call('HSET', key, unpack(w)) end
  end
end

local op = ARGV[1]

if op == 'settle' then
  -- KEYS: reservation, deadlines, subject 1..n. ARGV: op, request id, tokens, cost, tombstone ms,
  -- charge ('1': this Redis admitted the request), day and month keys of its admission, admitted at.
  local r = KEYS[1]
  local v = load(r)
  if v == nil then
    -- Admitted here, yet its reservation is gone: if a subject's state was created after the
    -- admission (c), Redis lost its data meanwhile and the store seeded it without this request's
    -- spend: it is charged there (its request count already has it: the seed counts those in flight).
    -- A subject older than the admission never held it: a request id Redis never admitted.
    if ARGV[6] ~= '1' then return 'unknown' end
    charge(3, 0, tonumber(ARGV[4]), ARGV[7], ARGV[8], tonumber(ARGV[9]))
    redis.call('HSET', r, 'st', 'settled')
    redis.call('PEXPIRE', r, tonumber(ARGV[5]))
    return 'charged'
  end
  local st = v.st
  -- Settled, or a local admission's replay marker (its replay charges it).
  if st == 'settled' or st == 'local' or st == 'localdone' then return st end
  release(v, tonumber(ARGV[3]), tonumber(ARGV[4]), st == 'swept')
  redis.call('ZREM', KEYS[2], ARGV[2])
  -- Settled, it is only a tombstone for a repeated settle: its state alone, not what it reserved
  -- (load reads a hash without d as one; the reconciliation reads open reservations only).
  redis.call('DEL', r)
  redis.call('HSET', r, 'st', 'settled')
  redis.call('PEXPIRE', r, tonumber(ARGV[5]))
  return st
end

if op == 'replay' then
  -- A request admitted by an instance's local limiter while Redis could not answer, told to Redis
  -- once it answers again, so its counters hold what the outage admitted. Idempotent by request id:
  -- st 'local' (counted, its spend not known yet), 'localdone' (counted and charged).
  -- KEYS: reservation, subject 1..n. ARGV: op, count it ('1'/'0'), cost ('' until it settles),
  -- day and month keys of its admission, tombstone ms.
  local r = KEYS[1]
  local st = redis.call('HGET', r, 'st')
  local cost = num(ARGV[3])
  -- Redis admitted it after all (only the reply was lost): its own settle charges it.
  if st == 'open' or st == 'swept' or st == 'settled' or st == 'localdone' then return st or 'none' end
  local reqs = 0
  if st == false and ARGV[2] == '1' then reqs = 1 end
  charge(2, reqs, cost or 0, ARGV[4], ARGV[5], nil)
  redis.call('HSET', r, 'st', cost == nil and 'local' or 'localdone')
  redis.call('PEXPIRE', r, tonumber(ARGV[6]))
  return 'replayed'
end

if op == 'sweep' then
  -- KEYS: deadlines. ARGV: op, key prefix of the tag, max, tombstone ms.
  return sweep(ARGV[2], KEYS[1], now_ms(), tonumber(ARGV[3]), tonumber(ARGV[4]))
end

if op ~= 'admit' then return redis.error_reply('unknown operation ' .. tostring(op)) end

-- KEYS: reservation, deadlines, subject 1..n.
-- ARGV: op, request id, key prefix, estimated tokens, estimated cost, lease ms, tombstone ms,
-- subject ttl ms, day key, day start, day end, month key, month start, month end, n, then per
-- subject (9 each): max requests, request count, rpm, max concurrent, tpm, budget, period, budget
-- seed, request count seed ('-': none wanted, the request count argument is enough).
local now = now_ms()
local prefix = ARGV[3]
local estT, estC = tonumber(ARGV[4]), tonumber(ARGV[5])
local lease, tomb, ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local dk, ds, de = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local mk, ms, me = ARGV[12], tonumber(ARGV[13]), tonumber(ARGV[14])
local n = tonumber(ARGV[15])
-- The caller named the periods by its own estimate of this clock; wrong at a boundary: ask again.
if now < ds or now >= de or now < ms or now >= me then return {'clock', fmt(now)} end
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('request id already admitted') end

sweep(prefix, KEYS[2], now, 16, tomb)

-- One HMGET per subject reads everything the decision needs (the budget's period fields included).
local S = {}
local need = {}
for i = 1, n do
  local b = 15 + (i - 1) * 9
  local key, period = KEYS[2 + i], ARGV[b + 7]
  local pkey, pend = 'total', nil
  if period == 'day' then pkey, pend = dk, de elseif period == 'month' then pkey, pend = mk, me end
  local f = redis.call('HMGET', key, 'n', 'rt', 'f', 'tt', 's|' .. pkey, 'r|' .. pkey, 'x')
  local s = {
    key = key, tpmArg = ARGV[b + 5], maxReq = num(ARGV[b + 1]), count = tonumber(ARGV[b + 2]), rpm = num(ARGV[b + 3]),
    maxConc = num(ARGV[b + 4]), tpm = num(ARGV[b + 5]), budget = num(ARGV[b + 6]), pkey = pkey, pend = pend, f = f
  }
  local seeded = false
  s.fresh = f[1] == false
  if f[1] == false and ARGV[b + 9] ~= '-' then
    -- A subject Redis holds no count for (new, idle past its TTL, or Redis lost its data): the
    -- store's count, read fresh, plus the caller's own requests in flight (see redis-limiter.ts).
    local seed = num(ARGV[b + 9])
    if seed == nil then need[#need + 1] = 'n' .. i else
      redis.call('HSET', key, 'n', seed, 'c', now)
      f[1] = seed
      s.fresh = false
      seeded = true
    end
  end
  if s.budget ~= nil and f[5] == false then
    -- Seeded once per period key: the first admission brings the store's spend, later ones find it.
    local seed = num(ARGV[b + 8])
    if seed == nil then need[#need + 1] = 'b' .. i else
      redis.call('HSETNX', key, 's|' .. pkey, fmt(seed))
      f[5] = fmt(seed)
      seeded = true
    end
  end
  -- A seed written by an admission that is then refused must not outlive the subject's TTL.
  if seeded then redis.call('PEXPIRE', key, ttl) end
  S[i] = s
end
if #need > 0 then return {'seed', fmt(now), unpack(need)} end

-- The tightest remaining of each kind across subjects (ties: the first), for the rate headers.
local lR, rR, sR, lT, rT, sT
local function rates(out)
  out[#out + 1] = lR == nil and '' or int(lR)
  out[#out + 1] = rR == nil and '' or int(rR)
  out[#out + 1] = sR == nil and '' or int(sR)
  out[#out + 1] = lT == nil and '' or int(lT)
  out[#out + 1] = rT == nil and '' or int(rT)
  out[#out + 1] = sT == nil and '' or int(sT)
  return out
end
local function refuse(kind, i, limit, remaining, retry, reset)
  local out = rates({'no', fmt(now)})
  out[#out + 1] = kind
  out[#out + 1] = tostring(i)
  out[#out + 1] = fmt(limit)
  out[#out + 1] = fmt(remaining)
  out[#out + 1] = retry == nil and '' or fmt(retry)
  out[#out + 1] = reset == nil and '' or fmt(reset)
  return out
end

-- Decide every limit of every subject first; charge nothing unless all pass.
local concurrent = 0
for i = 1, n do
  local s = S[i]
  local f = s.f
  local used = math.max(num(f[1]) or 0, s.count)
  if s.maxReq ~= nil and used >= s.maxReq then return refuse('requests', i, s.maxReq, 0, nil, nil) end
  local w = {'n', used + 1}
  -- When this state was created: a reservation older than it was lost with the state before.
  if s.fresh then w[#w + 1] = 'c'; w[#w + 1] = now end
  if s.rpm ~= nil then
    local ok, tat, retry, remaining, reset = gcra(num(f[2]), now, s.rpm, MINUTE, 1)
    if rR == nil or remaining < rR then lR, rR, sR = s.rpm, remaining, reset end
    if not ok then return refuse('requests_per_minute', i, s.rpm, 0, retry, reset) end
    w[#w + 1] = 'rt'
    w[#w + 1] = tat
  end
  if s.maxConc ~= nil then
    local inflight = num(f[3]) or 0
    if inflight >= s.maxConc then return refuse('max_concurrent', i, s.maxConc, 0, 1000, nil) end
    w[#w + 1] = 'f'
    w[#w + 1] = inflight + 1
    concurrent = concurrent + 2 ^ (i - 1)
  end
  if s.tpm ~= nil then
    local ok, tat, retry, remaining, reset = gcra(num(f[4]), now, s.tpm, MINUTE, estT)
    if rT == nil or remaining < rT then lT, rT, sT = s.tpm, remaining, reset end
    if not ok then return refuse('tokens_per_minute', i, s.tpm, remaining, retry, reset) end
    w[#w + 1] = 'tt'
    w[#w + 1] = tat
  end
  s.res = false
  if s.budget ~= nil then
    local res = num(f[6]) or 0
    local committed = (num(f[5]) or 0) + res
    if committed >= s.budget or committed + estC > s.budget then
      local retry = s.pend and (s.pend - now) or nil
      return refuse('budget', i, s.budget, math.max(0, s.budget - committed), retry, retry)
    end
    w[#w + 1] = 'r|' .. s.pkey
    w[#w + 1] = res + estC
    w[#w + 1] = 'l|' .. s.pkey
    w[#w + 1] = s.budget
    s.res = true
  end
  s.w = w
end

-- Every limit passed: charge them all (one HSET per subject), and hold the reservation (one HSET)
-- until it is settled or swept.
local r = KEYS[1]
local rw = {'st', 'open', 'd', ''}
local d = {now, ARGV[4], ARGV[5], dk, mk, n}
for i = 1, n do
  local s = S[i]
  -- The TTL is renewed when an eighth of it has passed (x: when last renewed), not every time.
  local x = num(s.f[7])
  local renew = x == nil or now - x >= ttl / 8
  if renew then s.w[#s.w + 1] = 'x'; s.w[#s.w + 1] = now end
  redis.call('HSET', s.key, unpack(s.w))
  if renew then redis.call('PEXPIRE', s.key, ttl) end
  d[#d + 1] = s.maxConc ~= nil and '1' or '0'
  d[#d + 1] = s.tpmArg
  d[#d + 1] = s.res and s.pkey or ''
  rw[#rw + 1] = 'k' .. i
  rw[#rw + 1] = s.key
end
rw[4] = table.concat(d, '|') .. '|'
redis.call('HSET', r, unpack(rw))
redis.call('ZADD', KEYS[2], now + lease, ARGV[2])
local out = rates({'ok', now})
out[#out + 1] = concurrent
return out
`;
