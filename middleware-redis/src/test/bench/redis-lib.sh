#!/usr/bin/env bash
# Shared by the Redis benchmarks: start_redis starts a throw-away redis-server on a free loopback port (sets PORT and
# DIR) and stops it, and removes its folder, when the calling script exits.
start_redis() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DIR=$(mktemp -d)
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
  trap 'kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true; rm -rf "$DIR"' EXIT
  until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done
}
