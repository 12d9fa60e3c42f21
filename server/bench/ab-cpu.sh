#!/usr/bin/env bash
# Server JVM CPU per request of two builds of the server, measured in alternation under the same wrk load.
#
#   server/bench/ab-cpu.sh JAR_A JAR_B [rounds] [window]     (defaults: 6 rounds, 10s windows, 64 connections)
#   BENCH_ELASTICSEARCH=false ...    (request log off)
#   BENCH_CONNECTIONS=128 ...        (other wrk connection count)
#   BENCH_JAVA_OPTS=...              (extra JVM options for both)
#
# Both builds run at once, each its own JVM (A on :19003, B on :19004; each with its own local Elasticsearch node,
# started by the server with its data under the server's work folder, unless the log is off), in front of the same nginx upstream on :19001. After a warm-up of 3 × 10 s each, every round
# runs wrk against A then B (B then A in even rounds) and measures each window: wrk's requests and p99, and the process
# CPU of that server, of its JIT compiler threads and of its node. On a machine shared with other work the load moves
# more from minute to minute than two builds differ; short alternating windows put both through the same load.
set -euo pipefail
JAR_A="${1:?usage: ab-cpu.sh JAR_A JAR_B [rounds] [window]}"
JAR_B="${2:?usage: ab-cpu.sh JAR_A JAR_B [rounds] [window]}"
ROUNDS="${3:-6}"
WINDOW="${4:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
WORK="$(mktemp -d /tmp/pm-ab.XXXXXX)"
HZ=$(getconf CLK_TCK)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
trap 'stop_all "$WORK"' EXIT

start_nginx "$WORK"
# each server keeps its local node's data under its own java.io.tmpdir (the default is one folder for all); the node
# runs as another user, who must be able to reach it
chmod 755 "$WORK"
mkdir -p "$WORK/a/tmp" "$WORK/b/tmp"
OPTS="${BENCH_JAVA_OPTS:-}"
BENCH_JAVA_OPTS="$OPTS -Djava.io.tmpdir=$WORK/a/tmp" start_server "$WORK/a" "$JAR_A" 19003
PID_A=$STARTED_PID
BENCH_JAVA_OPTS="$OPTS -Djava.io.tmpdir=$WORK/b/tmp" start_server "$WORK/b" "$JAR_B" 19004
PID_B=$STARTED_PID

url() { echo "http://127.0.0.1:$1/proxy/bench/x"; }
echo "== warm-up: 3 × 10 s each"
for _ in 1 2 3; do
  wrk -t2 -c"$CONNECTIONS" -d10s "$(url 19003)" > /dev/null
  wrk -t2 -c"$CONNECTIONS" -d10s "$(url 19004)" > /dev/null
done

# measure NAME PID PORT: one window against that server; appends "name requests seconds server jit node p99" to the
# results and prints the window
measure() {
  local name=$1 pid=$2 port=$3 s0 j0 n0 out requests
  s0=$(cpu_ticks "$pid"); j0=$(jit_ticks "$pid"); n0=$(children_ticks "$pid")
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$WINDOW" --latency "$(url "$port")")
  requests=$(awk '/requests in/ { print $1 }' <<< "$out")
  echo "$name $requests ${WINDOW%s} $(( $(cpu_ticks "$pid") - s0 )) $(( $(jit_ticks "$pid") - j0 ))" \
    "$(( $(children_ticks "$pid") - n0 )) $(awk '$1=="99%" { print $2 }' <<< "$out")" >> "$WORK/results"
  tail -1 "$WORK/results" | awk -v hz="$HZ" '{ printf "%s: %7.0f req/s, p99 %-8s server %6.1f us/request (JIT %5.1f), node %6.1f us/request\n",
    $1, $2 / $3, $7, $4 / hz / $2 * 1e6, $5 / hz / $2 * 1e6, $6 / hz / $2 * 1e6 }'
}
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($(cut -d' ' -f1 /proc/loadavg) load)"
  if [ $((r % 2)) -eq 1 ]; then measure A "$PID_A" 19003; measure B "$PID_B" 19004
  else measure B "$PID_B" 19004; measure A "$PID_A" 19003; fi
done

echo "== summary ($ROUNDS windows of $WINDOW each, $CONNECTIONS connections; A=$JAR_A, B=$JAR_B)"
awk -v hz="$HZ" '{ n[$1] += $2; t[$1] += $3; s[$1] += $4; j[$1] += $5; c[$1] += $6 }
  END { for (k in n) printf "%s: %7.0f req/s, server %6.1f us/request, without JIT %6.1f, node %6.1f us/request\n",
    k, n[k] / t[k], s[k] / hz / n[k] * 1e6, (s[k] - j[k]) / hz / n[k] * 1e6, c[k] / hz / n[k] * 1e6 }' \
  "$WORK/results" | sort
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
