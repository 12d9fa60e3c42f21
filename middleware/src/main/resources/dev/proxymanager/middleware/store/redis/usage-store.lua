-- Proxy Manager usage store, key format v2 (see docs/redis.md). Loaded once, called by SHA; each call is one
-- atomic operation named by ARGV[1].
--
-- Times are nanoseconds on the engine's timeline (epoch-anchored, ~1.8e18), beyond what Lua's doubles hold
-- exactly (2^53). So a time travels and is stored as "<seconds><9-digit nanos>" (the decimal form for positive
-- values) and is handled here as a (seconds, nanos) pair: exact to the nanosecond.
--
-- Per secret, two keys share the endpoint's hash tag:
--   <p>:log  LIST of use times, newest first, trimmed to the largest limit's request count
--   <p>:st   HASH tu = total uses, cd = cooldown end, rm = removed, hd = newest use in the log,
--            le / se = when the log's / this hash's expiry was set to end (engine time), l:<lease id> = lease expiry
--            (expired leases are dropped whenever the hash is read)
-- Each Redis command in a script costs about as much as the whole EVALSHA of a trivial one, so the hot path reads
-- the hash once (HGETALL), writes it once (HSET), and renews expiries only when they run low (le / se).
local FREE, COOLDOWN, LEASED, REMOVED = -1, -2, -3, -4
local MAXT = '9223372036854775807'
local E9 = 1000000000
-- A log's expiry is renewed once less than (keep - LOG_SLACK_MS) is left; keep has a minute more than the longest
-- window, so this leaves half a minute for callers whose clocks differ.
local LOG_SLACK_MS = 30000
local TEN_YEARS_MS = 315360000000

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

local function plusMs(s, n, ms)
  return add(s, n, math.floor(ms / 1000), (ms % 1000) * 1000000)
end

-- Reads a candidate: its two keys (KEYS[2i-1..2i]) and, from ARGV[a], its limits and log expiry.
local function candidate(i, a)
  local c = { log = KEYS[2 * i - 1], st = KEYS[2 * i], limits = {}, cap = 0 }
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

