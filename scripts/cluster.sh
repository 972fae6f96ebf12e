#!/usr/bin/env bash
# Pallet on a real, PostgreSQL-backed Temporal cluster, run as processes (no Docker), with the
# configuration docker-compose.yml uses (deploy/cluster.env). `npm run cluster`; not in the
# default CI (it builds the server from source, a few minutes the first time). docs/cluster.md.
#
#   1. installs what it needs: Debian's PostgreSQL and docker-registry (apt), the Temporal CLI
#      (scripts/install-tools.sh); builds, pinned and cached in .tools/cluster/, the Temporal
#      server and its SQL schema tool (go.temporal.io/server) and the Web UI server
#      (github.com/temporalio/ui-server/v2) at the compose file's versions;
#   2. starts a throwaway PostgreSQL (.pallet/cluster/pgdata), creates the `temporal` and
#      `temporal_visibility` schemas with temporal-sql-tool, starts the server with the same
#      environment the temporalio/server image gets, creates the namespace and Pallet's
#      search attributes, starts the Web UI, the registry, the example agents (behind a proxy
#      that logs every call: scripts/cluster/call-counter.mjs) and TWO workers; publishes the
#      agent cards and pallet-workflows/;
#   3. starts the examples that need no person, SIGKILLs one worker (half of the runs started,
#      the rest start with one worker) and restarts the server while they run, starts a worker again, and checks (scripts/cluster/check-runs.mjs) that
#      every run completed and nothing was called twice;
#   4. stops everything it started (also on failure or Ctrl-C). Logs: .pallet/cluster/logs/.
#
# Exit code 0 only if every check passed. Any value of deploy/cluster.env can be overridden
# from the environment (e.g. FRONTEND_GRPC_PORT=17233 npm run cluster).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
state="$root/.pallet/cluster"
logs="$state/logs"
pids="$state/pids"
tools="$root/.tools/cluster"
started_at=$(date +%s)

log() { printf '\033[1m[cluster]\033[0m %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  log "logs: $logs/"
  exit 1
}

# --- configuration: deploy/cluster.env, each value overridable from the environment ---------
config_keys=()
while IFS= read -r line; do
  case "$line" in '' | '#'*) continue ;; esac
  key="${line%%=*}"
  config_keys+=("$key")
  [ -n "${!key+x}" ] || printf -v "$key" '%s' "${line#*=}"
done <"$root/deploy/cluster.env"
config_env() { local k; for k in "${config_keys[@]}"; do printf '%s=%s\n' "$k" "${!k}"; done; }

TEMPORAL_ADDR="127.0.0.1:$FRONTEND_GRPC_PORT"
COUNTER_BASE_PORT="${COUNTER_BASE_PORT:-$((AGENTS_BASE_PORT + 1000))}"
temporal_cli="$root/.tools/venv/bin/temporal"
pg_bin="/usr/lib/postgresql/$POSTGRES_VERSION/bin"
server_dir="$tools/temporal-$TEMPORAL_VERSION"
ui_dir="$tools/ui-$TEMPORAL_UI_VERSION"

