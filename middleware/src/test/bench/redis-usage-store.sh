#!/usr/bin/env bash
# Benchmark of the Redis usage store (docs/benchmarks.md, "Redis usage store"): starts a throw-away redis-server on a
# free loopback port, runs redis-benchmark with EVALSHA of a trivial script, then RedisUsageStoreBenchmark
# (acquire+release from one JVM) against the same server, and stops it.
# Usage, from the repository root: bash middleware/src/test/bench/redis-usage-store.sh [seconds=10] [threads=64]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
SECONDS_RUN=${1:-10}
THREADS=${2:-64}
: "${JAVA_HOME:?set JAVA_HOME to a JDK 21+}"

./mvnw -B -q -pl middleware -am test-compile
./mvnw -B -q -pl middleware dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" --daemonize yes \
  --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
trap 'kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true; rm -rf "$DIR"' EXIT
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f1-3)"
SHA=$(redis-cli -p "$PORT" SCRIPT LOAD "return 1")
echo "== redis-benchmark -p $PORT -c $THREADS -n 300000 -q EVALSHA $SHA 0"
redis-benchmark -p "$PORT" -c "$THREADS" -n 300000 -q EVALSHA "$SHA" 0
echo "== RedisUsageStoreBenchmark redis://127.0.0.1:$PORT $SECONDS_RUN $THREADS"
"$JAVA_HOME/bin/java" -cp "middleware/target/classes:middleware/target/test-classes:$(cat middleware/target/bench.classpath)" \
  dev.proxymanager.middleware.store.redis.RedisUsageStoreBenchmark "redis://127.0.0.1:$PORT" "$SECONDS_RUN" "$THREADS"
echo "== redis-benchmark again (same run, after the store benchmark)"
redis-benchmark -p "$PORT" -c "$THREADS" -n 300000 -q EVALSHA "$SHA" 0
