/**
 * The Redis limiter's one Lua script (see redis-limiter.ts for the key layout). One script with an
 * operation argument, so one SHA to load and one NOSCRIPT fallback. Its GCRA is gcra.ts line for
 * line (both are IEEE doubles doing the same operations in the same order: the same answers; the
 * contract suite holds them to it). Numbers leave the script as strings formatted with %.17g: a
 * Lua number returned as is would be truncated to an integer, and tostring keeps only 14 digits.
 *
 * Subject hash fields: n (requests admitted), rt / tt (GCRA TAT of requests / tokens per minute),
 * f (requests in flight), s|<period> / r|<period> (spent / reserved micro-dollars), l|<period>
 * (the budget the last admission brought, for the metrics). Reservation hash fields: st (open,
 * swept, settled), at (admitted at), et / ec (estimated tokens / cost), dk / mk (day and month
 * period keys at admission), n, and per subject i: k<i> key, c<i> slot taken, tp<i> TPM limit,
 * b<i> the period key its budget reserved in ('' when none).
 */

/** Bumped with any change of the script's keys or fields: it names every key (see redis-limiter.ts). */
export const LAYOUT_VERSION = 1;

export const LIMITER_SCRIPT = `
local LAYOUT = ${LAYOUT_VERSION}
local MINUTE = 60000
local function fmt(x) return string.format('%.17g', x) end
local function num(x) if x == false or x == nil or x == '' then return nil end return tonumber(x) end

local function gcra(tat, now, limit, window, cost)
  local interval = window / limit
  local start = now
  if tat ~= nil and tat > now then start = tat end
  local checked = start + math.min(cost, limit) * interval
  local allowAt = checked - window
  if now < allowAt then
    return false, start, math.ceil(allowAt - now), math.max(0, math.floor((now + window - start) / interval)), math.ceil(start - now)
  end
  local nxt = start + cost * interval
  return true, nxt, 0, math.max(0, math.floor((now + window - nxt) / interval)), math.ceil(nxt - now)
end

-- Gives back what a reservation took, charging 'tokens' and 'cost' as its use (its estimate when swept).
local function release(r, tokens, cost)
  local f = redis.call('HMGET', r, 'n', 'et', 'ec', 'dk', 'mk')
  local n, et, ec = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  local periods = {'total', f[4], f[5]}
  for i = 1, n do
    local s = redis.call('HMGET', r, 'k' .. i, 'c' .. i, 'tp' .. i, 'b' .. i)
    local key = s[1]
    if s[2] == '1' then
      local left = redis.call('HINCRBY', key, 'f', -1)
      if left <= 0 then redis.call('HDEL', key, 'f') end
    end
    local tpm = num(s[3])
    if tpm ~= nil then
      local tat = num(redis.call('HGET', key, 'tt'))
      if tat ~= nil then redis.call('HSET', key, 'tt', fmt(tat + (tokens - et) * (MINUTE / tpm))) end
    end
    for _, p in ipairs(periods) do
      local spent = num(redis.call('HGET', key, 's|' .. p))
      if spent ~= nil then
        if s[4] == p then
          local res = num(redis.call('HGET', key, 'r|' .. p)) or 0
          redis.call('HSET', key, 'r|' .. p, fmt(math.max(0, res - ec)))
        end
        redis.call('HSET', key, 's|' .. p, fmt(spent + cost))
      end
    end
  end
end

-- A settle after the sweeper charged the estimate: only the difference to the actual use.
local function correct(r, tokens, cost)
  local f = redis.call('HMGET', r, 'n', 'et', 'ec', 'dk', 'mk')
  local n, et, ec = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  local periods = {'total', f[4], f[5]}
  for i = 1, n do
    local s = redis.call('HMGET', r, 'k' .. i, 'tp' .. i)
    local key = s[1]
    local tpm = num(s[2])
    if tpm ~= nil then
      local tat = num(redis.call('HGET', key, 'tt'))
      if tat ~= nil then redis.call('HSET', key, 'tt', fmt(tat + (tokens - et) * (MINUTE / tpm))) end
    end
    for _, p in ipairs(periods) do
      local spent = num(redis.call('HGET', key, 's|' .. p))
      if spent ~= nil then redis.call('HSET', key, 's|' .. p, fmt(spent + cost - ec)) end
    end
  end
end

-- Settles the expired reservations of one hash tag as unfinished requests charged their estimate.
local function sweep(prefix, dl, now, max, tomb)
  local ids = redis.call('ZRANGEBYSCORE', dl, '-inf', now, 'LIMIT', 0, max)
  for _, id in ipairs(ids) do
    local r = prefix .. 'r:' .. id
    local f = redis.call('HMGET', r, 'st', 'et', 'ec')
    if f[1] == 'open' then
      release(r, tonumber(f[2]), tonumber(f[3]))
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

local op = ARGV[1]

if op == 'settle' then
  -- KEYS: reservation, deadlines. ARGV: op, request id, tokens, cost, tombstone ms.
  local r = KEYS[1]
  local st = redis.call('HGET', r, 'st')
  if st == false then return 'unknown' end
  if st == 'settled' then return 'settled' end
  local tokens, cost = tonumber(ARGV[3]), tonumber(ARGV[4])
  if st == 'swept' then correct(r, tokens, cost) else release(r, tokens, cost) end
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HSET', r, 'st', 'settled')
  redis.call('PEXPIRE', r, tonumber(ARGV[5]))
  return st
end

if op == 'sweep' then
  -- KEYS: deadlines. ARGV: op, key prefix of the tag, max, tombstone ms.
  return sweep(ARGV[2], KEYS[1], now_ms(), tonumber(ARGV[3]), tonumber(ARGV[4]))
end

if op ~= 'admit' then return redis.error_reply('unknown operation ' .. tostring(op)) end

-- KEYS: reservation, deadlines, subject 1..n.
-- ARGV: op, request id, key prefix, estimated tokens, estimated cost, lease ms, tombstone ms,
-- subject ttl ms, day key, day start, day end, month key, month start, month end, n, then per
-- subject (8 each): max requests, request count, rpm, max concurrent, tpm, budget, period, seed.
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
  local b = 15 + (i - 1) * 8
  local key, period = KEYS[2 + i], ARGV[b + 7]
  local pkey, pend = 'total', nil
  if period == 'day' then pkey, pend = dk, de elseif period == 'month' then pkey, pend = mk, me end
  local f = redis.call('HMGET', key, 'n', 'rt', 'f', 'tt', 's|' .. pkey, 'r|' .. pkey)
  local s = {
    key = key, maxReq = num(ARGV[b + 1]), count = tonumber(ARGV[b + 2]), rpm = num(ARGV[b + 3]),
    maxConc = num(ARGV[b + 4]), tpm = num(ARGV[b + 5]), budget = num(ARGV[b + 6]), pkey = pkey, pend = pend, f = f
  }
  if s.budget ~= nil and f[5] == false then
    -- Seeded once per period key: the first admission brings the store's spend, later ones find it.
    local seed = num(ARGV[b + 8])
    if seed == nil then need[#need + 1] = tostring(i) else
      redis.call('HSETNX', key, 's|' .. pkey, fmt(seed))
      f[5] = fmt(seed)
    end
  end
  S[i] = s
end
if #need > 0 then return {'seed', fmt(now), unpack(need)} end

-- The tightest remaining of each kind across subjects (ties: the first), for the rate headers.
local lR, rR, sR, lT, rT, sT
local function rates(out)
  out[#out + 1] = lR == nil and '' or fmt(lR)
  out[#out + 1] = rR == nil and '' or fmt(rR)
  out[#out + 1] = sR == nil and '' or fmt(sR)
  out[#out + 1] = lT == nil and '' or fmt(lT)
  out[#out + 1] = rT == nil and '' or fmt(rT)
  out[#out + 1] = sT == nil and '' or fmt(sT)
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
  local w = {'n', fmt(used + 1)}
  if s.rpm ~= nil then
    local ok, tat, retry, remaining, reset = gcra(num(f[2]), now, s.rpm, MINUTE, 1)
    if rR == nil or remaining < rR then lR, rR, sR = s.rpm, remaining, reset end
    if not ok then return refuse('requests_per_minute', i, s.rpm, 0, retry, reset) end
    w[#w + 1] = 'rt'
    w[#w + 1] = fmt(tat)
  end
  if s.maxConc ~= nil then
    local inflight = num(f[3]) or 0
    if inflight >= s.maxConc then return refuse('max_concurrent', i, s.maxConc, 0, 1000, nil) end
    w[#w + 1] = 'f'
    w[#w + 1] = fmt(inflight + 1)
    concurrent = concurrent + 2 ^ (i - 1)
  end
  if s.tpm ~= nil then
    local ok, tat, retry, remaining, reset = gcra(num(f[4]), now, s.tpm, MINUTE, estT)
    if rT == nil or remaining < rT then lT, rT, sT = s.tpm, remaining, reset end
    if not ok then return refuse('tokens_per_minute', i, s.tpm, remaining, retry, reset) end
    w[#w + 1] = 'tt'
    w[#w + 1] = fmt(tat)
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
    w[#w + 1] = fmt(res + estC)
    w[#w + 1] = 'l|' .. s.pkey
    w[#w + 1] = fmt(s.budget)
    s.res = true
  end
  s.w = w
end

-- Every limit passed: charge them all (one HSET per subject), and hold the reservation (one HSET)
-- until it is settled or swept.
local r = KEYS[1]
local rw = {'st', 'open', 'at', now, 'et', fmt(estT), 'ec', fmt(estC), 'dk', dk, 'mk', mk, 'n', n}
for i = 1, n do
  local s = S[i]
  redis.call('HSET', s.key, unpack(s.w))
  redis.call('PEXPIRE', s.key, ttl)
  local j = #rw
  rw[j + 1], rw[j + 2] = 'k' .. i, s.key
  rw[j + 3], rw[j + 4] = 'c' .. i, s.maxConc ~= nil and '1' or '0'
  rw[j + 5], rw[j + 6] = 'tp' .. i, s.tpm and fmt(s.tpm) or ''
  rw[j + 7], rw[j + 8] = 'b' .. i, s.res and s.pkey or ''
end
redis.call('HSET', r, unpack(rw))
redis.call('ZADD', KEYS[2], now + lease, ARGV[2])
local out = rates({'ok', fmt(now)})
out[#out + 1] = fmt(concurrent)
return out
`;
