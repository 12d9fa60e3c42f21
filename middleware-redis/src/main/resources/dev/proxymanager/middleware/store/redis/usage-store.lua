-- Proxy Manager usage store, key format v1 (see docs/redis.md). Loaded once, called by SHA; each call is one
-- atomic operation named by ARGV[1].
--
-- Times are epoch nanoseconds written as 19-digit zero-padded decimals, so string order is time order: the script
-- compares stored times but never converts them. "now" is Redis's own clock (TIME) when ARGV[2] is '', so every
-- process sharing this Redis decides on one clock; else it is the caller's (tests with a fake clock; and release and
-- quota reports, which decide no grant, get the caller's estimate of Redis's time to spare a TIME call). The times a
-- decision needs (now - spacing, now + cooldown, the lease's end) are worked out here once per call, in
-- microseconds (Lua numbers are doubles: epoch microseconds fit in 2^53, nanoseconds do not), keeping now's last
-- three digits. The caller works out from what the script read when a refused secret frees up.
-- For today's times this is the plain decimal form that earlier versions of this script stored.
--
-- Per secret, four keys share the endpoint's hash tag (a fifth, the log of its quota group, is passed beside them):
--   <p>:log  LIST of use times, newest first; at least the largest limit's request count (trimmed in steps)
--   <p>:st   HASH tu = total uses, cd = cooldown end, rm = removed; qr, qx = the upstream's remaining (less the
--            grants since) and reset while a report holds (here, not in uq, so acquire reads one hash per secret)
--   <p>:ls   HASH lease id -> lease end (ended entries are dropped whenever the hash is read)
--   <p>:uq   HASH the rest of the upstream's last quota report, for stats: l limit, x reset, t learned at,
--            p policy; expires at the reset. While a report holds, qr = 0 blocks the secret until qx, as a cooldown
--            would. Its times are on Redis's clock, as every stored time.
--
-- A candidate's block in ARGV: n (its number of limits); per limit lo, hi (the LRANGE indexes of its window's
-- req-1-th and req-th newest uses, 0-based; lo = hi when req = 1), sp (its spacing in microseconds: window plus
-- guard band; a use frees its slot sp after it), cd (its cooldown in microseconds when it has one, else ''); then
-- cap (the largest req) and keep (the log's expiry in ms); then the same for its quota group's limits (gn = 0 when
-- it has none; cd is always ''), read from and recorded in the group's log (KEYS[5i]), which every member shares.
-- The group's window starts are worked out from now and its spacings exactly as the secret's.
--
-- A view (what the caller turns into an availability): rm ('1' or ''), cd ('' for none), live lease count,
-- earliest lease end (''), then per limit the use its window turns on ('' when the log is shorter), then the same
-- per group limit.
local TRIM_SLACK = 16

-- now as stored (19 digits), in whole microseconds, and its last three digits.
local NOW, NOW_US, NOW_NS
if ARGV[2] == '' then
  local t = redis.call('TIME')
  NOW_US = tonumber(t[1]) * 1000000 + tonumber(t[2])
  NOW_NS = '000'
  NOW = t[1] .. string.rep('0', 6 - #t[2]) .. t[2] .. NOW_NS -- seconds have 10 digits until 2286
else
  NOW = ARGV[2]
  NOW_US = tonumber(string.sub(NOW, 1, 16))
  NOW_NS = string.sub(NOW, 17)
end

-- now plus us microseconds (negative: minus), as stored; '' before the timeline's start.
local function nowPlus(us)
  local t = NOW_US + us
  if t < 0 then
    return ''
  end
  return string.format('%016.0f', t) .. NOW_NS
end

-- Reads a candidate's keys (KEYS[5i-4..5i]) and the position of its block at ARGV[a]; returns it and the next block.
local function candidate(i, a)
  local n = tonumber(ARGV[a])
  local c = { log = KEYS[5 * i - 4], st = KEYS[5 * i - 3], ls = KEYS[5 * i - 2], uq = KEYS[5 * i - 1],
    glog = KEYS[5 * i], n = n, a = a + 1, h = 0 }
  c.cap = ARGV[a + 1 + 4 * n]
  c.keep = ARGV[a + 2 + 4 * n]
  local g = a + 3 + 4 * n
  local gn = tonumber(ARGV[g])
  c.gn, c.ga = gn, g + 1
  c.gcap = ARGV[g + 1 + 4 * gn]
  c.gkeep = ARGV[g + 2 + 4 * gn]
  return c, g + 3 + 4 * gn
end

-- Each limit's window start (c.th; the group's in c.gth): a use after it holds a slot. Only the operations that
-- decide need them.
local function windows(c)
  c.th, c.gth = {}, {}
  for j = 1, c.n do
    c.th[j] = nowPlus(-tonumber(ARGV[c.a + 4 * (j - 1) + 2]))
  end
  for j = 1, c.gn do
    c.gth[j] = nowPlus(-tonumber(ARGV[c.ga + 4 * (j - 1) + 2]))
  end
end

-- Per limit of a log (n limits, their block at ARGV[a]), the use its window turns on (into u) and, with nextToo,
-- the use it will turn on after one more (into nx).
local function turning(log, n, a, u, nx, nextToo)
  for j = 1, n do
    local b = a + 4 * (j - 1)
    if nextToo then
      local lo, hi = ARGV[b], ARGV[b + 1]
      local r = redis.call('LRANGE', log, lo, hi)
      if lo == hi then
        u[j], nx[j] = r[1] or false, true -- req = 1: after a grant, the grant itself
      else
        u[j], nx[j] = r[2] or false, r[1] or false
      end
    else
      u[j] = redis.call('LINDEX', log, ARGV[b + 1])
    end
  end
end

-- Live leases, dropping ended ones: the count and the earliest end.
local function holders(c, now)
  local all = redis.call('HGETALL', c.ls)
  local count, es = 0, false
  for k = 1, #all, 2 do
    local e = all[k + 1]
    if now < e then
      count = count + 1
      if not es or e < es then
        es = e
      end
    else
      redis.call('HDEL', c.ls, all[k])
    end
  end
  c.h, c.es = count, es
end

-- Reads what a decision needs: removal, cooldown end, live leases, and per limit the use its window turns on
-- (c.u); with nextToo, also the use it will turn on after one more (c.nx).
local function load(c, now, leased, nextToo)
  local st = redis.call('HMGET', c.st, 'rm', 'cd', 'qr', 'qx')
  c.rm, c.cd = st[1], st[2]
  c.qlive = st[4] and now < st[4]
  if c.qlive and tonumber(st[3]) <= 0 and (not c.cd or c.cd < st[4]) then
    c.cd = st[4] -- the upstream said nothing is left until its reset
  end
  if leased then
    holders(c, now)
  end
  c.u, c.nx, c.gu, c.gnx = {}, {}, {}, {}
  turning(c.log, c.n, c.a, c.u, c.nx, nextToo)
  turning(c.glog, c.gn, c.ga, c.gu, c.gnx, nextToo)
end

-- Whether a limit of the secret or of its group has no slot at now.
local function full(c)
  for j = 1, c.n do
    local u = c.u[j]
    if u and c.th[j] < u then -- a use after now - spacing: the window is full
      return true
    end
  end
  for j = 1, c.gn do
    local u = c.gu[j]
    if u and c.gth[j] < u then -- the group's window is full
      return true
    end
  end
  return false
end

local function refused(c, now, leased, maxh)
  if c.rm or (c.cd and now < c.cd) or (leased and c.h >= maxh) then
    return true
  end
  return full(c)
end

local function view(c, out)
  out[#out + 1] = c.rm and '1' or ''
  out[#out + 1] = c.cd or ''
  out[#out + 1] = c.h
  out[#out + 1] = c.es or ''
  for j = 1, c.n do
    out[#out + 1] = c.u[j] or ''
  end
  for j = 1, c.gn do
    out[#out + 1] = c.gu[j] or ''
  end
  return out
end

-- Records a use at now in a log (c's own, or its group's), keeping the list sorted newest first even when another
-- process's clock is behind. Returns whether it went to the head (the usual case).
local function recordIn(log, capText, keep, now)
  local cap = tonumber(capText)
  if cap == 0 then
    return true
  end
  local head = redis.call('LINDEX', log, 0)
  local len, atHead
  if head and now < head then
    local all = redis.call('LRANGE', log, 0, -1)
    for k = 1, #all do
      if all[k] <= now then
        len = redis.call('LINSERT', log, 'BEFORE', all[k], now)
        break
      end
    end
    if not len then
      len = redis.call('RPUSH', log, now)
    end
    atHead = false
  else
    len = redis.call('LPUSH', log, now)
    atHead = true
  end
  -- only the newest cap uses count; trimming every few pushes rather than on each saves a command per use
  if len > cap + TRIM_SLACK then
    redis.call('LTRIM', log, 0, cap - 1)
  end
  redis.call('PEXPIRE', log, keep)
  return atHead
end

local function record(c, now)
  return recordIn(c.log, c.cap, c.keep, now)
end

-- Records a use at now in the group's log; true (as at the head) when not in a group.
local function recordGroup(c, now)
  return c.gn == 0 or recordIn(c.glog, c.gcap, c.gkeep, now)
end

-- Milliseconds from now to t (both times), rounded up; at least 1. Only for expiries: doubles are close enough.
local function msUntil(now, t)
  local ms = math.ceil((tonumber(string.sub(t, 1, -10)) - tonumber(string.sub(now, 1, -10))) * 1000
    + (tonumber(string.sub(t, -9)) - tonumber(string.sub(now, -9))) / 1000000)
  if ms < 1 then
    return 1
  end
  return ms
end

-- Keeps the state hash at least stateMs, and at least until its cooldown ends.
local function keepState(c, now, stateMs)
  local ms = stateMs
  if c.cd and now < c.cd then
    local untilCd = msUntil(now, c.cd) + 1000
    if untilCd > tonumber(stateMs) then
      ms = math.min(untilCd, 315360000000) -- ten years: a cooldown "forever" still gets an expiry
    end
  end
  redis.call('PEXPIRE', c.st, ms)
end

local op = ARGV[1]

if op == 'acquire' then
  -- ARGV: op, now, maxHolders ('0' when not leased), leaseId, lease TTL in microseconds, leaseKeepMs, stateMs, then
  -- the candidates' blocks. Returns the granted index (0-based, -1 for none), the usage cap's cooldown end ('' for
  -- none), now, then the view of each examined candidate (after the grant for the granted one).
  local now, leaseId = NOW, ARGV[4]
  local maxh = tonumber(ARGV[3])
  local leased = maxh > 0
  local a = 8
  local out = { -1, '', now }
  for i = 1, #KEYS / 5 do
    local c
    c, a = candidate(i, a)
    windows(c)
    load(c, now, leased, true)
    if refused(c, now, leased, maxh) then
      view(c, out)
    else
      local atHead = record(c, now)
      local gAtHead = recordGroup(c, now)
      redis.call('HINCRBY', c.st, 'tu', 1)
      if c.qlive then
        redis.call('HINCRBY', c.st, 'qr', -1)
      end
      if leased then
        local e = nowPlus(tonumber(ARGV[5]))
        redis.call('HSET', c.ls, leaseId, e)
        redis.call('PEXPIRE', c.ls, ARGV[6])
        c.h = c.h + 1
        if not c.es or e < c.es then
          c.es = e
        end
      end
      local caps = false
      for j = 1, c.n do
        local b = c.a + 4 * (j - 1)
        local u = c.nx[j]
        if not atHead then
          u = redis.call('LINDEX', c.log, ARGV[b + 1]) -- inserted behind newer uses: read again
        elseif u == true then
          u = now
        end
        c.u[j] = u
        local cd = ARGV[b + 3]
        if cd ~= '' and u and c.th[j] < u then -- the grant filled the window
          local ce = nowPlus(tonumber(cd))
          if not caps or caps < ce then
            caps = ce
          end
        end
      end
      for j = 1, c.gn do
        local u = c.gnx[j]
        if not gAtHead then
          u = redis.call('LINDEX', c.glog, ARGV[c.ga + 4 * (j - 1) + 1])
        elseif u == true then
          u = now
        end
        c.gu[j] = u
      end
      if caps then
        if not c.cd or c.cd < caps then
          c.cd = caps
          redis.call('HSET', c.st, 'cd', caps)
        end
        out[2] = caps
      end
      keepState(c, now, ARGV[7])
      out[1] = i - 1
      return view(c, out)
    end
  end
  return out
end

if op == 'release' then
  -- ARGV: op, now, leased ('1'/'0'), leaseId ('' for none), cooldownUntil ('' for none), remove, stateMs, block.
  -- Returns now, then the view afterwards.
  local now, leaseId = NOW, ARGV[4]
  local leased = ARGV[3] == '1'
  local cdArg = ARGV[5]
  local c = candidate(1, 8)
  if leaseId ~= '' then
    redis.call('HDEL', c.ls, leaseId)
  end
  load(c, now, leased, false)
  local changed = false
  if cdArg ~= '' and (not c.cd or c.cd < cdArg) then
    redis.call('HSET', c.st, 'cd', cdArg)
    c.cd = cdArg
    changed = true
  end
  if ARGV[6] == '1' then
    redis.call('HSET', c.st, 'rm', '1')
    c.rm = '1'
    changed = true
  end
  if changed then
    keepState(c, now, ARGV[7])
  end
  return view(c, { now })
end

if op == 'usage' then
  -- ARGV: op, now, leased, block. Returns total uses, now, then the view, then the uses in each limit's current
  -- window (window plus guard band; the secret's limits, then its group's), then the upstream quota's five fields
  -- ('' when none holds).
  local now = NOW
  local leased = ARGV[3] == '1'
  local c = candidate(1, 4)
  windows(c)
  load(c, now, leased, false)
  local out = view(c, { tonumber(redis.call('HGET', c.st, 'tu') or '0'), now })
  local function counts(log, capText, n, th)
    local uses = {}
    if tonumber(capText) > 0 then
      uses = redis.call('LRANGE', log, 0, tonumber(capText) - 1)
    end
    for j = 1, n do
      local count = 0
      for k = 1, #uses do
        if th[j] < uses[k] and uses[k] <= now then -- in (now - window, now]; later uses are clock skew
          count = count + 1
        end
      end
      out[#out + 1] = count
    end
  end
  counts(c.log, c.cap, c.n, c.th)
  counts(c.glog, c.gcap, c.gn, c.gth)
  local q = redis.call('HMGET', c.uq, 'l', 'x', 't', 'p')
  local qs = redis.call('HMGET', c.st, 'qr', 'qx')
  q = { q[1], qs[1], qs[2], q[3], q[4] }
  if q[3] and now < q[3] and q[2] then
    for k = 1, 5 do
      out[#out + 1] = q[k]
    end
  else
    for k = 1, 5 do
      out[#out + 1] = ''
    end
  end
  return out
end

if op == 'quota' then
  -- ARGV: op, now, limit (-1 unknown), remaining, reset, learnedAt, policy, reset - 1 s, reset + 1 s (the same
  -- window's bounds), the times on Redis's clock. The rule of UpstreamQuota.merge: while a report holds, one of the
  -- same window (policy, reset within a second) keeps the fewer remaining; one of another window replaces it only
  -- when learned later.
  local now = NOW
  local info = redis.call('HMGET', KEYS[4], 'l', 't', 'p')
  local qs = redis.call('HMGET', KEYS[2], 'qr', 'qx')
  local held = { info[1], qs[1], qs[2], info[2], info[3] }
  local l, r, x, t, p = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
  if held[3] and now < held[3] and held[2] and held[4] then
    if held[5] == ARGV[7] and ARGV[8] <= held[3] and held[3] <= ARGV[9] then
      r = math.min(tonumber(held[2]), tonumber(ARGV[4]))
      l = ARGV[3] == '-1' and held[1] or ARGV[3]
      x = held[3] < ARGV[5] and ARGV[5] or held[3]
      t = held[4] < ARGV[6] and ARGV[6] or held[4]
    elseif ARGV[6] < held[4] then
      return 0
    end
  end
  local ms = msUntil(now, x) + 1000
  redis.call('HSET', KEYS[4], 'l', l, 'x', x, 't', t, 'p', p)
  redis.call('PEXPIRE', KEYS[4], ms)
  redis.call('HSET', KEYS[2], 'qr', r, 'qx', x)
  if redis.call('PTTL', KEYS[2]) < ms then -- never shorten the state's expiry; keep it until the reset at least
    redis.call('PEXPIRE', KEYS[2], ms)
  end
  return 1
end

if op == 'restamp' then
  -- ARGV: op, now, usedAt, match (microseconds), block. Moves the use nearest to usedAt, if within match of it (0:
  -- exactly at it), to now when every limit (the secret's and its group's) admits a use at now without it; else
  -- leaves it. The group's copy of the use (recorded at the same time) moves with it. A use not found is recorded
  -- at now under the same check. Returns now, then per limit (the secret's, then its group's) the use its window
  -- turns on ('' when the log is shorter).
  local now, usedAt = NOW, ARGV[3]
  local c = candidate(1, 5)
  windows(c)
  local own, grouped = tonumber(c.cap) > 0, c.gn > 0 and tonumber(c.gcap) > 0
  local match = tonumber(ARGV[4])
  if match > 0 and (own or grouped) then
    -- the secret's own log holds only its uses; the group's is searched only when the secret keeps none
    local want = tonumber(string.sub(usedAt, 1, 16))
    local best, bestGap = false, match + 1
    for _, t in ipairs(redis.call('LRANGE', own and c.log or c.glog, 0, -1)) do
      local gap = math.abs(tonumber(string.sub(t, 1, 16)) - want)
      if gap < bestGap then
        best, bestGap = t, gap
      end
    end
    usedAt = best
  end
  local had = own and usedAt and redis.call('LREM', c.log, 1, usedAt) > 0
  local groupHad = grouped and usedAt and redis.call('LREM', c.glog, 1, usedAt) > 0
  load(c, now, false, false)
  if full(c) then -- only limits count: cooldowns and leases were checked at the grant
    if had then
      record(c, usedAt)
    end
    if groupHad then
      recordGroup(c, usedAt)
    end
  else
    record(c, now)
    recordGroup(c, now)
    for j = 1, c.n do
      c.u[j] = false
    end
    for j = 1, c.gn do
      c.gu[j] = false
    end
  end
  local out = { now }
  for j = 1, c.n do
    out[#out + 1] = c.u[j] or ''
  end
  for j = 1, c.gn do
    out[#out + 1] = c.gu[j] or ''
  end
  return out
end

if op == 'past' then
  -- ARGV: op, now (unused), stateMs, block, then the use times. Merges them into the log, keeping the newest cap.
  local stateMs = tonumber(ARGV[3])
  local c, a = candidate(1, 4)
  local cap = tonumber(c.cap)
  if cap > 0 then
    local times = redis.call('LRANGE', c.log, 0, -1)
    for k = a, #ARGV do
      times[#times + 1] = ARGV[k]
    end
    table.sort(times, function(x, y) return x > y end) -- newest first
    redis.call('DEL', c.log)
    local n = math.min(#times, cap)
    for k = 1, n do
      redis.call('RPUSH', c.log, times[k])
    end
    if n > 0 then
      redis.call('PEXPIRE', c.log, c.keep)
    end
  end
  redis.call('HINCRBY', c.st, 'tu', #ARGV - a + 1)
  if redis.call('PTTL', c.st) < stateMs then -- never shorten a long cooldown's expiry
    redis.call('PEXPIRE', c.st, stateMs)
  end
  return 1
end

if op == 'remove' then
  -- KEYS: log, st, ls, uq, group log; ARGV: op, now (unused), stateMs
  redis.call('HSET', KEYS[2], 'rm', '1')
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
  end
  return 1
end

if op == 'restore' then
  redis.call('HDEL', KEYS[2], 'rm', 'cd')
  return 1
end

if op == 'forget' then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  return 1
end

return redis.error_reply('unknown usage store operation ' .. tostring(op))
