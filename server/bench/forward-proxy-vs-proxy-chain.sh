#!/usr/bin/env bash
# The proxy port against Apify proxy-chain, both rotating round-robin over the same four upstream proxies, same run.
#
#   server/bench/forward-proxy-vs-proxy-chain.sh [connections] [duration]     (defaults: 64 connections, 20s)
#   BENCH_JAR=/tmp/other.jar ...        (another build of the server)
#   BENCH_WARMUP=10s ...                (warm-up of each proxy before its measured run; default 20s)
#   BENCH_TUNNEL_BYTES=1G ...           (size of the one-tunnel transfer; default 1G)
#
# Needs wrk, nginx, tinyproxy, node + npm, python3, curl and the shaded jar (./mvnw -B -q -DskipTests package).
# proxy-chain is installed with npm into the temporary folder (nothing is committed). Runs, in one go, on loopback:
#   1. nginx: the site on 127.0.0.1:19101 (a tiny answer at /x, a file of BENCH_TUNNEL_BYTES at /big) and four
#      upstream proxies on 19111-19114 (nginx accepts absolute-form requests: proxy_pass to the site, keep-alive);
#   2. four tinyproxy upstreams on 19121-19124 for CONNECT (nginx has no CONNECT);
#   3. our server, proxy port 19132: endpoint "bench" → the nginx proxies, "tunnel" → the tinyproxies, round robin,
#      no limits, no Elasticsearch;
#   4. proxy-chain on 19141 (→ nginx proxies) and 19142 (→ tinyproxies), round robin in prepareRequestFunction;
# then: wrk (plain HTTP, absolute-form, same threads/connections/duration) through each; CONNECT tunnels opened per
# second through each (python, 8 threads, 10 s, open + 200 + close); BENCH_TUNNEL_BYTES through one tunnel of each
# and direct. Everything it started is stopped on exit.
set -euo pipefail
CONNECTIONS="${1:-64}"
DURATION="${2:-20s}"
THREADS=2
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAR="${BENCH_JAR:-$ROOT/server/target/proxy-manager-server.jar}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
WORK="$(mktemp -d /tmp/pm-proxy-bench.XXXXXX)"
TOKEN="bench-proxy-token-0123456789"
AUTH="Basic $(printf 'bench:%s' "$TOKEN" | base64 -w0)"
[ -f "$JAR" ] || { echo "missing $JAR: run ./mvnw -B -q -DskipTests package first" >&2; exit 1; }
for tool in wrk nginx tinyproxy node npm python3 curl; do
  command -v "$tool" > /dev/null || { echo "missing $tool" >&2; exit 1; }
done

