#!/usr/bin/env node
// Entry point of the `pallet` command: runs the compiled CLI (built by `npm install`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
// tsc compiles src/ to lib/src/ and examples/ to lib/examples/.
const cli = path.join(__dirname, '..', 'lib', 'src', 'cli', 'index.js');
if (!fs.existsSync(cli)) {
  console.error('pallet: lib/src/cli/index.js is missing; run `npm install` (or `npm run build`) first.');
  process.exit(1);
}
require(cli)
  .main(process.argv)
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
