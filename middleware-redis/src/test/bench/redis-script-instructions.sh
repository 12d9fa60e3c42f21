#!/usr/bin/env bash
# Redis's CPU instructions per usage-store call (docs/benchmarks.md, "Redis usage store"): a count that, unlike CPU
# time, does not depend on what else the machine runs. Starts a throw-away redis-server under valgrind's callgrind on
# a free loopback port, loads usage-store.lua as a function library (as RedisUsageStore does) and, for comparison,
# a function returning 1, runs each call below N times pipelined with redis-benchmark and prints instructions per
# call: a leased acquire and its release, as RedisUsageStoreBenchmark makes them (a secret limited to 100 requests per
# second, here with a 1 us window so that the full log is read and every call is granted), and an unleased acquire.
# Needs valgrind (Debian package valgrind).
# Usage, from the repository root: bash middleware-redis/src/test/bench/redis-script-instructions.sh [calls=2000]
#   SOURCE=<file> measures another version of the script (e.g. one from git show), as long as it takes this block
#   format; the store's function of 2026-12-05 and later.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CALLS=${1:-2000}
SOURCE=${SOURCE:-$HERE/../../main/resources/dev/proxymanager/middleware/store/redis/usage-store.lua}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DIR/cg.%p" \
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >"$DIR/valgrind.log" 2>&1 &
VG=$!
trap 'kill "$VG" 2>/dev/null || true; wait "$VG" 2>/dev/null || true; rm -rf "$DIR"' EXIT
R="redis-cli -p $PORT"
until $R ping >/dev/null 2>&1; do sleep 0.2; done
{ echo '#!lua name=pm_bench'; cat "$SOURCE"
  echo "redis.register_function('pm_bench', function(keys, args) return run(keys, args) end)"; } | $R -x FUNCTION LOAD >/dev/null
printf '#!lua name=pm_one\nredis.register_function("pm_one", function(keys, args) return 1 end)\n' | $R -x FUNCTION LOAD >/dev/null

# instructions per call of the command given, over CALLS calls after a short warm-up on emptied keys
per_call() {
  $R FLUSHALL >/dev/null
  redis-benchmark -p "$PORT" -c 1 -P 16 -n 200 -q "$@" >/dev/null
  callgrind_control -i on "$VG" >/dev/null 2>&1
  callgrind_control -z "$VG" >/dev/null 2>&1
  redis-benchmark -p "$PORT" -c 1 -P 16 -n "$CALLS" -q "$@" >/dev/null
  rm -f "$DIR"/cg.*.*
  callgrind_control --dump=call "$VG" >/dev/null 2>&1
  callgrind_control -i off "$VG" >/dev/null 2>&1
  awk -v n="$CALLS" '/^summary:/ { printf "%.0f\n", $2 / n }' "$(ls -t "$DIR"/cg.*.* | head -1)"
}
KEYS=(4 '{bench}:s:log' '{bench}:s:st' '{bench}:s:ls' '{bench}:s:uq')
# acquire: op, now ('' = Redis's clock), maxHolders, leaseId, lease TTL us, stateMs, units; block: n, hi, sp, cd,
# cap, keep, shared parts. release: op, now, leased, leaseId, cooldown, remove, stateMs; short block: n, hi, parts.
echo "redis-server $(redis-server --version | cut -d' ' -f3), $CALLS calls each, instructions per call:"
echo "FCALL of return 1:  $(per_call FCALL pm_one 0)"
echo "acquire, leased:    $(per_call FCALL pm_bench "${KEYS[@]}" acquire '' 4 lease 60000000 604800000 1 1 99 1 '' 100 61000 0)"
echo "release, leased:    $(per_call FCALL pm_bench "${KEYS[@]}" release 1767225600000000000 1 lease '' 0 604800000 1 99 0)"
echo "acquire, unleased:  $(per_call FCALL pm_bench "${KEYS[@]}" acquire '' 0 '' '' 604800000 1 1 99 1 '' 100 61000 0)"
