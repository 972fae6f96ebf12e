#!/usr/bin/env bash
# `npm test`: installs the pinned tools if missing, then type-checks, lints and runs every
# test (unit and integration, against a real Temporal dev server, real loopback agents and a
# real OCI registry) under coverage, enforcing the floors.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
bash scripts/install-tools.sh test

echo "== typecheck (tsc --strict)"
npx tsc -p tsconfig.test.json
echo "== format (prettier --check: npm run format fixes it)"
npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "unformatted files: run npm run format"; exit 1; }
echo "== lint (eslint, with the workflow-sandbox rules)"
npx eslint .
echo "== import cycles (madge)"
npm run -s check:cycles
echo "== tests (mocha under c8)"
rm -rf coverage
npx c8 --check-coverage mocha 'test/**/*.test.ts' "$@"
echo "== coverage of the workflow code (interpreter, walker, DSL)"
npx c8 report --check-coverage --lines 85 --functions 85 --branches 75 \
  --include 'src/workflows/**' --include 'src/dsl/**' --reporter text-summary
