#!/usr/bin/env bash
# Benchmark of limits as the upstream counts them (docs/benchmarks.md, "Limits at the upstream"): starts a throw-away
# redis-server on a free loopback port, then for each limit_margin given runs UpstreamLimitRun — three engines in
# separate JVMs on that Redis, 5 keys x 20 requests per 2 s, an upstream that refuses (429) every request over the
# limit by arrival time — and prints capacity delivered, violations and the grant-to-write delays; then measures the
# Redis store's calls per second against redis-benchmark's EVALSHA of "return 1" in the same run.
# Usage, from the repository root:
#   bash middleware-redis/src/test/bench/upstream-limits.sh [seconds=30] [threads per process=4] [margins="100ms 0ms"]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../../../.."
SECONDS_RUN=${1:-30}
THREADS=${2:-4}
MARGINS=${3:-100ms 0ms}
: "${JAVA_HOME:?set JAVA_HOME to a JDK 21+}"

# one reactor build: the test-support module resolves to its classes without being installed
./mvnw -B -q -pl middleware-redis -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=test
CP="middleware-redis/target/classes:middleware-redis/target/test-classes:$(cat middleware-redis/target/bench.classpath)"

# shellcheck source=redis-lib.sh
source "$HERE/redis-lib.sh"
start_redis

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f1-3)"
for margin in $MARGINS; do
  redis-cli -p "$PORT" FLUSHALL >/dev/null
  echo "== UpstreamLimitRun redis://127.0.0.1:$PORT $SECONDS_RUN $margin 3 $THREADS (load average $(cut -d' ' -f1 /proc/loadavg))"
  "$JAVA_HOME/bin/java" -cp "$CP" dev.proxymanager.middleware.store.redis.UpstreamLimitRun \
    "redis://127.0.0.1:$PORT" "$SECONDS_RUN" "$margin" 3 "$THREADS"
done
SHA=$(redis-cli -p "$PORT" SCRIPT LOAD "return 1")
echo "== redis-benchmark -c 64 EVALSHA return 1, then RedisUsageStoreBenchmark 10 s 64 threads, then redis-benchmark again"
redis-benchmark -p "$PORT" -c 64 -n 300000 -q EVALSHA "$SHA" 0 | tr '\r' '\n' | tail -1
"$JAVA_HOME/bin/java" -cp "$CP" dev.proxymanager.middleware.store.redis.RedisUsageStoreBenchmark \
  "redis://127.0.0.1:$PORT" 10 64 | grep -E 'store calls/s|client JVM'
redis-benchmark -p "$PORT" -c 64 -n 300000 -q EVALSHA "$SHA" 0 | tr '\r' '\n' | tail -1
