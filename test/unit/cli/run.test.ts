// The shared reporting of a finished run (`run`, `result`, `retry`): the run's own folder
// under the app dir with `latest` pointing at it, the completed lines, and failures as
// lines on stderr and, with --json, as one object on stdout.
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import fsPromises from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AppWriter } from '../../../src/app-files';
import { FailureTypes, type StepFailureDetails } from '../../../src/contract';
import type { RunResult } from '../../../src/dsl/types';
import { appOptions, failureJson, failureStatus, reportCompleted, reportFailure } from '../../../src/cli/run';

const RESULT: RunResult = {
  workflow_id: 'demo-v1',
  workflow_name: 'Demo',
  workflow_version: '1.0.0',
  initial_input: { requirements: 'x' },
  step_outputs: { a: { outputs: { result: { n: 1 } } } },
  final_output: { result: { n: 1 } },
};

/** Runs `body` with console.log and console.error captured. */
async function capture<T>(body: () => Promise<T> | T): Promise<{ value: T; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const value = await body();
    return { value, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function stepFailure(): WorkflowFailedError {
  const details: StepFailureDetails = { stepId: 'test', skill: 'review_code', within: [], reason: 'agent_error' };
  const cause = ApplicationFailure.create({
    message: 'Step "test" failed: review model overloaded',
    type: FailureTypes.stepFailed,
    details: [details],
    nonRetryable: true,
  });
  return new WorkflowFailedError('Workflow execution failed', cause, 'NON_RETRYABLE_FAILURE');
}

describe('cli run: reporting a finished run', () => {
  let dir: string;
  let cwd: string;
  let exitCode: typeof process.exitCode;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-report-'));
    cwd = process.cwd();
    process.chdir(dir);
    exitCode = process.exitCode;
  });
  afterEach(async () => {
    process.chdir(cwd);
    process.exitCode = exitCode;
    await rm(dir, { recursive: true, force: true });
  });

  const ctx = (workflowId: string, extra: Partial<Parameters<typeof reportCompleted>[1]> = {}) => ({
    workflowId,
    runId: `run-of-${workflowId}`,
    link: `http://ui/${workflowId}`,
    appDir: path.join(dir, 'app'),
    source: { ref: '/defs/demo.yaml', digest: 'sha256:abc' },
    ...extra,
  });

  it('writes each run into app/<workflow id>/, says where, and points app/latest at the newest', async () => {
    const first = await capture(() => reportCompleted(RESULT, ctx('demo-v1-one')));
    assert.equal(
      first.stdout,
      [
        'completed Demo (demo-v1 1.0.0): 1 step',
        '  final output: {"result":{"n":1}}',
        '  wrote app/demo-v1-one/: result.json, metadata.json',
        '  http://ui/demo-v1-one',
      ].join('\n'),
    );
    assert.equal(first.stderr, '');
    assert.deepEqual(first.value, {
      dir: path.join(dir, 'app', 'demo-v1-one'),
      files: ['result.json', 'metadata.json'].map((f) => path.join(dir, 'app', 'demo-v1-one', f)),
      latest: 'symlink',
    });
    const meta = JSON.parse(await readFile(path.join(dir, 'app', 'demo-v1-one', 'metadata.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(meta, {
      temporal_workflow_id: 'demo-v1-one',
      temporal_run_id: 'run-of-demo-v1-one',
      definition_ref: '/defs/demo.yaml',
      definition_digest: 'sha256:abc',
      workflow_id: 'demo-v1',
      workflow_name: 'Demo',
      workflow_version: '1.0.0',
      initial_input: { requirements: 'x' },
    });
    assert.equal(await readlink(path.join(dir, 'app', 'latest')), 'demo-v1-one');

    const writer: AppWriter = (_r, c) => c.write('main.py', 'print(1)\n').then(() => undefined);
    const second = await capture(() => reportCompleted(RESULT, ctx('demo-v1-two', { writer, writerName: 'w.js' })));
    assert.match(second.stdout, /^ {2}wrote app\/demo-v1-two\/: result\.json, metadata\.json, main\.py$/m);
    // Both runs keep their own files; latest follows the newest, and reads through.
    assert.deepEqual((await readdir(path.join(dir, 'app'))).sort(), ['demo-v1-one', 'demo-v1-two', 'latest']);
    assert.deepEqual((await readdir(path.join(dir, 'app', 'demo-v1-one'))).sort(), ['metadata.json', 'result.json']);
    assert.equal(await readlink(path.join(dir, 'app', 'latest')), 'demo-v1-two');
    assert.equal(await readFile(path.join(dir, 'app', 'latest', 'main.py'), 'utf8'), 'print(1)\n');
    // No temporary links are left behind.
    assert.deepEqual(
      (await readdir(path.join(dir, 'app'))).filter((f) => f.startsWith('.')),
      [],
    );
  });

  it('clears the folder of a run written before (an earlier fetch of the same run)', async () => {
    const stale = path.join(dir, 'app', 'demo-v1-again');
    await mkdir(stale, { recursive: true });
    await writeFile(path.join(stale, 'main.py'), 'old\n');
    await capture(() => reportCompleted(RESULT, ctx('demo-v1-again')));
    assert.deepEqual((await readdir(stale)).sort(), ['metadata.json', 'result.json']);
  });

  it('names the folder safely for any workflow id, and never "latest"', async () => {
    const odd = await capture(() => reportCompleted(RESULT, ctx('team/a b')));
    assert.equal(odd.value?.dir, path.join(dir, 'app', 'team_a_b'));
    const latest = await capture(() => reportCompleted(RESULT, ctx('latest')));
    assert.equal(latest.value?.dir, path.join(dir, 'app', '_latest'));
    assert.equal(await readlink(path.join(dir, 'app', 'latest')), '_latest');
  });

  it('an app dir outside the current folder is shown as an absolute path', async () => {
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'pallet-report-out-'));
    try {
      process.chdir(os.homedir());
      const res = await capture(() => reportCompleted(RESULT, ctx('demo-v1-out', { appDir: elsewhere })));
      assert.match(res.stdout, new RegExp(`wrote ${elsewhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/demo-v1-out/: result\\.json, metadata\\.json`));
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('where symlinks fail, writes latest.txt naming the folder instead', async () => {
    const real = fsPromises.symlink;
    (fsPromises as { symlink: unknown }).symlink = () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' }));
    try {
      const res = await capture(() => reportCompleted(RESULT, ctx('demo-v1-nolink')));
      assert.equal(res.value?.latest, 'file');
      assert.match(res.stdout, /wrote app\/demo-v1-nolink\/: result\.json, metadata\.json \(app\/latest\.txt names it: symlinks failed here\)/);
    } finally {
      (fsPromises as { symlink: unknown }).symlink = real;
    }
    assert.equal(await readFile(path.join(dir, 'app', 'latest.txt'), 'utf8'), 'demo-v1-nolink\n');
    // Once symlinks work again, the stale latest.txt goes.
    await capture(() => reportCompleted(RESULT, ctx('demo-v1-link')));
    assert.deepEqual((await readdir(path.join(dir, 'app'))).sort(), ['demo-v1-link', 'demo-v1-nolink', 'latest']);
  });

  it('a real folder named latest is not replaced: the error says so, with exit code 1', async () => {
    await mkdir(path.join(dir, 'app', 'latest'), { recursive: true });
    const res = await capture(() => reportCompleted(RESULT, ctx('demo-v1-blocked')));
    assert.equal(process.exitCode, 1);
    assert.match(res.stderr, /the run completed, but writing its files to app failed: .*app\/latest is a folder, not the symlink pallet keeps there/);
    assert.match(res.stdout, /http:\/\/ui\/demo-v1-blocked$/);
  });

  it('a failing app writer is reported, naming it, with exit code 1', async () => {
    const writer: AppWriter = () => Promise.reject(new Error('no plan step'));
    const res = await capture(() => reportCompleted(RESULT, ctx('demo-v1-bad', { writer, writerName: 'my-writer.js' })));
    assert.equal(process.exitCode, 1);
    assert.match(res.stderr, /^the run completed, but writing its files to app failed \(app writer my-writer\.js\): no plan step$/);
  });

  it('--json prints only the result on stdout and writes no files', async () => {
    const res = await capture(() => reportCompleted(RESULT, ctx('demo-v1-json', { json: true })));
    assert.deepEqual(JSON.parse(res.stdout), RESULT);
    assert.equal(res.stderr, '');
    assert.equal(res.value, undefined);
    await assert.rejects(lstat(path.join(dir, 'app')), /ENOENT/);
  });

  it('a failure: the step, the message, the link and the hint on stderr; exit code 1; with --json also one snake_case object on stdout', async () => {
    const plain = await capture(() => reportFailure(stepFailure(), 'wf-1', 'http://ui/wf-1'));
    assert.equal(plain.stdout, '');
    assert.equal(
      plain.stderr,
      [
        'run wf-1 failed at step "test": Step "test" failed: review model overloaded',
        '  http://ui/wf-1',
        "  fix the cause, then: npx pallet retry wf-1 (finished steps are not run again); to change the input or the definition: --input '{...}' or --file FIXED.yaml",
      ].join('\n'),
    );
    assert.equal(plain.value.step?.stepId, 'test');
    assert.equal(process.exitCode, 1);

    process.exitCode = 0;
    const json = await capture(() => reportFailure(stepFailure(), 'wf-1', 'http://ui/wf-1', true, { runId: 'r1', hint: () => 'try again' }));
    assert.deepEqual(JSON.parse(json.stdout), {
      workflow_id: 'wf-1',
      run_id: 'r1',
      status: 'FAILED',
      error: { message: 'Step "test" failed: review model overloaded', type: FailureTypes.stepFailed, step: 'test' },
      url: 'http://ui/wf-1',
    });
    assert.match(json.stderr, /^ {2}try again$/m);
    assert.equal(process.exitCode, 1);
  });

  it('failureJson: the status by the cause; type and step null when unknown', () => {
    const cancelled = new WorkflowFailedError('x', new CancelledFailure('cancelled'), 'NON_RETRYABLE_FAILURE');
    const terminated = new WorkflowFailedError('x', new TerminatedFailure('by hand'), 'NON_RETRYABLE_FAILURE');
    assert.equal(failureStatus(cancelled), 'CANCELLED');
    assert.equal(failureStatus(terminated), 'TERMINATED');
    assert.equal(failureStatus(new Error('boom')), 'FAILED');
    assert.deepEqual(failureJson(new Error('boom'), { workflowId: 'w' }), {
      workflow_id: 'w',
      run_id: null,
      status: 'FAILED',
      error: { message: 'boom', type: null, step: null },
    });
  });

  it('appOptions: the app dir made absolute (default app/), the writer loaded from the option or the setting, none with --json or --no-wait', async () => {
    await writeFile(path.join(dir, 'w.js'), 'exports.writeAppFiles = () => undefined;\n');
    assert.deepEqual(await appOptions({}, {}), { appDir: path.join(dir, 'app') });
    assert.deepEqual(await appOptions({ appDir: 'out' }, {}), { appDir: path.join(dir, 'out') });
    const fromSetting = await appOptions({}, { appWriter: './w.js' });
    assert.equal(typeof fromSetting.writer, 'function');
    assert.equal(fromSetting.writerName, './w.js');
    assert.equal((await appOptions({ appWriter: './w.js' }, { appWriter: './missing.js' })).writerName, './w.js');
    assert.equal((await appOptions({ json: true }, { appWriter: './missing.js' })).writer, undefined);
    assert.equal((await appOptions({ wait: false }, { appWriter: './missing.js' })).writer, undefined);
    await assert.rejects(appOptions({}, { appWriter: './missing.js' }), /cannot load the app writer \.\/missing\.js/);
  });
});
