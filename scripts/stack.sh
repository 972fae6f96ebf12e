#!/usr/bin/env bash
# The local stack in one command.
#
#   bash scripts/stack.sh up [REQUIREMENTS]   (npm start)  install what is missing; start, or reuse if
#       already running, the Temporal dev server + Web UI (SQLite state in .pallet/), the OCI
#       registry, the example agents and a worker; publish the agent cards and pallet-workflows/;
#       run code-generation-v1, writing Pallet's app/ files (main.py...) with the code-generation
#       example's app writer (PALLET_APP_WRITER overrides it), and print the Web UI address of the run.
#   bash scripts/stack.sh down                (npm stop)   stop what `up` started, and nothing else.
#   bash scripts/stack.sh status                           show what is running.
#
# Ports (override with the variables): Temporal 7233, Web UI 8233, registry 5000, agents 8001-8005, MCP 8006.
# The dev server registers Pallet's search attributes (PalletDefinitionId, ..., PalletStatus).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
state="$root/.pallet"
pids="$state/pids"
logs="$state/logs"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
REGISTRY_PORT="${REGISTRY_PORT:-5000}"
AGENTS_BASE_PORT="${AGENTS_BASE_PORT:-8001}"
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-localhost:$TEMPORAL_PORT}"
export TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://localhost:$TEMPORAL_UI_PORT}"
export PALLET_REGISTRY="${PALLET_REGISTRY:-localhost:$REGISTRY_PORT}"
SAMPLE_REQUIREMENTS="Build a command-line tool that reads a CSV file of expenses, totals them by category, and prints a report"

