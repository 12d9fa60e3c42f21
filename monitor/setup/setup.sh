#!/bin/sh
# One-shot setup of the docker-compose monitor, in two steps that compose runs as two services:
#
#   setup.sh elasticsearch   (the `setup` service; Logstash and the server wait for it to complete)
#     1. waits for Elasticsearch and sets the kibana_system user's password (Kibana logs in with it);
#     2. installs our index templates: the request log data stream, the response cache, the Logstash logs;
#     3. where the cluster has ILM, installs the request log's lifecycle policy and names it in the request log
#        template; where it has none (e.g. the project's local test node), says so and goes on without.
#   setup.sh kibana          (the `kibana-setup` service; nothing waits for it)
#     4. waits for Kibana and imports our saved objects (data views, visualizations, the "Proxy Manager" dashboard).
#
# The Kibana step is apart so that a slow Kibana or a rejected import never keeps Elasticsearch, Logstash and the
# server from starting. Every step is idempotent: running it again overwrites with the same content.
#
# Environment: ELASTICSEARCH_URL, ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD, KIBANA_URL (kibana step),
# KIBANA_PASSWORD (the kibana_system password; unset skips step 1's password), SETUP_DIR (default /setup:
# templates/, ilm/, kibana/ as mounted by docker-compose.yml), SETUP_ATTEMPTS and SETUP_RETRY_SECONDS (how long to
# wait for a service: default 60 attempts, 5 s apart).
set -eu

: "${ELASTICSEARCH_URL:?ELASTICSEARCH_URL must be set}"
: "${ELASTICSEARCH_USERNAME:?ELASTICSEARCH_USERNAME must be set}"
: "${ELASTICSEARCH_PASSWORD:?ELASTICSEARCH_PASSWORD must be set}"
SETUP_DIR="${SETUP_DIR:-/setup}"
SETUP_ATTEMPTS="${SETUP_ATTEMPTS:-60}"
SETUP_RETRY_SECONDS="${SETUP_RETRY_SECONDS:-5}"
REQUEST_LOG_POLICY="proxy-manager-requests"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() {
    echo "setup: $*"
}

# es METHOD PATH [BODY_FILE]: an Elasticsearch request; prints the body, fails on an HTTP error.
es() {
    if [ $# -ge 3 ]; then
        curl -sS --fail-with-body -u "$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD" -X "$1" \
            -H 'Content-Type: application/json' --data-binary "@$3" "$ELASTICSEARCH_URL$2"
    else
        curl -sS --fail-with-body -u "$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD" -X "$1" "$ELASTICSEARCH_URL$2"
    fi
}

# wait_for WHAT COMMAND...: runs COMMAND until it succeeds, SETUP_ATTEMPTS times at most.
wait_for() {
    what="$1"
    shift
    attempt=1
    until "$@" >/dev/null 2>&1; do
        if [ "$attempt" -ge "$SETUP_ATTEMPTS" ]; then
            log "gave up waiting for $what after $attempt attempts"
            exit 1
        fi
        attempt=$((attempt + 1))
        sleep "$SETUP_RETRY_SECONDS"
    done
    log "$what is up"
}

kibana_available() {
    curl -sS --fail -u "$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD" "$KIBANA_URL/api/status" \
        | grep -q '"level":"available"'
}

setup_elasticsearch() {
    wait_for Elasticsearch es GET '/_cluster/health?wait_for_status=yellow&timeout=5s'

    if [ -n "${KIBANA_PASSWORD:-}" ]; then
        printf '{"password":"%s"}' "$KIBANA_PASSWORD" > "$WORK/kibana-password.json"
        es POST /_security/user/kibana_system/_password "$WORK/kibana-password.json" >/dev/null
        log "kibana_system password set"
    fi

    request_log_template="$SETUP_DIR/templates/request-log-template.json"
    if es GET /_ilm/status >/dev/null 2>&1; then
        es PUT "/_ilm/policy/$REQUEST_LOG_POLICY" "$SETUP_DIR/ilm/request-log-ilm-policy.json" >/dev/null
        # Name the policy in the template's settings (the template ships without it: clusters without ILM reject it).
        sed "s/\"settings\"[[:space:]]*:[[:space:]]*{/&\"index.lifecycle.name\": \"$REQUEST_LOG_POLICY\", /" \
            "$request_log_template" > "$WORK/request-log-template.json"
        if ! grep -q '"index.lifecycle.name"' "$WORK/request-log-template.json"; then
            log "found no settings object in $request_log_template to name the ILM policy in"
            exit 1
        fi
        request_log_template="$WORK/request-log-template.json"
        log "ILM policy $REQUEST_LOG_POLICY installed for the request log"
    else
        log "ILM is not available on this cluster: the request log is kept without a lifecycle policy (delete old backing indices by hand)"
    fi

    es PUT /_index_template/proxy-manager-requests "$request_log_template" >/dev/null
    es PUT /_index_template/proxy-manager-cache "$SETUP_DIR/templates/cache-index-template.json" >/dev/null
    es PUT /_index_template/proxy-manager-logs "$SETUP_DIR/templates/logs-index-template.json" >/dev/null
    log "index templates installed: proxy-manager-requests, proxy-manager-cache, proxy-manager-logs"
}

setup_kibana() {
    : "${KIBANA_URL:?KIBANA_URL must be set}"
    wait_for Kibana kibana_available

    # One rejected file does not keep the others out; the step still fails at the end, so the log says so.
    failed=""
    for objects in "$SETUP_DIR"/kibana/*.ndjson; do
        response="$(curl -sS --fail-with-body -u "$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD" -X POST \
            -H 'kbn-xsrf: true' --form "file=@$objects" "$KIBANA_URL/api/saved_objects/_import?overwrite=true")"
        case "$response" in
            *'"success":true'*) log "imported $(basename "$objects")" ;;
            *) log "import of $(basename "$objects") failed: $response"; failed="$failed $(basename "$objects")" ;;
        esac
    done
    if [ -n "$failed" ]; then
        log "Kibana rejected:$failed"
        exit 1
    fi
}

case "${1:-}" in
    elasticsearch) setup_elasticsearch ;;
    kibana) setup_kibana ;;
    *) echo "usage: setup.sh elasticsearch|kibana" >&2; exit 2 ;;
esac
log "$1 done"
