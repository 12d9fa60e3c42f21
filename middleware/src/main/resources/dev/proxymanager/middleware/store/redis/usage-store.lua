-- Proxy Manager usage store, key format v1 (see docs/redis.md). Loaded once, called by SHA; each call is one
-- atomic operation named by ARGV[1].
--
-- Times are nanoseconds on the engine's timeline (epoch-anchored, ~1.8e18), beyond what Lua's doubles hold
-- exactly (2^53). So a time travels and is stored as "<seconds><9-digit nanos>" (the decimal form for positive
-- values) and is handled here as a (seconds, nanos) pair: exact to the nanosecond.
--
-- Per secret, three keys share the endpoint's hash tag:
--   <p>:log  LIST of use times, newest first, trimmed to the largest limit's request count
--   <p>:st   HASH tu = total uses, cd = cooldown end, rm = removed
--   <p>:ls   HASH lease id -> expiry (expired entries are dropped whenever the hash is read)
local FREE, COOLDOWN, LEASED, REMOVED = -1, -2, -3, -4
local MAXT = '9223372036854775807'
local E9 = 1000000000

local function dec(x)
  return tonumber(string.sub(x, 1, -10)), tonumber(string.sub(x, -9))
end

local function enc(s, n)
  return string.format('%d%09d', s, n)
end

local function add(s1, n1, s2, n2)
  local s, n = s1 + s2, n1 + n2
  if n >= E9 then
    return s + 1, n - E9
  end
  return s, n
end

-- (s1, n1) < (s2, n2)
local function lt(s1, n1, s2, n2)
  return s1 < s2 or (s1 == s2 and n1 < n2)
end

-- Milliseconds from now to a time, rounded up; at least 1.
local function msUntil(ns, nn, s, n)
  local ms = math.ceil((s - ns) * 1000 + (n - nn) / 1000000)
  if ms < 1 then
    return 1
  end
  return ms
end

-- Reads a candidate: its three keys (KEYS[3i-2..3i]) and, from ARGV[a], its limits and log expiry.
local function candidate(i, a)
  local c = { log = KEYS[3 * i - 2], st = KEYS[3 * i - 1], ls = KEYS[3 * i], limits = {}, cap = 0 }
  local count = tonumber(ARGV[a])
  a = a + 1
  for j = 1, count do
    local l = { req = tonumber(ARGV[a]) }
    l.ps, l.pn = dec(ARGV[a + 1])
    l.cs, l.cn = dec(ARGV[a + 2])
    a = a + 3
    c.limits[j] = l
    if l.req > c.cap then
      c.cap = l.req
    end
  end
  c.keepMs = tonumber(ARGV[a])
  return c, a + 1
end

-- Drops expired leases; returns the live count and the earliest live expiry.
local function holders(ls, ns, nn)
  local all = redis.call('HGETALL', ls)
  local count, es, en = 0, nil, nil
  for i = 1, #all, 2 do
    local s, n = dec(all[i + 1])
    if lt(ns, nn, s, n) then
      count = count + 1
      if es == nil or lt(s, n, es, en) then
        es, en = s, n
      end
    else
      redis.call('HDEL', ls, all[i])
    end
  end
  return count, es, en
end

-- Reads what a decision needs besides the log: removal, cooldown end, live leases (dropping expired ones).
local function load(c, ns, nn, leased)
  local st = redis.call('HMGET', c.st, 'rm', 'cd')
  c.removed = st[1]
  local cd = st[2]
  if cd then
    c.cds, c.cdn = dec(cd)
  else
    c.cds = nil
  end
  if leased then
    c.h, c.es, c.en = holders(c.ls, ns, nn)
  end
end

-- When the loaded candidate can be granted and, if not now, why: (cause, encoded time).
local function evaluate(c, ns, nn, leased, maxh)
  if c.removed then
    return REMOVED, MAXT
  end
  local fs, fn, cause = ns, nn, FREE
  if c.cds and lt(ns, nn, c.cds, c.cdn) then
    fs, fn, cause = c.cds, c.cdn, COOLDOWN
  end
  for j = 1, #c.limits do
    local l = c.limits[j]
    local v = redis.call('LINDEX', c.log, l.req - 1)
    if v then
      local s, n = dec(v)
      s, n = add(s, n, l.ps, l.pn)
      if lt(ns, nn, s, n) and lt(fs, fn, s, n) then
        fs, fn, cause = s, n, j - 1
      end
    end
  end
  if leased and c.h >= maxh then
    if lt(fs, fn, c.es, c.en) then
      fs, fn, cause = c.es, c.en, LEASED
    elseif cause == FREE then
      cause = LEASED
    end
  end
  return cause, enc(fs, fn)