log() { printf '\033[1m[pallet]\033[0m %s\n' "$*" >&2; }
pallet() { node "$root/bin/pallet.js" "$@"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
temporal_ok() { "$root/.tools/venv/bin/temporal" operator cluster health --address "127.0.0.1:$1" 2>/dev/null | grep -q SERVING; }
agents_ok() { curl -fsS --max-time 2 "http://127.0.0.1:$1/agent-card" 2>/dev/null | grep -q '"plan-agent"'; }
registry_ok() { curl -fsS -o /dev/null --max-time 2 -D - "http://127.0.0.1:$1/v2/" 2>/dev/null | grep -qi '^docker-distribution-api-version: registry/2'; }
taken() { # what port variable: a port in use by something else is an error, not a service to reuse
  log "port $2 is in use, but not by $1: stop what holds it, or set $3 to another port"
  exit 1
}

alive() { # name -> is the process we started still running?
  local f="$pids/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

start_bg() { # name command... : start in the background, remember its pid, log to .pallet/logs
  local name="$1"; shift
  mkdir -p "$pids" "$logs"
  setsid "$@" >"$logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$pids/$name.pid"
}

wait_for() { # what check-command... : poll up to 60 s
  local what="$1"; shift
  for _ in $(seq 1 120); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  log "$what did not come up; see $logs/"
  return 1
}

ensure_installed() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund >&2
  fi
  npm run --silent build >&2   # compiles, and prebuilds the workflow bundle the worker starts from
  bash scripts/install-tools.sh
}

start_temporal() {
  if temporal_ok "$TEMPORAL_PORT"; then log "Temporal: reusing the server on :$TEMPORAL_PORT"; return; fi
  if port_open "$TEMPORAL_PORT"; then taken "a Temporal server" "$TEMPORAL_PORT" TEMPORAL_PORT; fi
  if port_open "$TEMPORAL_UI_PORT"; then taken "the Temporal Web UI" "$TEMPORAL_UI_PORT" TEMPORAL_UI_PORT; fi
  log "Temporal: starting the dev server on :$TEMPORAL_PORT, Web UI on :$TEMPORAL_UI_PORT (state in .pallet/temporal.db)"
  mkdir -p "$state"
  local sa=() name
  for name in $SEARCH_ATTRIBUTES; do sa+=(--search-attribute "$name=Keyword"); done
  start_bg temporal "$root/.tools/venv/bin/temporal" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$state/temporal.db" --log-level warn "${sa[@]}"
  wait_for "Temporal" port_open "$TEMPORAL_PORT"
  wait_for "Temporal Web UI" http_ok "http://127.0.0.1:$TEMPORAL_UI_PORT/"
}

# Pallet's search attributes (src/contract.ts), registered by the dev server we start; a
# reused server that lacks them (one started before they existed) gets them created.
SEARCH_ATTRIBUTES="PalletDefinitionId PalletDefinitionVersion PalletDefinitionDigest PalletStatus"
ensure_search_attributes() {
  local temporal="$root/.tools/venv/bin/temporal" have name
  have="$("$temporal" operator search-attribute list --address "127.0.0.1:$TEMPORAL_PORT" 2>/dev/null)" || return 0
  for name in $SEARCH_ATTRIBUTES; do
    grep -qw "$name" <<<"$have" && continue
    log "Temporal: creating the search attribute $name (Keyword)"
    "$temporal" operator search-attribute create --address "127.0.0.1:$TEMPORAL_PORT" --name "$name" --type Keyword >/dev/null 2>&1 ||
      log "could not create the search attribute $name: runs start without Pallet's search attributes"
  done
}

start_registry() {
  if registry_ok "$REGISTRY_PORT"; then log "registry: reusing the one on :$REGISTRY_PORT"; return; fi
  if port_open "$REGISTRY_PORT"; then taken "an OCI registry" "$REGISTRY_PORT" REGISTRY_PORT; fi
  log "registry: starting an OCI registry on :$REGISTRY_PORT (storage in .pallet/registry)"
  mkdir -p "$state/registry"
  cat >"$state/registry.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $state/registry }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
  start_bg registry docker-registry serve "$state/registry.yml"
  wait_for "registry" http_ok "http://127.0.0.1:$REGISTRY_PORT/v2/"
}

start_agents() {
  if agents_ok "$AGENTS_BASE_PORT"; then log "agents: reusing the ones on :$AGENTS_BASE_PORT..."; return; fi
  # The five agents (Pallet's protocol and A2A on each port), then the examples' MCP server.
  for p in $(seq "$AGENTS_BASE_PORT" $((AGENTS_BASE_PORT + 5))); do
    if port_open "$p"; then taken "the example agents" "$p" AGENTS_BASE_PORT; fi
  done
  log "agents: starting the example agents on :$AGENTS_BASE_PORT-$((AGENTS_BASE_PORT + 4)) (A2A at /a2a), their MCP server on :$((AGENTS_BASE_PORT + 5))"
  start_bg agents node "$root/bin/pallet.js" agents --base-port "$AGENTS_BASE_PORT"
  wait_for "agents" http_ok "http://127.0.0.1:$((AGENTS_BASE_PORT + 4))/agent-card"
}

start_worker() {
  if alive worker; then log "worker: reusing the running worker (pid $(cat "$pids/worker.pid"))"; return; fi
  log "worker: starting a worker on task queue ${PALLET_TASK_QUEUE:-pallet}"
  start_bg worker node "$root/bin/pallet.js" worker
  wait_for "worker" grep -q "polling task queue" "$logs/worker.log"
}

publish() {
  log "registry: publishing agent-cards/*.json and pallet-workflows/*.yaml (data-analysis included)"
  pallet publish-agent agent-cards/*.json >&2
  pallet push >&2
}

cmd_up() {
  ensure_installed
  start_temporal
  ensure_search_attributes
  start_registry
  start_agents
  start_worker
  publish
  log "running code-generation-v1"
  pallet run --workflow code-generation-v1 --app-writer "${PALLET_APP_WRITER:-$root/lib/examples/code-generation/app-files.js}" "${*:-$SAMPLE_REQUIREMENTS}"
  log "Web UI: $TEMPORAL_UI_URL   stop everything with: npm stop"
}

cmd_down() {
  local stopped=0
  for name in worker agents registry temporal; do
    if alive "$name"; then
      local pid; pid="$(cat "$pids/$name.pid")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      log "stopped $name (pid $pid)"
      stopped=$((stopped + 1))
    fi
    rm -f "$pids/$name.pid"
  done
  [ "$stopped" -gt 0 ] || log "nothing started by this stack is running"
}

cmd_status() {
  local name
  for name in temporal registry agents worker; do
    if alive "$name"; then echo "$name: running (pid $(cat "$pids/$name.pid"), log .pallet/logs/$name.log)"; else echo "$name: not started by this stack"; fi
  done
  temporal_ok "$TEMPORAL_PORT" && echo "Temporal answers on :$TEMPORAL_PORT (Web UI $TEMPORAL_UI_URL)" || echo "no Temporal server on :$TEMPORAL_PORT"
  registry_ok "$REGISTRY_PORT" && echo "a registry answers on :$REGISTRY_PORT" || echo "no registry on :$REGISTRY_PORT"
  agents_ok "$AGENTS_BASE_PORT" && echo "the example agents answer on :$AGENTS_BASE_PORT-$((AGENTS_BASE_PORT + 4))" || echo "no example agents on :$AGENTS_BASE_PORT"
  echo "local state (runs, registry storage, logs): .pallet/ — wipe it with: npm stop && rm -rf .pallet app"
}

case "${1:-up}" in
  up) shift || true; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up [REQUIREMENTS] | down | status" >&2; exit 2 ;;
esac