-- Reads the state hash in one HGETALL: removal, cooldown, totals, key deadlines and the live leases other than
-- `skip` (their count c.h and earliest expiry c.es/c.en). Expired leases and `skip` are dropped.
local function load(c, ns, nn, skip)
  local all = redis.call('HGETALL', c.st)
  c.h, c.tu = 0, 0
  local drop = {}
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    if string.sub(f, 1, 2) == 'l:' then
      local s, n = dec(v)
      if f ~= skip and lt(ns, nn, s, n) then
        c.h = c.h + 1
        if c.es == nil or lt(s, n, c.es, c.en) then
          c.es, c.en = s, n
        end
      else
        drop[#drop + 1] = f
      end
    elseif f == 'tu' then
      c.tu = tonumber(v)
    elseif f == 'cd' then
      c.cds, c.cdn = dec(v)
    elseif f == 'rm' then
      c.removed = true
    elseif f == 'hd' then
      c.hds, c.hdn = dec(v)
    elseif f == 'le' then
      c.les, c.len = dec(v)
    elseif f == 'se' then
      c.ses, c.sen = dec(v)
    end
  end
  if #drop > 0 then
    redis.call('HDEL', c.st, unpack(drop))
  end
end

-- Reads, per limit, the use that decides it now (l.v, index req-1) and, when `next` is set, the one that will decide
-- it after a use is pushed at the head (l.nv, index req-2): both in one LRANGE.
local function window(c, next)
  for j = 1, #c.limits do
    local l = c.limits[j]
    if l.req == 1 or not next then
      l.v = redis.call('LINDEX', c.log, l.req - 1) or nil
      l.nv = nil
    else
      local r = redis.call('LRANGE', c.log, l.req - 2, l.req - 1)
      l.nv, l.v = r[1], r[2]
    end
  end
end

-- When the loaded candidate can be granted and, if not now, why: (cause, encoded time). Uses l.v of each limit.
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
    if l.v then
      local s, n = dec(l.v)
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

-- Records a use at now, keeping the list sorted newest first even when another process's clock is behind, and
-- leaves in l.v the use that decides each limit afterwards. Returns the list's length and its newest use.
local function record(c, ns, nn, t)
  local hs, hn = c.hds, c.hdn
  if hs == nil then -- no newest use noted (state expired or older data): look at the list itself
    local head = redis.call('LINDEX', c.log, 0)
    if head then
      hs, hn = dec(head)
    end
  end
  local len
  if hs == nil or not lt(ns, nn, hs, hn) then
    len = redis.call('LPUSH', c.log, t)
    for j = 1, #c.limits do
      local l = c.limits[j]
      if l.req == 1 then
        l.v = t
      else
        l.v = l.nv
      end
    end
  else
    local all = redis.call('LRANGE', c.log, 0, c.cap - 1)
    for k = 1, #all do
      local s, n = dec(all[k])
      if not lt(ns, nn, s, n) then
        len = redis.call('LINSERT', c.log, 'BEFORE', all[k], t)
        break
      end
    end
    if not len then
      len = redis.call('RPUSH', c.log, t)
    end
    window(c, false)
  end
  if len > c.cap then
    redis.call('LTRIM', c.log, 0, c.cap - 1)
  end
  if hs == nil or not lt(ns, nn, hs, hn) then
    return len, t
  end
  return len, enc(hs, hn)
end

-- Adds to `fields` the state hash's new deadline when its expiry must be renewed, and returns the expiry in ms
-- (nil when it still suffices): at least stateMs after now, renewed once an eighth of that has passed, and never
-- before the cooldown or the lease `leaseMs` from now ends.
local function stateExpiry(c, ns, nn, stateMs, leaseMs, fields)
  local held = 0 -- what the cooldown and the new lease need
  if c.cds then
    held = msUntil(ns, nn, c.cds, c.cdn) + 1000
  end
  if leaseMs then
    held = math.max(held, leaseMs + 1000)
  end
  held = math.min(held, TEN_YEARS_MS) -- a cooldown "forever" still gets an expiry
  if c.ses and msUntil(ns, nn, c.ses, c.sen) >= math.max(stateMs - math.floor(stateMs / 8), held) then
    return nil
  end
  local need = math.max(stateMs, held)
  local s, n = plusMs(ns, nn, need)
  fields[#fields + 1] = 'se'
  fields[#fields + 1] = enc(s, n)
  return need
end

local op = ARGV[1]

if op == 'acquire' then
  -- ARGV: op, now, count, leased, maxHolders, leaseTtl, leaseId, stateMs, then per candidate its block
  local ns, nn = dec(ARGV[2])
  local count = tonumber(ARGV[3])
  local leased = ARGV[4] == '1'
  local maxh = tonumber(ARGV[5])
  local ts, tn = dec(ARGV[6])
  local leaseId = ARGV[7]
  local stateMs = tonumber(ARGV[8])
  local a = 9
  local out = { -1, '0' }
  for i = 1, count do
    local c
    c, a = candidate(i, a)
    load(c, ns, nn, nil)
    window(c, true)
    local cause, free = evaluate(c, ns, nn, leased, maxh)
    if cause ~= FREE then
      out[#out + 1] = cause
      out[#out + 1] = free
    else
      local t = enc(ns, nn)
      local fields = { 'tu', string.format('%d', c.tu + 1) }
      local logMs = nil
      if c.cap > 0 then
        local len, newest = record(c, ns, nn, t)
        fields[#fields + 1] = 'hd'
        fields[#fields + 1] = newest
        local left = c.les and msUntil(ns, nn, c.les, c.len)
        if len == 1 or left == nil or left < c.keepMs - LOG_SLACK_MS or left > c.keepMs then
          logMs = c.keepMs
          local s, n = plusMs(ns, nn, logMs)
          fields[#fields + 1] = 'le'
          fields[#fields + 1] = enc(s, n)
        end
      end
      local leaseMs = nil
      if leased then
        local es, en = add(ns, nn, ts, tn)
        fields[#fields + 1] = 'l:' .. leaseId
        fields[#fields + 1] = enc(es, en)
        leaseMs = msUntil(ns, nn, es, en)
        c.h = c.h + 1
        if c.es == nil or lt(es, en, c.es, c.en) then
          c.es, c.en = es, en
        end
      end
      local caps, capn = nil, nil
      for j = 1, #c.limits do
        local l = c.limits[j]
        if (l.cs > 0 or l.cn > 0) and l.v then
          local s, n = dec(l.v)
          s, n = add(s, n, l.ps, l.pn)
          if lt(ns, nn, s, n) then -- the window holds req uses: the cap is reached
            local es, en = add(ns, nn, l.cs, l.cn)
            if caps == nil or lt(caps, capn, es, en) then
              caps, capn = es, en
            end
          end
        end
      end
      if caps then
        if c.cds == nil or lt(c.cds, c.cdn, caps, capn) then
          c.cds, c.cdn = caps, capn
          fields[#fields + 1] = 'cd'
          fields[#fields + 1] = enc(caps, capn)
        end
        out[2] = enc(caps, capn)
      end
      local stMs = stateExpiry(c, ns, nn, stateMs, leaseMs, fields)
      redis.call('HSET', c.st, unpack(fields))
      if stMs then
        redis.call('PEXPIRE', c.st, stMs)
      end
      if logMs then
        redis.call('PEXPIRE', c.log, logMs)
      end
      -- availability after the grant, from what this call already knows
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
  local skip = nil
  if leaseId ~= '' then
    skip = 'l:' .. leaseId
  end
  load(c, ns, nn, skip)
  local fields = {}
  if cdArg ~= '' then
    local s, n = dec(cdArg)
    if c.cds == nil or lt(c.cds, c.cdn, s, n) then
      fields[#fields + 1] = 'cd'
      fields[#fields + 1] = cdArg
      c.cds, c.cdn = s, n
    end
  end
  if remove then
    fields[#fields + 1] = 'rm'
    fields[#fields + 1] = '1'
    c.removed = true
  end
  if #fields > 0 then
    local stMs = stateExpiry(c, ns, nn, stateMs, nil, fields)
    redis.call('HSET', c.st, unpack(fields))
    if stMs then
      redis.call('PEXPIRE', c.st, stMs)
    end
  end
  window(c, false)
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
  load(c, ns, nn, nil)
  local h = 0
  if leased then
    h = c.h
  end
  local cdOut = ''
  if c.cds and lt(ns, nn, c.cds, c.cdn) then
    cdOut = enc(c.cds, c.cdn)
  end
  local removed = 0
  if c.removed then
    removed = 1
  end
  window(c, false)
  local cause, free = evaluate(c, ns, nn, leased, maxh)
  local out = { c.tu, h, cdOut, removed, cause, free }
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
  if c.cap > 0 then
    local times = {}
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
      redis.call('HSET', c.st, 'hd', times[1])
    else
      redis.call('HDEL', c.st, 'hd')
    end
    redis.call('HDEL', c.st, 'le') -- the log's expiry no longer follows the noted deadline: renew on next use
  end
  redis.call('HINCRBY', c.st, 'tu', #ARGV - a + 1)
  if redis.call('PTTL', c.st) < stateMs then -- never shorten a long cooldown's expiry
    redis.call('PEXPIRE', c.st, stateMs)
  end
  return 1
end

if op == 'remove' then
  -- KEYS: log, st; ARGV: op, stateMs
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
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end

return redis.error_reply('unknown usage store operation ' .. tostring(op))