end

local function check(c, ns, nn, leased, maxh)
  load(c, ns, nn, leased)
  return evaluate(c, ns, nn, leased, maxh)
end

-- Records a use at now, keeping the list sorted newest first even when another process's clock is behind.
local function record(c, ns, nn)
  if c.cap == 0 then
    return
  end
  local t = enc(ns, nn)
  local head = redis.call('LINDEX', c.log, 0)
  local inserted = false
  if head then
    local hs, hn = dec(head)
    if lt(ns, nn, hs, hn) then
      local all = redis.call('LRANGE', c.log, 0, c.cap - 1)
      for k = 1, #all do
        local s, n = dec(all[k])
        if not lt(ns, nn, s, n) then
          redis.call('LINSERT', c.log, 'BEFORE', all[k], t)
          inserted = true
          break
        end
      end
      if not inserted then
        redis.call('RPUSH', c.log, t)
        inserted = true
      end
    end
  end
  if not inserted then
    redis.call('LPUSH', c.log, t)
  end
  redis.call('LTRIM', c.log, 0, c.cap - 1)
  redis.call('PEXPIRE', c.log, c.keepMs)
end

-- Keeps the state hash at least stateMs, and at least until its cooldown (c.cds, c.cdn) ends.
local function keepState(c, ns, nn, stateMs)
  local ms = stateMs
  if c.cds then
    local until_cd = msUntil(ns, nn, c.cds, c.cdn) + 1000
    if until_cd > ms then
      ms = math.min(until_cd, 315360000000) -- ten years: a cooldown "forever" still gets an expiry
    end
  end
  redis.call('PEXPIRE', c.st, ms)
end

local op = ARGV[1]

