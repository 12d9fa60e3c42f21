-- Proxy Manager usage store, key format v1 (see docs/redis.md). Each call is one atomic operation named by ARGV[1].
--
-- One source, run two ways (RedisUsageStore appends the ending): as a function library (FUNCTION LOAD once, then
-- FCALL; Redis >= 7), whose helpers below are created once at load, or as a script (EVALSHA, where functions are
-- refused), whose body is run on every call, helpers included. Either way the work is in run(KEYS, ARGV).
--
-- Times are epoch nanoseconds written as 19-digit zero-padded decimals, so string order is time order: the script
-- compares stored times but never converts them. "now" is Redis's own clock (TIME) when ARGV[2] is '', so every
-- process sharing this Redis decides on one clock; else it is the caller's (tests with a fake clock; and release and
-- quota reports, which decide no grant, get the caller's estimate of Redis's time to spare a TIME call). The times a
-- decision needs (now - spacing, now + cooldown, the lease's end) are worked out here, only when a read use has to
-- be compared with one, in microseconds (Lua numbers are doubles: epoch microseconds fit in 2^53, nanoseconds do
-- not), keeping now's last three digits. The caller works out from what the script read when a refused secret frees.
--
-- Per secret, four keys share the endpoint's hash tag:
--   <p>:log  LIST of use times, newest first; at least the largest limit's request count (trimmed in steps)
--   <p>:st   HASH tu = total uses, cd = cooldown end, rm = removed; qr, qx = the upstream's remaining (less the
--            grants since) and reset while a report holds (here, not in uq, so acquire reads one hash per secret);
--            hd = the newest use in the log, as acquire last wrote it (so it need not read the log's head; an
--            operation that writes the log otherwise drops it)
--   <p>:ls   HASH lease id -> lease end (ended entries are dropped whenever the hash is read)
--   <p>:uq   HASH the rest of the upstream's last quota report, for stats: l limit, x reset, t learned at,
--            p policy; expires at the reset. While a report holds, qr = 0 blocks the secret until qx, as a cooldown
--            would. Its times are on Redis's clock, as every stored time.
-- A use is also recorded in the log of each shared part of the call: its route buckets (a log per secret and
-- bucket), then its quota group (a log every member shares). A route bucket may hold an upstream report of its own
-- (a report read from the answer to a call in that bucket): qr, qx in the bucket's <p>:st and the rest in its <p>:uq,
-- as a secret's; at qr <= 0 it refuses only the calls counting in that bucket, until qx. A call about candidates
-- sends, per candidate, its four keys, then the log key of each of its shared parts (none when it has neither
-- routes nor a group), then the st and uq keys of each of its route buckets.
--
-- A candidate's block in ARGV: its own part, then k (its number of shared parts), r (how many of them, the first,
-- are route buckets), then each shared part, in the order of their keys. A part: n (its number of limits); per limit hi, sp, cd: hi is the LRANGE index (0-based) of
-- the use the limit's window turns on for the call's units (req - units; '' when req < units: never admitted; the
-- one it turns on for one more use once they are recorded is at hi - 1, -1 meaning one of them), sp its spacing in
-- microseconds (window plus guard band: a use frees its slot sp after it), cd its cooldown in microseconds when it
-- has one, else '' (always '' in a shared part); then cap (the largest req: how many uses the log keeps; 0 keeps
-- none) and keep (the log's expiry in ms). Release only shows a view: its block is the short form, a part being n
-- and per limit hi alone.
--
-- A view (what the caller turns into an availability): rm ('1' or ''), cd ('' for none), live lease count,
-- earliest lease end (''), then per limit of every part the use its window turns on ('' when the log is shorter,
-- '~' for never); a route bucket whose upstream report says nothing is left has '@' and the report's reset appended
-- to its first limit's entry (it frees no sooner than that). acquire and release answer with their fields joined by commas in one string: Redis converts each
-- element of a reply on its own, which cost more than the joining.
local TRIM_SLACK = 16
local NEVER = '~' -- after every time in string order: a window that never admits the call's units
local PAD = { '00000', '0000', '000', '00', '0', '' }

-- The numbers of a configuration sent as text (counts, indexes, spacings, cooldowns, expiries), each text converted
-- once: tonumber costs about a quarter of a nested Redis command, and these take few values. (As a script, once a
-- call.)
local NUMBERS = {}
local function number(s)
  local v = NUMBERS[s]
  if not v then
    v = tonumber(s)
    NUMBERS[s] = v
  end
  return v
end

local K, A -- the call's KEYS and ARGV
local NOW, NOW_NS -- now as stored (19 digits) and its last three digits
local NOW_US -- now in whole microseconds; worked out on first use (false until then): few calls need it

local function setNow(arg)
  if arg == '' then
    local t = redis.call('TIME')
    NOW_NS = '000'
    NOW = t[1] .. PAD[#t[2]] .. t[2] .. '000' -- seconds have 10 digits until 2286
  else
    NOW = arg
    NOW_NS = string.sub(arg, 17)
  end
  NOW_US = false
end

-- Per whole-second shift (a lease's TTL, a window of whole seconds): the last second it shifted and the result, so
-- the calls within one second format it once.
local SHIFTED_FROM, SHIFTED_TO = {}, {}

-- now plus us microseconds (negative: minus), as stored; '' before the timeline's start.
local function nowPlus(us)
  if us % 1000000 == 0 then
    local s = string.sub(NOW, 1, 10)
    if SHIFTED_FROM[us] ~= s then
      local t = tonumber(s) + us / 1000000
      SHIFTED_FROM[us], SHIFTED_TO[us] = s, t >= 0 and string.format('%010.0f', t)
    end
    local to = SHIFTED_TO[us]
    return to and to .. string.sub(NOW, 11) or ''
  end
  if not NOW_US then
    NOW_US = tonumber(string.sub(NOW, 1, 16))
  end
  local t = NOW_US + us
  if t < 0 then
    return ''
  end
  return string.format('%016.0f', t) .. NOW_NS
end

-- Small counts (an index, a lease count) as text, each converted once.
local TEXTS = {}
local function text(n)
  local t = TEXTS[n]
  if not t then
    t = tostring(n)
    TEXTS[n] = t
  end
  return t
end

-- hi - 1 as text (see the block), each hi converted once.
local LOWER = {}
local function below(hi)
  local lo = LOWER[hi]
  if not lo then
    lo = tostring(number(hi) - 1)
    LOWER[hi] = lo
  end
  return lo
end

-- Whether a use u (false: none) holds a slot of a window of spacing sp (microseconds, as text) at now.
local function inWindow(u, sp)
  return u and nowPlus(-number(sp)) < u
end

-- Reads a part's limits (n of them, their block at ARGV[b], step fields each) from log into the view
-- out[m + 1 .. m + n]; with nx, also the use each will turn on after the call's units are recorded (into nx[m + j];
-- true: one of them). With decide, returns whether a window is full (only the operations that decide need window
-- starts).
local function readPart(log, b, n, step, out, m, decide, nx)
  local full = false
  for j = 1, n do
    local hi = A[b]
    local u
    if hi == '' then
      u = NEVER
      full = true
    elseif not nx then
      u = redis.call('LINDEX', log, hi)
    else
      local lo = below(hi)
      if lo == '-1' then
        u = redis.call('LINDEX', log, hi)
        nx[m + j] = true
      else
        local r = redis.call('LRANGE', log, lo, hi)
        u = r[2] or false
        nx[m + j] = r[1] or false
      end
    end
    if decide and not full and u and inWindow(u, A[b + 1]) then
      full = true
    end
    out[m + j] = u or ''
    b = b + step
  end
  return full
end

-- Live leases of ls, dropping ended ones: the count and the earliest end (false for none).
local function holders(ls)
  local all = redis.call('HGETALL', ls)
  local count, es = 0, false
  for k = 1, #all, 2 do
    local e = all[k + 1]
    if NOW < e then
      count = count + 1
      if not es or e < es then
        es = e
      end
    else
      redis.call('HDEL', ls, all[k])
    end
  end
  return count, es
end

-- Removal and cooldown end (false for none) of a state hash, the upstream's block counting as a cooldown, and
-- whether an upstream report holds; then total uses, the log's head as last written (false for unknown), the
-- upstream's remaining and its reset.
local function state(st)
  local s = redis.call('HMGET', st, 'rm', 'cd', 'qr', 'qx', 'tu', 'hd')
  local cd, qx = s[2], s[4]
  local qlive = qx and NOW < qx
  if qlive and tonumber(s[3]) <= 0 and (not cd or cd < qx) then
    cd = qx -- the upstream said nothing is left until its reset
  end
  return s[1], cd, qlive, s[5], s[6], s[3], qx
end

-- Records units uses at t in a log keeping cap uses (text; '0' keeps none), keeping the list sorted newest first
-- even when another process's clock is behind; head is the log's newest use when known (false: read it). Returns
-- whether they went to the head (the usual case) and the log's newest use afterwards.
local function recordIn(log, cap, keep, t, units, head)
  if cap == '0' then
    return true, t
  end
  if not head then
    head = redis.call('LINDEX', log, 0)
  end
  local len, atHead
  if head and t < head then
    for _ = 1, units do
      len = false
      local all = redis.call('LRANGE', log, 0, -1)
      for k = 1, #all do
        if all[k] <= t then
          len = redis.call('LINSERT', log, 'BEFORE', all[k], t)
          break
        end
      end
      if not len then
        len = redis.call('RPUSH', log, t)
      end
    end
    atHead = false
  elseif units == 1 then
    len = redis.call('LPUSH', log, t)
    atHead = true
  else
    local ts = {}
    for u = 1, units do
      ts[u] = t
    end
    len = redis.call('LPUSH', log, unpack(ts))
    atHead = true
  end
  -- only the newest cap uses count; trimming every few pushes rather than on each saves a command per use
  local c = number(cap)
  if len > c + TRIM_SLACK then
    redis.call('LTRIM', log, 0, c - 1)
  end
  redis.call('PEXPIRE', log, keep)
  if atHead then
    return true, t
  end
  return false, head
end

-- Milliseconds from now to t (both times), rounded up; at least 1. Only for expiries: doubles are close enough.
local function msUntil(t)
  local ms = math.ceil((tonumber(string.sub(t, 1, -10)) - tonumber(string.sub(NOW, 1, -10))) * 1000
    + (tonumber(string.sub(t, -9)) - tonumber(string.sub(NOW, -9))) / 1000000)
  if ms < 1 then
    return 1
  end
  return ms
end

-- Keeps a state hash at least stateMs, and at least until its cooldown cd (false for none) ends.
local function keepState(st, cd, stateMs)
  local ms = stateMs
  if cd and NOW < cd then
    local untilCd = msUntil(cd) + 1000
    if untilCd > number(stateMs) then
      ms = math.min(untilCd, 315360000000) -- ten years: a cooldown "forever" still gets an expiry
    end
  end
  redis.call('PEXPIRE', st, ms)
end

-- Never shortens a key's expiry (a long cooldown's): sets it to ms only when it would end sooner.
local function keepAtLeast(key, ms)
  if redis.call('PTTL', key) < number(ms) then
    redis.call('PEXPIRE', key, ms)
  end
end

-- Per route bucket p of the candidate last viewed, its upstream report's remaining and reset while one holds (RQR[p]
-- false when none does).
local RQR, RQX = {}, {}

