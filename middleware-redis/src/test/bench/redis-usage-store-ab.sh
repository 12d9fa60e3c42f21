#!/usr/bin/env bash
# A/B of the Redis usage store (docs/benchmarks.md, "Redis usage store"): two checkouts' RedisUsageStoreBenchmark,
# alternating against one throw-away redis-server, each run on emptied keys; prints store calls/s, client CPU per
# call, the script's time in Redis (usec_per_call) and Redis's CPU per call of each run.
# Usage: bash middleware-redis/src/test/bench/redis-usage-store-ab.sh <checkout A> <checkout B> [seconds=8] [rounds=2]
# Each checkout needs: ./mvnw -B -q -pl middleware-redis -am test-compile dependency:build-classpath
#   -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test   (-pl middleware before the module split)
# BENCH_JAVA_OPTS: JVM options for both (default -Dbench.virtual=true).
set -euo pipefail
A=$1 B=$2 SECS=${3:-8} ROUNDS=${4:-2}
OPTS=${BENCH_JAVA_OPTS:--Dbench.virtual=true}
: "${JAVA_HOME:?set JAVA_HOME to a JDK 21+}"
# shellcheck source=redis-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/redis-lib.sh"
start_redis
R="redis-cli -p $PORT"
cpu() { $R INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { print s }'; }
module() { # the module holding the Redis store in checkout $1 (middleware before the module split)
  if [ -d "$1/middleware-redis" ]; then echo "$1/middleware-redis"; else echo "$1/middleware"; fi
}
run() { # checkout label
  local m; m=$(module "$1")
  $R FLUSHALL >/dev/null; $R CONFIG RESETSTAT >/dev/null
  local before out after stats
  before=$(cpu)
  # shellcheck disable=SC2086 # word splitting of the options is wanted
  out=$("$JAVA_HOME/bin/java" $OPTS -cp "$m/target/classes:$m/target/test-classes:$(cat "$m/target/bench.classpath")" \
    dev.proxymanager.middleware.store.redis.RedisUsageStoreBenchmark "redis://127.0.0.1:$PORT" "$SECS" 64 2>/dev/null)
  after=$(cpu)
  stats=$($R INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(evalsha|fcall):' | head -1)
  echo "$2: $(echo "$out" | grep 'store calls/s') | $(echo "$out" | grep 'client JVM CPU') | $(echo "$stats" \
    | awk -F'[=,]' -v a="$before" -v b="$after" '{ printf "script %s us, redis CPU per call %.1f us", $6, (b - a) * 1e6 / $2 }') | load $(cut -d' ' -f1 /proc/loadavg)"
}
for _ in $(seq 1 "$ROUNDS"); do run "$A" A; run "$B" B; done