if op == 'acquire' then
  -- ARGV: op, now, count, leased, maxHolders, leaseTtl, leaseId, leaseKeepMs, stateMs, then per candidate its block
  local ns, nn = dec(ARGV[2])
  local count = tonumber(ARGV[3])
  local leased = ARGV[4] == '1'
  local maxh = tonumber(ARGV[5])
  local ts, tn = dec(ARGV[6])
  local leaseId = ARGV[7]
  local leaseMs = tonumber(ARGV[8])
  local stateMs = tonumber(ARGV[9])
  local a = 10
  local out = { -1, '0' }
  for i = 1, count do
    local c
    c, a = candidate(i, a)
    local cause, free = check(c, ns, nn, leased, maxh)
    if cause ~= FREE then
      out[#out + 1] = cause
      out[#out + 1] = free
    else
      record(c, ns, nn)
      redis.call('HINCRBY', c.st, 'tu', 1)
      if leased then
        local es, en = add(ns, nn, ts, tn)
        redis.call('HSET', c.ls, leaseId, enc(es, en))
        redis.call('PEXPIRE', c.ls, leaseMs)
        c.h = c.h + 1
        if c.es == nil or lt(es, en, c.es, c.en) then
          c.es, c.en = es, en
        end
      end
      local caps, capn = nil, nil
      for j = 1, #c.limits do
        local l = c.limits[j]
        if l.cs > 0 or l.cn > 0 then
          local v = redis.call('LINDEX', c.log, l.req - 1)
          if v then
            local s, n = dec(v)
            s, n = add(s, n, l.ps, l.pn)
            if lt(ns, nn, s, n) then -- the window holds req uses: the cap is reached
              local es, en = add(ns, nn, l.cs, l.cn)
              if caps == nil or lt(caps, capn, es, en) then
                caps, capn = es, en
              end
            end
          end
        end
      end
      if caps then
        if c.cds == nil or lt(c.cds, c.cdn, caps, capn) then
          c.cds, c.cdn = caps, capn
          redis.call('HSET', c.st, 'cd', enc(caps, capn))
        end
        out[2] = enc(caps, capn)
      end
      keepState(c, ns, nn, stateMs)
      -- availability after the grant, from what this call already knows (only the log is read again)
      cause, free = evaluate(c, ns, nn, leased, maxh)
      out[1] = i - 1
      out[#out + 1] = cause
      out[#out + 1] = free
      return out
    end
  end
  return out
end

if op == 'release' then
  -- ARGV: op, now, leased, maxHolders, leaseId ('' for none), cooldownUntil ('' for none), remove, stateMs, block
  local ns, nn = dec(ARGV[2])
  local leased = ARGV[3] == '1'
  local maxh = tonumber(ARGV[4])
  local leaseId = ARGV[5]
  local cdArg = ARGV[6]
  local remove = ARGV[7] == '1'
  local stateMs = tonumber(ARGV[8])
  local c = candidate(1, 9)
  if leaseId ~= '' then
    redis.call('HDEL', c.ls, leaseId)
  end
  load(c, ns, nn, leased)
  local changed = false
  if cdArg ~= '' then
    local s, n = dec(cdArg)
    if c.cds == nil or lt(c.cds, c.cdn, s, n) then
      redis.call('HSET', c.st, 'cd', cdArg)
      c.cds, c.cdn = s, n
      changed = true
    end
  end
  if remove then
    redis.call('HSET', c.st, 'rm', '1')
    c.removed = '1'
    changed = true
  end
  if changed then
    keepState(c, ns, nn, stateMs)
  end
  local cause, free = evaluate(c, ns, nn, leased, maxh)
  return { cause, free }
end

if op == 'usage' then
  -- ARGV: op, now, leased, maxHolders, block. Returns total, holders, cooldown end or '', removed, cause, free,
  -- then the uses in each limit's current window.
  local ns, nn = dec(ARGV[2])
  local leased = ARGV[3] == '1'
  local maxh = tonumber(ARGV[4])
  local c = candidate(1, 5)
  local total = tonumber(redis.call('HGET', c.st, 'tu') or '0')
  local h = 0
  if leased then
    h = holders(c.ls, ns, nn)
  end
  local cdOut = ''
  local cd = redis.call('HGET', c.st, 'cd')
  if cd then
    local s, n = dec(cd)
    if lt(ns, nn, s, n) then
      cdOut = cd
    end
  end
  local removed = 0
  if redis.call('HGET', c.st, 'rm') then
    removed = 1
  end
  local cause, free = check(c, ns, nn, leased, maxh)
  local out = { total, h, cdOut, removed, cause, free }
  local uses = {}
  if c.cap > 0 then
    uses = redis.call('LRANGE', c.log, 0, c.cap - 1)
  end
  for j = 1, #c.limits do
    local l = c.limits[j]
    local n_in = 0
    for k = 1, #uses do
      local s, n = dec(uses[k])
      local es, en = add(s, n, l.ps, l.pn)
      if lt(ns, nn, es, en) and not lt(ns, nn, s, n) then -- in (now - per, now]; later uses are clock skew
        n_in = n_in + 1
      end
    end
    out[#out + 1] = n_in
  end
  return out
end

if op == 'past' then
  -- ARGV: op, stateMs, block, then the use times. Merges them into the log, keeping the newest cap.
  local stateMs = tonumber(ARGV[2])
  local c, a = candidate(1, 3)
  local times = {}
  if c.cap > 0 then
    local kept = redis.call('LRANGE', c.log, 0, -1)
    for k = 1, #kept do
      times[#times + 1] = kept[k]
    end
    for k = a, #ARGV do
      times[#times + 1] = ARGV[k]
    end
    table.sort(times, function(x, y)
      local xs, xn = dec(x)
      local ys, yn = dec(y)
      return lt(ys, yn, xs, xn) -- newest first
    end)
    redis.call('DEL', c.log)
    local n = math.min(#times, c.cap)
    for k = 1, n do
      redis.call('RPUSH', c.log, times[k])
    end
    if n > 0 then
      redis.call('PEXPIRE', c.log, c.keepMs)
    end
  end
  redis.call('HINCRBY', c.st, 'tu', #ARGV - a + 1)
  if redis.call('PTTL', c.st) < stateMs then -- never shorten a long cooldown's expiry
    redis.call('PEXPIRE', c.st, stateMs)
  end
  return 1
end

if op == 'remove' then
  -- KEYS: log, st, ls; ARGV: op, stateMs
  redis.call('HSET', KEYS[2], 'rm', '1')
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
  end
  return 1
end

if op == 'restore' then
  redis.call('HDEL', KEYS[2], 'rm', 'cd')
  return 1
end

if op == 'forget' then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 1
end

return redis.error_reply('unknown usage store operation ' .. tostring(op))
