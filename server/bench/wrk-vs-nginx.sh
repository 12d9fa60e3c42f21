#!/usr/bin/env bash
# Throughput and latency of the forwarding server vs nginx proxy_pass, to the same fast upstream, on loopback.
#
#   server/bench/wrk-vs-nginx.sh [connections] [duration]      (defaults: 64 connections, 20s)
#   BENCH_ELASTICSEARCH=false server/bench/wrk-vs-nginx.sh    (request log off: to see what it costs)
#   BENCH_JAVA_OPTS="-XX:StartFlightRecording=..." ...         (extra JVM options for our server, e.g. to profile)
#   BENCH_LOADTEST=false ...                                  (skip the 1 000-concurrent load test at the end)
#   BENCH_JAR=/tmp/other.jar ...                              (another build of the server, e.g. to compare A/B)
#   BENCH_WARMUP=10s ...                                      (the server's warm-up; default 60s, see below)
#
# Needs wrk and nginx on PATH and the shaded jar (./mvnw -B -q -DskipTests package). Runs, in one go:
#   1. nginx serving a tiny static answer on 127.0.0.1:19001 (the "fast upstream");
#   2. nginx proxy_pass (keep-alive upstream pool) on 127.0.0.1:19002 → 19001;
#   3. our server on 127.0.0.1:19003, endpoint "bench" → 19001, with rotation over 8 keys and the request log on
#      (the local Elasticsearch node, started by the server itself);
# then wrk with the same threads, connections and duration against 19002 and 19003 (after a warm-up of each),
# and prints both results. Everything it started is stopped on exit.
set -euo pipefail
CONNECTIONS="${1:-64}"
DURATION="${2:-20s}"
THREADS=2
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAR="${BENCH_JAR:-$ROOT/server/target/proxy-manager-server.jar}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
WORK="$(mktemp -d /tmp/pm-bench.XXXXXX)"
[ -f "$JAR" ] || { echo "missing $JAR: run ./mvnw -B -q -DskipTests package first" >&2; exit 1; }

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
trap 'stop_all "$WORK"' EXIT
start_nginx "$WORK"
start_server "$WORK" "$JAR" 19003
SERVER_PID=$STARTED_PID

# The server's JIT compiler and a fresh Elasticsearch node keep working for tens of seconds under load: after 10 s,
# the compiler threads alone still took ~20-50 us per request of the measured run and the node indexed at its cold
# rate. A long-running server has done that work once; 60 s of warm-up measures that server.
echo "== warm-up (nginx 10s, server ${BENCH_WARMUP:-60s})"
wrk -t"$THREADS" -c"$CONNECTIONS" -d10s http://127.0.0.1:19002/x > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${BENCH_WARMUP:-60s}" http://127.0.0.1:19003/proxy/bench/x > /dev/null
echo "== nginx proxy_pass ($CONNECTIONS connections, $DURATION)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency http://127.0.0.1:19002/x | tee "$WORK/nginx.txt"
echo "== proxy-manager-server ($CONNECTIONS connections, $DURATION)"
SERVER_TICKS_BEFORE=$(cpu_ticks "$SERVER_PID"); CHILD_TICKS_BEFORE=$(children_ticks "$SERVER_PID")
JIT_TICKS_BEFORE=$(jit_ticks "$SERVER_PID")
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency http://127.0.0.1:19003/proxy/bench/x | tee "$WORK/server.txt"
SERVER_TICKS=$(( $(cpu_ticks "$SERVER_PID") - SERVER_TICKS_BEFORE )); CHILD_TICKS=$(( $(children_ticks "$SERVER_PID") - CHILD_TICKS_BEFORE ))
JIT_TICKS=$(( $(jit_ticks "$SERVER_PID") - JIT_TICKS_BEFORE ))

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
echo "== summary"
echo "nginx:  $(rps "$WORK/nginx.txt") req/s, p99 $(p99 "$WORK/nginx.txt")"
echo "server: $(rps "$WORK/server.txt") req/s, p99 $(p99 "$WORK/server.txt")"
awk -v a="$(rps "$WORK/server.txt")" -v b="$(rps "$WORK/nginx.txt")" 'BEGIN { printf "throughput ratio server/nginx: %.2f\n", a / b }'
# CPU per request over the measured run: what the server (and the node it started) spent on each answered request
REQUESTS=$(awk '/requests in/ {print $1}' "$WORK/server.txt")
awk -v s="$SERVER_TICKS" -v j="$JIT_TICKS" -v c="$CHILD_TICKS" -v n="$REQUESTS" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  printf "server JVM CPU per request: %.1f us (JIT compiler threads %.1f us of it); Elasticsearch node: %.1f us\n",
    s / hz / n * 1e6, j / hz / n * 1e6, c / hz / n * 1e6 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "${BENCH_LOADTEST:-true}" = true ] || exit 0

echo "== loadtest: 1000 concurrent, 5000 requests through the server"
"$JAVA" -jar "$JAR" loadtest --url http://127.0.0.1:19003/proxy/bench/x --concurrent 1000 --total-requests 5000 --timeout 30 2>/dev/null
