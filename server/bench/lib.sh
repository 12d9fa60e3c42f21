# Shared by the scripts in this folder (source it): the fast upstream, our server, and CPU from /proc.
# Needs JAVA (the java binary) set by the caller.

# nginx in folder $1: a tiny static answer on 127.0.0.1:19001 (the "fast upstream") and proxy_pass with a keep-alive
# upstream pool on 127.0.0.1:19002 → 19001. Its pid file is $1/nginx.pid.
start_nginx() {
  cat > "$1/nginx.conf" <<NGINX
worker_processes 1;
pid $1/nginx.pid;
error_log $1/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream fast { server 127.0.0.1:19001; keepalive 256; }
  server { listen 127.0.0.1:19001; location / { return 200 '{"ok":true}'; } }
  server {
    listen 127.0.0.1:19002;
    location / { proxy_pass http://fast; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  nginx -c "$1/nginx.conf" -p "$1"
}

# Our server from jar $2 with its files in folder $1, listening on 127.0.0.1:$3: endpoint "bench" → 19001 with
# rotation over 8 keys, the request log in the local Elasticsearch node it starts (BENCH_ELASTICSEARCH=false: none),
# BENCH_JAVA_OPTS as extra JVM options. Sets STARTED_PID (and adds it to STARTED_PIDS for stop_all) and returns once
# the server is ready.
start_server() {
  local dir=$1 jar=$2 port=$3 keys="" i
  for i in 1 2 3 4 5 6 7 8; do keys="$keys${keys:+,}{\"id\":\"bench-$i\",\"value\":\"bench-key-000$i-abcdef\"}"; done
  cat > "$dir/secrets.json" <<JSON
{ "endpoints": { "bench": {
    "type": "key", "base_url": "http://127.0.0.1:19001",
    "limits": [ { "requests": 100000000, "per": "1s" } ],
    "cache": { "enabled": false },
    "secrets": [ $keys ] } } }
JSON
  cat > "$dir/server.yaml" <<YAML
port: $port
host: 127.0.0.1
secrets_file: secrets.json
max_concurrent_requests: 512
max_queue_size: 2048
elasticsearch: ${BENCH_ELASTICSEARCH:-true}
YAML
  # shellcheck disable=SC2086 # word splitting of the options is wanted
  LOG_LEVEL=WARN "$JAVA" -Xmx1g ${BENCH_JAVA_OPTS:-} -jar "$jar" --config "$dir/server.yaml" > "$dir/server.log" 2>&1 &
  STARTED_PID=$!
  STARTED_PIDS="${STARTED_PIDS:-} $STARTED_PID"
  for _ in $(seq 1 180); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/ready" && return 0
    sleep 1
  done
  echo "server on :$port did not become ready; see $dir/server.log" >&2
  return 1
}

# Stops the servers start_server started and the nginx of folder $1.
stop_all() {
  local pid
  for pid in ${STARTED_PIDS:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  [ -f "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null || true
}

# CPU (user + system, in clock ticks) of process $1
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# CPU of the children of process $1: the Elasticsearch node our server starts
children_ticks() {
  local total=0 child
  for child in $(pgrep -P "$1" || true); do total=$((total + $(cpu_ticks "$child" 2>/dev/null || echo 0))); done
  echo "$total"
}

# CPU of the JIT compiler threads of JVM $1: work a long-running server has done once, not per request
jit_ticks() {
  local total=0 task
  for task in /proc/"$1"/task/*; do
    grep -q '^C[12] CompilerThre' "$task/comm" 2>/dev/null && total=$((total + $(awk '{ print $14 + $15 }' "$task/stat")))
  done
  echo "$total"
}