check_config() {
  # Compose interpolates ${NAME} from the same file: a name it uses that the file lacks is drift.
  local name missing=()
  for name in $(grep -o '\${[A-Z_]*}' docker-compose.yml | tr -d '${}' | sort -u); do
    grep -q "^$name=" deploy/cluster.env || missing+=("$name")
  done
  [ ${#missing[@]} -eq 0 ] || fail "docker-compose.yml uses ${missing[*]}, which deploy/cluster.env does not define"
  # The SQL cluster_membership table stores ports as SMALLINT: above 32767 the server fails.
  for name in "${config_keys[@]}"; do
    case "$name" in *_PORT) [ "${!name}" -le 32767 ] || fail "$name=${!name}: Temporal's ports must be below 32768 on PostgreSQL (SMALLINT)" ;; esac
  done
}

# --- install and build ------------------------------------------------------------------------
apt_install() {
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_postgres() {
  [ -x "$pg_bin/initdb" ] && return
  [ "$(id -u)" = 0 ] || fail "PostgreSQL $POSTGRES_VERSION is not installed ($pg_bin): run as root, or apt-get install postgresql-$POSTGRES_VERSION"
  apt_install "postgresql-$POSTGRES_VERSION"
  # The package may start its own cluster on 5432; this script runs its own. Stop that one only.
  (pg_ctlcluster "$POSTGRES_VERSION" main stop 2>/dev/null || true) >/dev/null 2>&1
}

# go install <module>/<cmd>@<version> into $1 (a folder per version: a pinned, cached build).
go_build() {
  local dir="$1"; shift
  mkdir -p "$dir/bin"
  # The server's go.mod may ask for a newer Go than the one installed: let go fetch it.
  GOTOOLCHAIN=auto GOFLAGS=-mod=mod GOBIN="$dir/bin" nice -n 10 go install "$@"
}

build_server() {
  if [ -x "$server_dir/bin/temporal-server" ] && [ -x "$server_dir/bin/temporal-sql-tool" ] && [ -d "$server_dir/schema" ]; then return; fi
  command -v go >/dev/null || fail "Go is needed to build the Temporal server (https://go.dev/dl/)"
  log "building the Temporal server and temporal-sql-tool $TEMPORAL_VERSION (go.temporal.io/server) -> $server_dir (a few minutes the first time)"
  local t0=$SECONDS
  go_build "$server_dir" "go.temporal.io/server/cmd/server@v$TEMPORAL_VERSION" "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_VERSION" ||
    fail "could not build go.temporal.io/server v$TEMPORAL_VERSION"
  mv "$server_dir/bin/server" "$server_dir/bin/temporal-server"
  mv "$server_dir/bin/sql" "$server_dir/bin/temporal-sql-tool"
  # The SQL schemas ship in the module: keep this version's copy beside the binaries.
  local mod
  mod="$(GOTOOLCHAIN=auto GOFLAGS=-mod=mod go mod download -json "go.temporal.io/server@v$TEMPORAL_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$server_dir/schema" && cp -r "$mod/schema" "$server_dir/schema" && chmod -R u+w "$server_dir/schema"
  log "built the Temporal server in $((SECONDS - t0)) s"
}

build_ui() {
  [ -x "$ui_dir/bin/ui-server" ] && return
  log "building the Temporal Web UI server $TEMPORAL_UI_VERSION (github.com/temporalio/ui-server/v2, assets included) -> $ui_dir"
  local t0=$SECONDS
  go_build "$ui_dir" "github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_VERSION" || fail "could not build the Web UI server v$TEMPORAL_UI_VERSION"
  mv "$ui_dir/bin/server" "$ui_dir/bin/ui-server"
  log "built the Web UI server in $((SECONDS - t0)) s"
}

install_all() {
  install_postgres
  bash scripts/install-tools.sh # Temporal CLI, docker-registry
  build_server
  build_ui
  if [ -n "${CLUSTER_NO_BUILD:-}" ]; then
    log "CLUSTER_NO_BUILD: using lib/ as it is"
  else
    log "compiling Pallet (tsc --build)"
    npx tsc --build >&2 || fail "Pallet does not compile (tsc --build); CLUSTER_NO_BUILD=1 runs lib/ as it is"
  fi
}

# --- processes ----------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
temporal_ok() { "$temporal_cli" operator cluster health --address "$TEMPORAL_ADDR" 2>/dev/null | grep -q SERVING; }

start_bg() { # name command... : start in its own process group, remember its pid, log to logs/
  local name="$1"; shift
  setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
  disown $! # no "Killed" notice from bash when the script kills it on purpose
}

stop_one() { # name [signal]: stop a process group this script started, TERM (or $2) then KILL
  local f="$pids/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  rm -f "$f"
  kill -"${2:-TERM}" -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

wait_for() { # what seconds check-command...
  local what="$1" seconds="$2"; shift 2
  for _ in $(seq 1 $((seconds * 2))); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  fail "$what did not come up within $seconds s"
}

stop_all() {
  local code=$?
  trap - EXIT INT TERM
  log "stopping everything this script started"
  for name in worker-2 worker-1 worker-3 call-counter agents registry ui temporal; do stop_one "$name"; done
  stop_one postgres INT # PostgreSQL's fast shutdown
  [ "$code" = 0 ] || log "exit code $code; logs: $logs/"
  exit "$code"
}

# PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
as_db_user=()
[ "$(id -u)" != 0 ] || as_db_user=(runuser -u postgres --)

check_ports() {
  local p busy=()
  for p in "$DB_PORT" "$FRONTEND_GRPC_PORT" "$FRONTEND_HTTP_PORT" "$FRONTEND_MEMBERSHIP_PORT" "$HISTORY_GRPC_PORT" "$HISTORY_MEMBERSHIP_PORT" \
    "$MATCHING_GRPC_PORT" "$MATCHING_MEMBERSHIP_PORT" "$WORKER_GRPC_PORT" "$WORKER_MEMBERSHIP_PORT" "$TEMPORAL_UI_PORT" "$REGISTRY_PORT" \
    $(seq "$AGENTS_BASE_PORT" $((AGENTS_BASE_PORT + 5))) $(seq "$COUNTER_BASE_PORT" $((COUNTER_BASE_PORT + 4))); do
    port_open "$p" && busy+=("$p")
  done
  [ ${#busy[@]} -eq 0 ] || fail "ports in use: ${busy[*]} (is \`npm start\`'s stack running? \`npm stop\` it, or override the ports: see deploy/cluster.env)"
}

start_postgres() {
  log "PostgreSQL $POSTGRES_VERSION: a throwaway cluster in $state/pgdata on 127.0.0.1:$DB_PORT"
  rm -rf "$state/pgdata" "$state/pgsocket"
  mkdir -p "$state/pgdata" "$state/pgsocket"
  printf '%s\n' "$POSTGRES_PWD" >"$state/pgpass"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$state/pgdata" "$state/pgsocket" "$state/pgpass"; fi
  "${as_db_user[@]}" "$pg_bin/initdb" -D "$state/pgdata" -U "$POSTGRES_USER" --pwfile="$state/pgpass" --auth-local=trust --auth-host=scram-sha-256 \
    >"$logs/initdb.log" 2>&1 || fail "initdb failed (see $logs/initdb.log)"
  rm -f "$state/pgpass"
  start_bg postgres "${as_db_user[@]}" "$pg_bin/postgres" -D "$state/pgdata" -p "$DB_PORT" -k "$state/pgsocket" -c listen_addresses=127.0.0.1
  wait_for "PostgreSQL" 60 "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$DB_PORT"
}

create_schemas() {
  # As docker-compose's temporal-schema job does, with the same tool and schema files.
  local sql=("$server_dir/bin/temporal-sql-tool" --plugin "$DB" --ep 127.0.0.1 -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD")
  local db name
  for db in temporal visibility; do
    name="$DBNAME"; [ "$db" = visibility ] && name="$VISIBILITY_DBNAME"
    log "schema: database $name ($db schema, versioned up to the server's)"
    {
      "${sql[@]}" --db "$name" create &&
        "${sql[@]}" --db "$name" setup-schema -v 0.0 &&
        "${sql[@]}" --db "$name" update-schema -d "$server_dir/schema/postgresql/v12/$db/versioned"
    } >>"$logs/schema.log" 2>&1 || fail "temporal-sql-tool failed for $name (see $logs/schema.log)"
  done
}

start_temporal() {
  log "Temporal server $TEMPORAL_VERSION on $TEMPORAL_ADDR (frontend, history, matching, worker in one process)"
  # The image's environment (docker-compose.yml's `temporal` service): deploy/cluster.env plus
  # where PostgreSQL and the dynamic config are, read by the server's built-in config template.
  local env=()
  mapfile -t env < <(config_env)
  start_bg temporal env "${env[@]}" POSTGRES_SEEDS=127.0.0.1 BIND_ON_IP=127.0.0.1 \
    DYNAMIC_CONFIG_FILE_PATH="$root/deploy/dynamicconfig/development-sql.yaml" \
    "$server_dir/bin/temporal-server" start
  wait_for "the Temporal server" 120 temporal_ok
}

setup_namespace() {
  # As docker-compose's temporal-namespace job does.
  local t=("$temporal_cli" --address "$TEMPORAL_ADDR") name try out
  "${t[@]}" operator namespace describe -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 ||
    "${t[@]}" operator namespace create -n "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION" >>"$logs/setup.log" 2>&1 ||
    fail "could not create the namespace $TEMPORAL_NAMESPACE (see $logs/setup.log)"
  # A new namespace reaches the server's namespace cache some seconds later ("Namespace default
  # is not found" until then): retry each attribute for up to a minute.
  for name in ${PALLET_SEARCH_ATTRIBUTES//,/ }; do
    for try in $(seq 1 60); do
      out="$("${t[@]}" operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type Keyword 2>&1)" && break
      case "$out" in *"already exists"*) break ;; esac
      echo "$out" >>"$logs/setup.log"
      [ "$try" -lt 60 ] || fail "could not create the search attribute $name (see $logs/setup.log)"
      sleep 1
    done
  done
  log "namespace $TEMPORAL_NAMESPACE (retention $NAMESPACE_RETENTION) with ${PALLET_SEARCH_ATTRIBUTES//,/, } (Keyword)"
}

start_ui() {
  log "Web UI $TEMPORAL_UI_VERSION on http://localhost:$TEMPORAL_UI_PORT"
  start_bg ui env TEMPORAL_ADDRESS="$TEMPORAL_ADDR" TEMPORAL_UI_PORT="$TEMPORAL_UI_PORT" TEMPORAL_NAMESPACE="$TEMPORAL_NAMESPACE" \
    "$ui_dir/bin/ui-server" --root "$root/deploy" --config ui --env cluster start
  wait_for "the Web UI" 60 http_ok "http://127.0.0.1:$TEMPORAL_UI_PORT/"
}

start_registry() {
  log "OCI registry on :$REGISTRY_PORT (storage in $state/registry)"
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
  wait_for "the registry" 60 http_ok "http://127.0.0.1:$REGISTRY_PORT/v2/"
}

start_agents() {
  local pairs=() i
  log "example agents on :$AGENTS_BASE_PORT-$((AGENTS_BASE_PORT + 4)), reached by the workers through the call counter on :$COUNTER_BASE_PORT-$((COUNTER_BASE_PORT + 4))"
  start_bg agents node "$root/bin/pallet.js" agents --base-port "$AGENTS_BASE_PORT"
  wait_for "the agents" 60 http_ok "http://127.0.0.1:$((AGENTS_BASE_PORT + 4))/agent-card"
  for i in 0 1 2 3 4; do pairs+=("$((COUNTER_BASE_PORT + i))=$((AGENTS_BASE_PORT + i))"); done
  start_bg call-counter env CALL_DELAY_MS="${CALL_DELAY_MS:-200}" node "$root/scripts/cluster/call-counter.mjs" "$state/calls.jsonl" "${pairs[@]}"
  wait_for "the call counter" 30 http_ok "http://127.0.0.1:$((COUNTER_BASE_PORT + 4))/agent-card"
}

pallet() { node "$root/bin/pallet.js" "$@"; }

publish() {
  log "publishing agent-cards/*.json and pallet-workflows/ to the registry"
  { pallet publish-agent agent-cards/*.json && pallet push; } >>"$logs/publish.log" 2>&1 || fail "publishing failed (see $logs/publish.log)"
}

start_worker() { # name
  local urls="" i
  for i in 0 1 2 3 4; do urls+="${urls:+,}http://127.0.0.1:$((COUNTER_BASE_PORT + i))"; done
  start_bg "$1" env PALLET_AGENT_URLS="$urls" node "$root/bin/pallet.js" worker
  wait_for "$1" 60 grep -q "polling task queue" "$logs/$1.log"
  log "$1 polling task queue $PALLET_TASK_QUEUE (pid $(cat "$pids/$1.pid"))"
}

# --- the runs -------------------------------------------------------------------------------------
calls_so_far() { [ -f "$state/calls.jsonl" ] && wc -l <"$state/calls.jsonl" || echo 0; }
open_runs() { "$temporal_cli" workflow count --address "$TEMPORAL_ADDR" -n "$TEMPORAL_NAMESPACE" --query "ExecutionStatus='Running'" 2>/dev/null | grep -o '[0-9]*' | head -1; }

start_run() { # id workflow input-json
  echo "$1" >>"$state/run-ids"
  pallet run --no-wait --id "$1" --workflow "$2" --input "$3" >>"$logs/runs.log" 2>&1 || fail "could not start $1 (see $logs/runs.log)"
}

start_runs() {
  local i n=0 snippets
  : >"$state/run-ids"
  snippets="$(node -e 'const n = +process.argv[1]; console.log(JSON.stringify({ snippets: Array.from({ length: n }, (_, i) => ({ code: `def f${i}(x):\n    return x * ${i}\n`, language: "python" })) }))' 80)"
  # The longest runs first, so that most runs are still open when the disruption starts.
  for i in 1 2; do start_run "cluster-batch-review-$i" batch-review-v1 "$snippets"; done
  for i in 1 2 3 4 5 6; do
    start_run "cluster-code-generation-$i" code-generation-v1 "{\"requirements\": \"A command-line tool number $i that totals a CSV of expenses by category\"}"
  done
  # The others while worker-1 is down: only worker-2 polls.
  kill_worker
  for i in 1 2; do
    start_run "cluster-parallel-analysis-$i" parallel-analysis-v1 '{"code": "def add(a, b):\n    return a + b\n", "language": "python"}'
    start_run "cluster-data-analysis-$i" data-analysis-v1 "{\"requirements\": \"monthly sales, run $i\", \"data\": [12, 15, 11, 19, 23, 21, 30]}"
    start_run "cluster-smart-router-$i" smart-router-v1 "{\"requirements\": \"Build a REST API for todo items, request $i\"}"
  done
  n=$(wc -l <"$state/run-ids")
  log "started $n runs: 6 code-generation-v1, 2 each of batch-review-v1 (80 snippets), parallel-analysis-v1, data-analysis-v1, smart-router-v1"
}

wait_calls() { # count: wait until the agents have answered that many calls (at most 120 s)
  for _ in $(seq 1 240); do
    [ "$(calls_so_far)" -ge "$1" ] && return 0
    sleep 0.5
  done
  fail "the agents answered only $(calls_so_far) calls in 120 s (expected $1): are the workers running? (see $logs/worker-*.log)"
}

kill_worker() {
  local open
  wait_calls 20
  open="$(open_runs)"
  log "after $(calls_so_far) agent calls, $open runs open: SIGKILL worker-1 (pid $(cat "$pids/worker-1.pid"))"
  [ "${open:-0}" -gt 0 ] || fail "every run had finished before the worker was killed: nothing was tested"
  stop_one worker-1 KILL
}

restart_server() {
  local open
  wait_calls $(($(calls_so_far) + 40))
  open="$(open_runs)"
  log "after $(calls_so_far) agent calls, $open runs open: restarting the Temporal server"
  [ "${open:-0}" -gt 0 ] || fail "every run had finished before the server restart: nothing was tested"
  stop_one temporal
  start_temporal
  log "the server is back; starting worker-3 in place of the killed worker"
  start_worker worker-3
}

main() {
  check_config
  local t0=$SECONDS
  install_all
  local build_s=$((SECONDS - t0))
  mkdir -p "$state"
  check_ports
  rm -rf "$logs" "$pids" "$state/registry" "$state/calls.jsonl" "$state/run-ids"
  mkdir -p "$logs" "$pids"
  trap stop_all EXIT
  trap 'exit 130' INT TERM
  t0=$SECONDS
  export TEMPORAL_ADDRESS="$TEMPORAL_ADDR" TEMPORAL_NAMESPACE PALLET_TASK_QUEUE
  export PALLET_REGISTRY="localhost:$REGISTRY_PORT" TEMPORAL_UI_URL="http://localhost:$TEMPORAL_UI_PORT"
  start_postgres
  create_schemas
  start_temporal
  setup_namespace
  start_ui
  start_registry
  start_agents
  publish
  start_worker worker-1
  start_worker worker-2
  local up_s=$((SECONDS - t0))
  t0=$SECONDS
  start_runs # SIGKILLs worker-1 halfway
  restart_server
  log "waiting for every run to finish, then checking histories and agent calls"
  node "$root/scripts/cluster/check-runs.mjs" "$state/run-ids" "$state/calls.jsonl" 600 | tee "$logs/check.log" >&2 ||
    fail "the check failed (see $logs/check.log)"
  log "passed: setup/build ${build_s} s, cluster start ${up_s} s, runs and checks $((SECONDS - t0)) s, total $(($(date +%s) - started_at)) s"
}

main "$@"
