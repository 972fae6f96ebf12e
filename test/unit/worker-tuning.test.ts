// The worker's tuning variables and the prebuilt bundle's freshness check: a bundle is used only
// when it was made from the code beside it; otherwise the worker bundles at start as before.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { workerTuning } from '../../src/worker-tuning';
import { bundlePath, codeDigest, findPrebuiltBundle } from '../../src/workflow-bundle';

describe('worker tuning', () => {
  it('sets only the SDK options whose variables are set', () => {
    assert.deepEqual(workerTuning({ PALLET_PREBUILT_BUNDLE: 'off' }), {});
    assert.deepEqual(
      workerTuning({
        PALLET_PREBUILT_BUNDLE: 'off',
        PALLET_MAX_CACHED_WORKFLOWS: '50',
        PALLET_MAX_WORKFLOW_TASKS: ' 20 ',
        PALLET_MAX_ACTIVITIES: '300',
        PALLET_WORKFLOW_POLLERS: '8',
      }),
      {
        maxCachedWorkflows: 50,
        maxConcurrentWorkflowTaskExecutions: 20,
        maxConcurrentActivityTaskExecutions: 300,
        workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 8 },
      },
    );
    assert.deepEqual(workerTuning({ PALLET_PREBUILT_BUNDLE: 'off', PALLET_WORKFLOW_POLLERS: 'auto' }), { workflowTaskPollerBehavior: { type: 'autoscaling' } });
  });

  it('refuses a bad value, naming the variable', () => {
    assert.throws(() => workerTuning({ PALLET_MAX_CACHED_WORKFLOWS: 'lots' }), /PALLET_MAX_CACHED_WORKFLOWS must be a whole number of at least 0, not "lots"/);
    assert.throws(() => workerTuning({ PALLET_MAX_WORKFLOW_TASKS: '1' }), /PALLET_MAX_WORKFLOW_TASKS must be a whole number of at least 2/);
    assert.throws(() => workerTuning({ PALLET_WORKFLOW_POLLERS: 'many' }), /PALLET_WORKFLOW_POLLERS must be "auto" or a whole number/);
  });

  it('under ts-node (src/) there is no prebuilt bundle: the worker bundles workflowsPath', () => {
    const options = workerTuning({});
    assert.equal(options.workflowBundle, undefined);
    assert.equal('workflowsPath' in options, false);
  });
});

describe('prebuilt workflow bundle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-bundle-'));
    await mkdir(path.join(dir, 'workflows'));
    await writeFile(path.join(dir, 'workflows', 'index.js'), 'exports.a = 1;\n');
    await writeFile(path.join(dir, 'worker.js'), 'exports.b = 2;\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const stamp = async (traced: boolean, digest = codeDigest(dir)) => {
    await writeFile(bundlePath(traced, dir), '/* bundle */');
    await writeFile(`${bundlePath(traced, dir)}.digest`, `${digest}\n`);
  };

  it('is used when made from the code beside it, the traced one only when asked for', async () => {
    await stamp(false);
    assert.deepEqual(findPrebuiltBundle(false, dir), { bundle: { codePath: bundlePath(false, dir), traced: false } });
    assert.match((findPrebuiltBundle(true, dir) as { reason: string }).reason, /no prebuilt bundle/);
  });

  it('is not used once any compiled module changed, or without its digest', async () => {
    await stamp(false);
    await writeFile(path.join(dir, 'workflows', 'index.js'), 'exports.a = 2;\n');
    assert.match((findPrebuiltBundle(false, dir) as { reason: string }).reason, /built from other code \(run npm run build\)/);
    await rm(`${bundlePath(false, dir)}.digest`);
    assert.match((findPrebuiltBundle(false, dir) as { reason: string }).reason, /no prebuilt bundle/);
  });

  it("the digest leaves out the bundles themselves and covers every module's path and text", async () => {
    const before = codeDigest(dir);
    await stamp(true);
    assert.equal(codeDigest(dir), before);
    await writeFile(path.join(dir, 'extra.js'), '');
    assert.notEqual(codeDigest(dir), before);
  });
});
