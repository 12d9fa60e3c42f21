#!/usr/bin/env bash
# Benchmark of the Redis usage store (docs/benchmarks.md, "Redis usage store"): starts a throw-away redis-server on a
# free loopback port, runs redis-benchmark with EVALSHA of a trivial script, then RedisUsageStoreBenchmark
# (acquire+release from one JVM) against the same server, and stops it.
# Usage, from the repository root: bash middleware-redis/src/test/bench/redis-usage-store.sh [seconds=10] [threads=64]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../../../.."
SECONDS_RUN=${1:-10}
THREADS=${2:-64}
: "${JAVA_HOME:?set JAVA_HOME to a JDK 21+}"

# one reactor run, so the core and its test classes resolve to their target folders (nothing installed)
./mvnw -B -q -pl middleware-redis -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=test

# shellcheck source=redis-lib.sh
source "$HERE/redis-lib.sh"
start_redis

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f1-3)"
SHA=$(redis-cli -p "$PORT" SCRIPT LOAD "return 1")
# only the final line: the progress lines end in carriage returns
# and redis-benchmark's own CPU per request, to set against the store benchmark's client CPU per call
evalsha_benchmark() {
  /usr/bin/time -f '%U %S' -o "$DIR/time" redis-benchmark -p "$PORT" -c "$THREADS" -n 300000 -q EVALSHA "$SHA" 0 \
    | tr '\r' '\n' | tail -1
  awk '{ printf "redis-benchmark CPU per request: %.1f us\n", ($1 + $2) * 1e6 / 300000 }' "$DIR/time"
}
# Redis time per command of the phase just run (usec_per_call), then a fresh count for the next phase
# and Redis's CPU time (user + sys, so network handling included) per script call of that phase (EVALSHA of
# redis-benchmark's "return 1"; FCALL of the store's function, or EVALSHA where Redis refuses functions)
cpu_seconds() { redis-cli -p "$PORT" INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { print s }'; }
commandstats() {
  local stats cpu
  stats=$(redis-cli -p "$PORT" INFO commandstats | grep '^cmdstat' | tr -d '\r')
  cpu=$(cpu_seconds)
  echo "$stats"
  echo "$stats" | awk -F'[=,]' -v cpu="$cpu" -v before="$CPU_BEFORE" \
    '/^cmdstat_(evalsha|fcall):/ { calls += $2 } END { if (calls) printf "redis CPU per EVALSHA/FCALL: %.1f us\n", (cpu - before) * 1e6 / calls }'
  redis-cli -p "$PORT" CONFIG RESETSTAT >/dev/null
  CPU_BEFORE=$(cpu_seconds)
}
CPU_BEFORE=$(cpu_seconds)
echo "== redis-benchmark -p $PORT -c $THREADS -n 300000 -q EVALSHA $SHA 0"
evalsha_benchmark
commandstats
echo "== RedisUsageStoreBenchmark redis://127.0.0.1:$PORT $SECONDS_RUN $THREADS"
"$JAVA_HOME/bin/java" ${BENCH_JAVA_OPTS:-} -cp "middleware-redis/target/classes:middleware-redis/target/test-classes:$(cat middleware-redis/target/bench.classpath)" \
  dev.proxymanager.middleware.store.redis.RedisUsageStoreBenchmark "redis://127.0.0.1:$PORT" "$SECONDS_RUN" "$THREADS"
echo "== INFO commandstats of the store benchmark (warm-up included)"
commandstats
echo "== redis-benchmark again (same run, after the store benchmark)"
evalsha_benchmark

