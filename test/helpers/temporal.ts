// One real Temporal dev server (the pinned Temporal CLI from .tools/) for the whole test
// run, started through @temporalio/testing, and the workflow code bundled once.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger } from '@temporalio/worker';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './net';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TEMPORAL_CLI = process.env.TEMPORAL_CLI ?? path.join(ROOT, '.tools', 'venv', 'bin', 'temporal');

let env: Promise<TestWorkflowEnvironment> | undefined;
let uiPort: number | undefined;
let bundle: Promise<{ codePath: string }> | undefined;

let runtimeInstalled = false;

/** Failed runs are expected in tests: keep the SDK's own log to errors. Call before any worker. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
}

export function temporalEnv(): Promise<TestWorkflowEnvironment> {
  if (!env) {
    if (!existsSync(TEMPORAL_CLI)) throw new Error(`${TEMPORAL_CLI} is missing: run \`bash scripts/install-tools.sh\``);
    quietRuntime();
    env = freePort().then((port) => {
      uiPort = port;
      return TestWorkflowEnvironment.createLocal({
        server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, ip: '127.0.0.1', ui: true, uiPort: port, extraArgs: ['--log-level', 'error'] },
      });
    });
  }
  return env;
}

/** Address of the shared server's Web UI. */
export async function temporalUiUrl(): Promise<string> {
  await temporalEnv();
  return `http://127.0.0.1:${uiPort}`;
}

/**
 * The interpreter bundled once for all tests, written to a file: the worker then runs it
 * under that file name, so coverage (c8 over V8) can map the sandbox code back to src/.
 */
export function workflowBundle(): Promise<{ codePath: string }> {
  bundle ??= (async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') });
    const dir = path.join(ROOT, '.pallet', 'test-bundle');
    mkdirSync(dir, { recursive: true });
    const codePath = path.join(dir, `workflow-bundle-${process.pid}.js`);
    writeFileSync(codePath, code);
    return { codePath };
  })();
  return bundle;
}

/** Stops the shared server; registered as a mocha root hook in test/hooks.ts. */
export async function stopTemporal(): Promise<void> {
  if (env) await (await env).teardown();
  env = undefined;
}