PIDS=""
cleanup() {
  local pid
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
wait_port() {
  for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.5
  done
  echo "nothing listens on $1; logs in $WORK" >&2
  return 1
}

# 1. nginx: site and four absolute-form upstream proxies
mkdir -p "$WORK/www"
truncate -s "${BENCH_TUNNEL_BYTES:-1G}" "$WORK/www/big"
chmod 755 "$WORK" "$WORK/www"; chmod 644 "$WORK/www/big" # nginx workers may run as nobody
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  upstream site { server 127.0.0.1:19101; keepalive 256; }
  server {
    listen 127.0.0.1:19101;
    location = /x { return 200 '{"ok":true}'; }
    location = /big { root $WORK/www; }
  }
$(for p in 19111 19112 19113 19114; do
    echo "  server { listen 127.0.0.1:$p; location / { proxy_pass http://site; proxy_http_version 1.1;"
    echo "    proxy_set_header Connection \"\"; add_header X-Upstream-Proxy $p; } }"
  done)
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"

# 2. four tinyproxy upstreams for CONNECT
for p in 19121 19122 19123 19124; do
  {
    echo "Port $p"; echo "Listen 127.0.0.1"; echo "Timeout 600"; echo "MaxClients 512"; echo "Allow 127.0.0.1"
    echo "LogLevel Critical"; echo "PidFile \"$WORK/tinyproxy-$p.pid\""
    [ "$(id -u)" = 0 ] && { echo "User nobody"; echo "Group nogroup"; }
  } > "$WORK/tinyproxy-$p.conf"
  tinyproxy -d -c "$WORK/tinyproxy-$p.conf" > "$WORK/tinyproxy-$p.log" 2>&1 &
  PIDS="$PIDS $!"
done

# 3. our server's proxy port
list() { local out="" p; for p in "$@"; do out="$out${out:+,}{\"id\":\"up-$p\",\"value\":\"http://127.0.0.1:$p\"}"; done; echo "$out"; }
cat > "$WORK/secrets.json" <<JSON
{ "endpoints": {
    "bench": { "type": "proxy", "rotation": "round-robin", "allowed_targets": ["127.0.0.1"],
               "cache": { "enabled": false }, "retry": { "max_retries": 0 },
               "secrets": [ $(list 19111 19112 19113 19114) ] },
    "tunnel": { "type": "proxy", "rotation": "round-robin", "allowed_targets": ["127.0.0.1"],
                "cache": { "enabled": false }, "retry": { "max_retries": 0 },
                "secrets": [ $(list 19121 19122 19123 19124) ] } } }
JSON
cat > "$WORK/server.yaml" <<YAML
port: 19131
host: 127.0.0.1
proxy_port: 19132
secrets_file: secrets.json
elasticsearch: false
protect_forwarding: false   # only the proxy port is measured; its token is checked
max_concurrent_requests: 512
YAML
PROXY_MANAGER_PROXY_TOKEN="$TOKEN" LOG_LEVEL=WARN "$JAVA" -XX:+UseParallelGC -Xms1g -Xmx1g ${BENCH_SERVER_JAVA_OPTS:-} -jar "$JAR" --config "$WORK/server.yaml" \
  > "$WORK/server.log" 2>&1 &
PIDS="$PIDS $!"

# 4. proxy-chain, round robin over the same upstreams
(cd "$WORK" && npm init -y > /dev/null && npm install --silent --no-audit --no-fund proxy-chain > npm.log 2>&1)
cat > "$WORK/chain.js" <<'JS'
const ProxyChain = require('proxy-chain');
function serve(port, upstreams) {
  let next = 0;
  const server = new ProxyChain.Server({
    port, host: '127.0.0.1', verbose: false,
    prepareRequestFunction: () => ({ upstreamProxyUrl: upstreams[next++ % upstreams.length] }),
  });
  server.listen(() => console.log(`proxy-chain ${ProxyChain.VERSION || ''} on ${port}`));
}
serve(19141, [19111, 19112, 19113, 19114].map((p) => `http://127.0.0.1:${p}`));
serve(19142, [19121, 19122, 19123, 19124].map((p) => `http://127.0.0.1:${p}`));
JS
(cd "$WORK" && exec node chain.js > chain.log 2>&1) & # exec: cleanup's kill reaches node itself
PIDS="$PIDS $!"
for p in 19101 19111 19121 19124 19132 19141 19142; do wait_port "$p"; done
echo "proxy-chain $(node -e "console.log(require('$WORK/node_modules/proxy-chain/package.json').version)"), node $(node --version)"

# plain HTTP: wrk sends absolute-form requests to the proxy (the Lua script sets the request target)
cat > "$WORK/proxy.lua" <<LUA
wrk.path = "http://127.0.0.1:19101/x"
wrk.headers["Host"] = "127.0.0.1:19101"
if os.getenv("PROXY_AUTH") then wrk.headers["Proxy-Authorization"] = os.getenv("PROXY_AUTH") end
LUA
check() { curl -sf -o /dev/null "$@" http://127.0.0.1:19101/x || { echo "a request through $* failed" >&2; exit 1; }; }
check -x "http://bench:$TOKEN@127.0.0.1:19132"
check -x http://127.0.0.1:19141
echo "== warm-up (${BENCH_WARMUP:-20s} each)"
PROXY_AUTH="$AUTH" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${BENCH_WARMUP:-20s}" -s "$WORK/proxy.lua" http://127.0.0.1:19132/ > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${BENCH_WARMUP:-20s}" -s "$WORK/proxy.lua" http://127.0.0.1:19141/ > /dev/null
echo "== proxy-manager proxy port, plain HTTP ($CONNECTIONS connections, $DURATION)"
PROXY_AUTH="$AUTH" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/proxy.lua" \
  http://127.0.0.1:19132/ | tee "$WORK/pm.txt"
echo "== proxy-chain, plain HTTP ($CONNECTIONS connections, $DURATION)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/proxy.lua" http://127.0.0.1:19141/ | tee "$WORK/chain.txt"

# CONNECT: tunnels opened per second (8 threads for 10 s: connect, CONNECT, read the 200, close)
cat > "$WORK/tunnels.py" <<'PY'
import socket, sys, threading, time
port, auth = int(sys.argv[1]), sys.argv[2]
request = ("CONNECT 127.0.0.1:19101 HTTP/1.1\r\nHost: 127.0.0.1:19101\r\n"
           + (f"Proxy-Authorization: {auth}\r\n" if auth else "") + "\r\n").encode()
done, failed, stop = [0], [0], time.monotonic() + 10
def run():
    while time.monotonic() < stop:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(request)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                if head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"):
                    done[0] += 1
                else:
                    failed[0] += 1
        except OSError:
            failed[0] += 1
threads = [threading.Thread(target=run) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
print(f"{done[0] / 10:.0f} tunnels/s ({failed[0]} failed)")
PY
echo "== CONNECT tunnels opened per second (8 clients, 10 s)"
echo "proxy-manager: $(python3 "$WORK/tunnels.py" 19132 "Basic $(printf 'tunnel:%s' "$TOKEN" | base64 -w0)")"
echo "proxy-chain:   $(python3 "$WORK/tunnels.py" 19142 "")"

# one tunnel: BENCH_TUNNEL_BYTES over CONNECT (curl -p) against the same transfer direct
speed() { curl -sf -o /dev/null -w '%{speed_download}' "$@" http://127.0.0.1:19101/big; }
echo "== ${BENCH_TUNNEL_BYTES:-1G} through one tunnel (MB/s)"
DIRECT=$(speed); PM=$(speed -p -x "http://tunnel:$TOKEN@127.0.0.1:19132"); CHAIN=$(speed -p -x http://127.0.0.1:19142)
awk -v d="$DIRECT" -v p="$PM" -v c="$CHAIN" 'BEGIN {
  printf "direct %.0f, proxy-manager %.0f (%.2fx direct), proxy-chain %.0f (%.2fx direct)\n",
    d / 1e6, p / 1e6, p / d, c / 1e6, c / d }'

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
errors() { awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$1"; }
echo "== summary (plain HTTP, $CONNECTIONS connections)"
echo "proxy-manager: $(rps "$WORK/pm.txt") req/s, p99 $(p99 "$WORK/pm.txt") $(errors "$WORK/pm.txt")"
echo "proxy-chain:   $(rps "$WORK/chain.txt") req/s, p99 $(p99 "$WORK/chain.txt") $(errors "$WORK/chain.txt")"
awk -v a="$(rps "$WORK/pm.txt")" -v b="$(rps "$WORK/chain.txt")" 'BEGIN { printf "throughput ratio: %.2f\n", a / b }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