-- The view of the candidate whose keys start at KEYS[kb] and block at ARGV[a] (the short form with short), appended
-- to out; with nx, decides and reads the uses after a grant too (see readPart). Returns whether a window is full (or
-- a route bucket's upstream report used up), where the next block starts, the number of shared parts, the live
-- leases, then what state read, then the number of route buckets.
local function view(kb, a, out, leased, nx, short)
  local rm, cd, qlive, tu, hd, qr, qx = state(K[kb + 1])
  local h, es = 0, false
  if leased then
    h, es = holders(K[kb + 2])
  end
  local m = #out
  out[m + 1] = rm and '1' or ''
  out[m + 2] = cd or ''
  out[m + 3] = text(h)
  out[m + 4] = es or ''
  m = m + 4
  local step, tail = 3, 2 -- fields per limit, after them
  if short then
    step, tail = 1, 0
  end
  local n = number(A[a])
  local full = readPart(K[kb], a + 1, n, step, out, m, nx, nx)
  m = m + n
  a = a + 1 + step * n + tail
  local k, r = number(A[a]), number(A[a + 1])
  a = a + 2
  for p = 1, k do
    n = number(A[a])
    if readPart(K[kb + 3 + p], a + 1, n, step, out, m, nx, nx) then
      full = true
    end
    if p <= r then -- read only for a call in route buckets
      local q = redis.call('HMGET', K[kb + 2 + k + 2 * p], 'qr', 'qx')
      if q[2] and NOW < q[2] then
        RQR[p], RQX[p] = tonumber(q[1]) or 0, q[2]
        if RQR[p] <= 0 and n > 0 then -- a bucket without limits has none to name: its report only shows
          full = true
          out[m + 1] = out[m + 1] .. '@' .. q[2]
        end
      else
        RQR[p] = false
      end
    end
    m = m + n
    a = a + 1 + step * n + tail
  end
  return full, a, k, h, rm, cd, qlive, tu, hd, qr, r, qx
end

-- After units uses were recorded at now in a part's log (at its head or not), the uses its limits' windows turn
-- on for one more use (from nx, or read again), into out[m + j]; returns the latest end of a usage cap the grant
-- reached (false for none).
local function afterGrant(log, b, n, out, m, nx, atHead, units, caps)
  for j = 1, n do
    local u = nx[m + j]
    if not atHead then
      u = redis.call('LINDEX', log, number(A[b]) + units - 1) -- behind newer uses: read again
    elseif u == true then
      u = NOW
    end
    out[m + j] = u or ''
    local cd = A[b + 2]
    if cd ~= '' and u and inWindow(u, A[b + 1]) then -- the grant filled the window
      local ce = nowPlus(number(cd))
      if not caps or caps < ce then
        caps = ce
      end
    end
    b = b + 3
  end
  return caps
end

-- How long a lease hash is kept after a lease of ttl (microseconds, as text): the lease, and a second more.
local LEASE_KEEP = {}
local function leaseKeep(ttl)
  local ms = LEASE_KEEP[ttl]
  if not ms then
    ms = tostring(math.ceil(number(ttl) / 1000) + 1000)
    LEASE_KEEP[ttl] = ms
  end
  return ms
end

local function acquire()
  -- ARGV: op, now, maxHolders ('0' when not leased), leaseId, lease TTL in microseconds, stateMs, units, then the
  -- candidates' blocks. Returns the granted index (0-based, -1 for none), the usage cap's cooldown end ('' for
  -- none), now, then the view of each examined candidate (after the grant for the granted one), joined.
  local maxh = number(A[3])
  local leased = maxh > 0
  local units = number(A[7])
  local out = { '-1', '', NOW }
  local nx = {}
  local a, kb, i = 8, 1, 0
  while kb <= #K do
    local at = #out
    local full, next, k, h, rm, cd, qlive, tu, hd, qr, r, qx = view(kb, a, out, leased, nx)
    if not (full or rm or (cd and NOW < cd) or (leased and h >= maxh)) then
      -- granted: record the units in every log of the call
      local n = number(A[a])
      local b = a + 1 + 3 * n
      local atHead, head = recordIn(K[kb], A[b], A[b + 1], NOW, units, hd)
      local m = at + 4
      local caps = afterGrant(K[kb], a + 1, n, out, m, nx, atHead, units, false)
      m = m + n
      b = b + 4 -- past cap, keep, k and r
      for p = 1, k do
        local pn = number(A[b])
        local pb = b + 1 + 3 * pn
        local log = K[kb + 3 + p]
        afterGrant(log, b + 1, pn, out, m, nx, recordIn(log, A[pb], A[pb + 1], NOW, units), units, false)
        if p <= r and RQR[p] then -- the bucket's upstream report counts the grant down too
          local left = RQR[p] - units
          redis.call('HSET', K[kb + 2 + k + 2 * p], 'qr', left)
          if left <= 0 and pn > 0 then
            out[m + 1] = out[m + 1] .. '@' .. RQX[p]
          end
        end
        m = m + pn
        b = pb + 2
      end
      local st = K[kb + 1]
      local used = (tonumber(tu) or 0) + units
      local newCd = false
      if caps then
        if not cd or cd < caps then
          cd, newCd = caps, caps
          out[at + 2] = caps
        end
        out[2] = caps
      end
      -- one write of the state: total uses, the log's head, and the remaining or a usage cap when they change
      if not qlive and not newCd then
        redis.call('HSET', st, 'tu', used, 'hd', head)
      else
        local f = { 'tu', used, 'hd', head }
        if qlive then
          local left = (tonumber(qr) or 0) - units
          f[5], f[6] = 'qr', left
          local shown = out[at + 2]
          if left <= 0 and (shown == '' or shown < qx) then
            out[at + 2] = qx -- the grant used up what the upstream reported: as a cooldown until its reset
          end
        end
        if newCd then
          f[#f + 1], f[#f + 2] = 'cd', newCd
        end
        redis.call('HSET', st, unpack(f))
      end
      -- its expiry is renewed on a new hash, on a usage cap, and once every 16 uses, not on each
      if not tu or newCd or math.floor(used / 16) ~= math.floor((used - units) / 16) then
        keepState(st, cd, A[6])
      end
      if leased then
        local ls = K[kb + 2]
        local e = nowPlus(number(A[5]))
        redis.call('HSET', ls, A[4], e)
        redis.call('PEXPIRE', ls, leaseKeep(A[5]))
        out[at + 3] = text(h + 1)
        local es = out[at + 4]
        if es == '' or e < es then
          out[at + 4] = e
        end
      end
      out[1] = text(i)
      return table.concat(out, ',')
    end
    a, kb, i = next, kb + 4 + k + 2 * r, i + 1
  end
  return table.concat(out, ',')
end

local function release()
  -- ARGV: op, now, leased ('1'/'0'), leaseId ('' for none), cooldownUntil ('' for none), remove, stateMs, block
  -- (short form). Returns now, then the view afterwards, joined.
  local leaseId, cdArg = A[4], A[5]
  local st = K[2]
  if leaseId ~= '' then
    redis.call('HDEL', K[3], leaseId)
  end
  local changed, cd = false, false
  if cdArg ~= '' or A[6] == '1' then
    cd = redis.call('HGET', st, 'cd')
  end
  if cdArg ~= '' and (not cd or cd < cdArg) then
    redis.call('HSET', st, 'cd', cdArg)
    cd = cdArg
    changed = true
  end
  if A[6] == '1' then
    redis.call('HSET', st, 'rm', '1')
    changed = true
  end
  local out = { NOW }
  view(1, 8, out, A[3] == '1', false, true)
  if changed then
    keepState(st, cd, A[7])
  end
  return table.concat(out, ',')
end

-- Per limit of a part (n limits, their block at ARGV[b]), the uses of log in its current window, appended to out.
local function counts(log, b, n, cap, out)
  local uses = {}
  if cap ~= '0' then
    uses = redis.call('LRANGE', log, 0, tonumber(cap) - 1)
  end
  for j = 1, n do
    local th = nowPlus(-number(A[b + 1]))
    local count = 0
    for k = 1, #uses do
      if th < uses[k] and uses[k] <= NOW then -- in (now - window, now]; later uses are clock skew
        count = count + 1
      end
    end
    out[#out + 1] = count
    b = b + 3
  end
end

local function usage()
  -- ARGV: op, now, leased, block. Returns total uses, now, then the view, then the uses in each limit's current
  -- window (window plus guard band; every part's limits), then the upstream quota's five fields ('' when none holds).
  local out = { tonumber(redis.call('HGET', K[2], 'tu') or '0'), NOW }
  view(1, 4, out, A[3] == '1', false, false)
  local a, kb = 4, 1
  local n = number(A[a])
  counts(K[kb], a + 1, n, A[a + 1 + 3 * n], out)
  a = a + 3 + 3 * n
  local k, r = number(A[a]), number(A[a + 1])
  a = a + 2
  for p = 1, k do
    n = number(A[a])
    counts(K[kb + 3 + p], a + 1, n, A[a + 1 + 3 * n], out)
    a = a + 3 + 3 * n
  end
  -- the secret's upstream report, then each route bucket's
  for p = 0, r do
    local st, uq = K[2], K[4]
    if p > 0 then
      st, uq = K[3 + k + 2 * p], K[4 + k + 2 * p]
    end
    local q = redis.call('HMGET', uq, 'l', 'x', 't', 'p')
    local qs = redis.call('HMGET', st, 'qr', 'qx')
    q = { q[1], qs[1], qs[2], q[3], q[4] }
    if q[3] and NOW < q[3] and q[2] then
      for f = 1, 5 do
        out[#out + 1] = q[f] or ''
      end
    else
      for _ = 1, 5 do
        out[#out + 1] = ''
      end
    end
  end
  return out
end

local function quota()
  -- ARGV: op, now, limit (-1 unknown), remaining, reset, learnedAt, policy, reset - 1 s, reset + 1 s (the same
  -- window's bounds), the times on Redis's clock. The rule of UpstreamQuota.merge: while a report holds, one of the
  -- same window (policy, reset within a second) keeps the fewer remaining; one of another window replaces it only
  -- when learned later.
  local info = redis.call('HMGET', K[4], 'l', 't', 'p')
  local qs = redis.call('HMGET', K[2], 'qr', 'qx')
  local held = { info[1], qs[1], qs[2], info[2], info[3] }
  local l, r, x, t, p = A[3], A[4], A[5], A[6], A[7]
  if held[3] and NOW < held[3] and held[2] and held[4] then
    if held[5] == A[7] and A[8] <= held[3] and held[3] <= A[9] then
      r = math.min(tonumber(held[2]), tonumber(A[4]))
      l = A[3] == '-1' and held[1] or A[3]
      x = held[3] < A[5] and A[5] or held[3]
      t = held[4] < A[6] and A[6] or held[4]
    elseif A[6] < held[4] then
      return 0
    end
  end
  local ms = msUntil(x) + 1000
  redis.call('HSET', K[4], 'l', l, 'x', x, 't', t, 'p', p)
  redis.call('PEXPIRE', K[4], ms)
  redis.call('HSET', K[2], 'qr', r, 'qx', x)
  keepAtLeast(K[2], ms) -- keep the state until the reset at least
  return 1
end

-- The use nearest to usedAt (the caller's estimate of a grant's time on Redis's clock) within match microseconds,
-- or false: searched in the first of the call's logs that keeps uses (caps[p] ~= '0'). The secret's own log holds
-- only its uses; a shared one is searched only when the secret keeps none.
local function nearestUse(logs, caps, usedAt, match)
  local search = false
  for p = 1, #logs do
    if caps[p] ~= '0' then
      search = logs[p]
      break
    end
  end
  if not search then
    return usedAt
  end
  local want = tonumber(string.sub(usedAt, 1, 16))
  local best, bestGap = false, match + 1
  for _, t in ipairs(redis.call('LRANGE', search, 0, -1)) do
    local gap = math.abs(tonumber(string.sub(t, 1, 16)) - want)
    if gap < bestGap then
      best, bestGap = t, gap
    end
  end
  return best
end

local function restamp()
  -- ARGV: op, now, usedAt, match (microseconds), units, block. Moves the grant's units uses nearest to usedAt, if
  -- within match of it (0: exactly at it), to now when every limit of every part admits them at now without them;
  -- else leaves them. The shared parts' copies (recorded at the same time) move with them. Uses not found are
  -- recorded at now under the same check. Returns now, then per limit of every part the use its window turns on for
  -- the units ('' when the log is shorter, '~' for never), or '' for every limit when they moved.
  local usedAt, units = A[3], number(A[5])
  -- the logs of the call (own first) with their parts' blocks
  local logs, blocks = { K[1] }, { 6 }
  local a = 6
  a = a + 3 + 3 * number(A[a])
  local k = number(A[a])
  a = a + 1 -- r: route buckets' reports are not restamp's business
  for p = 1, k do
    a = a + 1
    logs[p + 1], blocks[p + 1] = K[4 + p], a
    a = a + 2 + 3 * number(A[a])
  end
  local function capOf(p)
    local b = blocks[p]
    return A[b + 1 + 3 * number(A[b])]
  end
  local match = number(A[4])
  if match > 0 then
    local caps = {}
    for p = 1, #logs do
      caps[p] = capOf(p)
    end
    usedAt = nearestUse(logs, caps, usedAt, match)
  end
  local had = {}
  for p = 1, #logs do
    had[p] = usedAt and capOf(p) ~= '0' and redis.call('LREM', logs[p], units, usedAt) or 0
  end
  local out = { NOW }
  local full = false
  for p = 1, #logs do
    local b = blocks[p]
    local n = number(A[b])
    -- only limits count: cooldowns and leases were checked at the grant
    if readPart(logs[p], b + 1, n, 3, out, #out, true, false) then
      full = true
    end
  end
  for p = 1, #logs do
    local b = blocks[p]
    local n = number(A[b])
    local cap, keep = A[b + 1 + 3 * n], A[b + 2 + 3 * n]
    if full then
      if had[p] > 0 then
        recordIn(logs[p], cap, keep, usedAt, had[p])
      end
    else
      recordIn(logs[p], cap, keep, NOW, units)
    end
  end
  if had[1] > 0 or not full then
    redis.call('HDEL', K[2], 'hd') -- the log changed behind acquire's back
  end
  if not full then
    for j = 2, #out do
      out[j] = ''
    end
  end
  return out
end

-- The remaining qr of an upstream report (reset qx, the rest in hash uq) once a grant at usedAt gives units back;
-- false when it does not change: no report holds, or it was learned after the grant (not counted down by it).
local function quotaGivenBack(qr, qx, uq, usedAt, units)
  if not (qr and qx and NOW < qx) then
    return false
  end
  local q = redis.call('HMGET', uq, 'l', 't')
  if not (q[2] and q[2] <= usedAt) then
    return false
  end
  -- as the in-memory store counts it: never below 0 after a grant, then the units back
  local left = math.max(0, tonumber(qr)) + units
  local l = tonumber(q[1] or '-1')
  if l >= 0 and left > l then
    left = l
  end
  return left
end

local function giveback()
  -- ARGV: op, now, leased ('1'/'0'), leaseId ('' for none), usedAt, match (microseconds), units, block (for one
  -- use). Ends the lease and withdraws the grant's units uses nearest to usedAt, if within match of it (0: exactly
  -- at it), from the secret's log and its shared parts' logs, each first cut to the uses it keeps (as the in-memory
  -- log holds them); lowers total uses by units (not below 0) and, while the upstream's report the grant counted
  -- down holds (learned at or before the use), gives the units back to its remaining (not above its limit). A use
  -- not found is not an error. Returns now, then the view afterwards, joined.
  local usedAt, units = A[5], number(A[7])
  local st = K[2]
  if A[4] ~= '' then
    redis.call('HDEL', K[3], A[4])
  end
  -- the logs of the call (own first) with the uses each keeps
  local logs, caps = { K[1] }, {}
  local a = 8
  caps[1] = A[a + 1 + 3 * number(A[a])]
  a = a + 3 + 3 * number(A[a])
  local k, r = number(A[a]), number(A[a + 1])
  a = a + 1
  for p = 1, k do
    a = a + 1
    logs[p + 1], caps[p + 1] = K[4 + p], A[a + 1 + 3 * number(A[a])]
    a = a + 2 + 3 * number(A[a])
  end
  for p = 1, #logs do
    if caps[p] ~= '0' then
      redis.call('LTRIM', logs[p], 0, number(caps[p]) - 1)
    end
  end
  local match = number(A[6])
  if match > 0 then
    usedAt = nearestUse(logs, caps, usedAt, match) -- recorded on Redis's clock, as restamp finds it
  end
  if usedAt then
    for p = 1, #logs do
      if caps[p] ~= '0' and redis.call('LREM', logs[p], units, usedAt) > 0 and p == 1 then
        redis.call('HDEL', st, 'hd') -- the log changed behind acquire's back
      end
    end
  end
  local s = redis.call('HMGET', st, 'tu', 'qr', 'qx')
  if s[1] then
    local f = { 'tu', math.max(0, tonumber(s[1]) - units) }
    local left = quotaGivenBack(s[2], s[3], K[4], usedAt or A[5], units)
    if left then
      f[3], f[4] = 'qr', left
    end
    redis.call('HSET', st, unpack(f))
  end
  for p = 1, r do -- the reports of the route buckets the grant counted in
    local rst = K[3 + k + 2 * p]
    local q = redis.call('HMGET', rst, 'qr', 'qx')
    local left = quotaGivenBack(q[1], q[2], K[4 + k + 2 * p], usedAt or A[5], units)
    if left then
      redis.call('HSET', rst, 'qr', left)
    end
  end
  local out = { NOW }
  view(1, 8, out, A[3] == '1', false, false)
  return table.concat(out, ',')
end

-- Merges use times (ARGV[from..]) into a log, keeping the newest cap.
local function merge(log, cap, keep, from)
  local c = tonumber(cap)
  if c == 0 then
    return
  end
  local times = redis.call('LRANGE', log, 0, -1)
  for k = from, #A do
    times[#times + 1] = A[k]
  end
  table.sort(times, function(x, y) return x > y end) -- newest first
  redis.call('DEL', log)
  local n = math.min(#times, c)
  for k = 1, n do
    redis.call('RPUSH', log, times[k])
  end
  if n > 0 then
    redis.call('PEXPIRE', log, keep)
  end
end

local function past()
  -- ARGV: op, now (unused), stateMs, block, then the use times. Merges them into the log of every part, keeping
  -- each one's newest cap, and counts them in total uses.
  local a = 4
  local n = number(A[a])
  local from = a + 5 + 3 * n -- after k and r
  local k = number(A[from - 2])
  for p = 1, k do
    from = from + 3 + 3 * number(A[from])
  end
  merge(K[1], A[a + 1 + 3 * n], A[a + 2 + 3 * n], from)
  a = a + 5 + 3 * n
  for p = 1, k do
    n = number(A[a])
    merge(K[4 + p], A[a + 1 + 3 * n], A[a + 2 + 3 * n], from)
    a = a + 3 + 3 * n
  end
  redis.call('HINCRBY', K[2], 'tu', #A - from + 1)
  redis.call('HDEL', K[2], 'hd') -- the log changed behind acquire's back
  keepAtLeast(K[2], A[3])
  return 1
end

local OPERATIONS = {
  acquire = acquire,
  release = release,
  usage = usage,
  quota = quota,
  restamp = restamp,
  giveback = giveback,
  past = past,
  -- KEYS: log, st, ls, uq; ARGV: op, now (unused), stateMs
  remove = function()
    redis.call('HSET', K[2], 'rm', '1')
    keepAtLeast(K[2], A[3])
    return 1
  end,
  restore = function()
    redis.call('HDEL', K[2], 'rm', 'cd')
    return 1
  end,
  forget = function()
    redis.call('DEL', K[1], K[2], K[3], K[4])
    return 1
  end,
}

local function run(keys, argv)
  K, A = keys, argv
  local operation = OPERATIONS[argv[1]]
  if not operation then
    return redis.error_reply('unknown usage store operation ' .. tostring(argv[1]))
  end
  setNow(argv[2])
  return operation()
end
