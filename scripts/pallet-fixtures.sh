#!/usr/bin/env bash
# `npm run fixtures:pallet`: regenerates test/differential/expected/*.json by running
# Pallet's own Python engine on every differential case, with the fake agent of
# test/differential/README.md under its HTTP client. Pass --check to compare with the
# committed fixtures instead of writing them.
#
#   PALLET_SRC     a checkout of ipdelete/pallet (the folder holding src/). When unset, the
#                  mirror at PALLET_MIRROR (default /work/.mirror/ipdelete+pallet/repo) is
#                  exported at PALLET_REF (default HEAD) into a temporary folder.
#   PALLET_PYTHON  the Python to make the venv with (default: python3.12, python3.11 or
#                  python3, the first that is at least 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/pallet-venv
REQUIREMENTS=test/differential/requirements.txt
MIRROR=${PALLET_MIRROR:-/work/.mirror/ipdelete+pallet/repo}
REF=${PALLET_REF:-HEAD}

tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT

if [ -n "${PALLET_SRC:-}" ]; then
  src=$PALLET_SRC
  commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
elif git -C "$MIRROR" rev-parse --verify --quiet "$REF^{commit}" >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  git -C "$MIRROR" archive --format=tar "$REF" src | tar -x -C "$tmp"
  src=$tmp
  commit=$(git -C "$MIRROR" rev-parse "$REF^{commit}")
else
  echo "Set PALLET_SRC to a checkout of ipdelete/pallet (no mirror at $MIRROR)." >&2
  exit 2
fi

pick_python() {
  if [ -n "${PALLET_PYTHON:-}" ]; then echo "$PALLET_PYTHON"; return; fi
  for candidate in python3.12 python3.11 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo "Pallet's engine needs Python 3.11 or later; set PALLET_PYTHON" >&2
  exit 2
}

# The venv is remade when the pinned requirements change.
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python=$(pick_python)
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$REQUIREMENTS"
  echo "$want" >"$stamp"
fi

PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" test/differential/pallet_fixtures.py --pallet-src "$src" --commit "$commit" "$@"
