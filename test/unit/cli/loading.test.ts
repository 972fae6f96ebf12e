// What the verbs that read runs (`pallet status`, `result`, `runs`) load: the Temporal client,
// not the workflow SDK, the worker, the DSL's parsers and schemas or CEL. Checked in a fresh
// process, since this one has loaded everything already.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');

/** The packages (node_modules/<name>) loaded by requiring these project modules. */
function packagesLoadedBy(modules: string[]): Set<string> {
  const script = `
    for (const m of ${JSON.stringify(modules)}) require(m);
    const names = Object.keys(require.cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean);
    process.stdout.write(JSON.stringify([...new Set(names)]));`;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return new Set(JSON.parse(out) as string[]);
}

describe('cli: what the run-reading verbs load', () => {
  it('status, result and runs (cli/runs.ts) load neither the workflow SDK nor CEL, zod or YAML', function () {
    this.timeout(120_000);
    const loaded = packagesLoadedBy(['./src/cli/runs', './src/client-services']);
    assert.ok(loaded.has('@temporalio/client'), 'the check sees what is loaded');
    for (const heavy of ['@temporalio/workflow', '@temporalio/worker', '@marcbachmann/cel-js', 're2js', 'zod', 'yaml', 'ajv']) {
      assert.ok(!loaded.has(heavy), `${heavy} is loaded`);
    }
  });
});
