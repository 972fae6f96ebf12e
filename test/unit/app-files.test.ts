// The files `pallet run` writes into a run's folder: result.json and metadata.json always,
// then an app writer's; how a workflow id names the folder; and how an app writer module is
// found. The folder itself and app/latest are tested through reportCompleted (cli/run.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadAppWriter, runFolderName, writeRunFiles, type AppWriter } from '../../src/app-files';
import type { RunResult } from '../../src/dsl/types';

const RESULT: RunResult = {
  workflow_id: 'demo-v1',
  workflow_name: 'Demo',
  workflow_version: '1.0.0',
  initial_input: { requirements: 'x' },
  step_outputs: { a: { outputs: { result: { n: 1 } } } },
  final_output: { result: { n: 1 } },
};

describe('app files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-app-files-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes metadata.json and result.json, and nothing else without a writer', async () => {
    const app = path.join(dir, 'app');
    const written = await writeRunFiles(RESULT, app, { temporal_workflow_id: 'demo-v1-abc' });
    assert.deepEqual(written, [path.join(app, 'result.json'), path.join(app, 'metadata.json')]);
    assert.deepEqual(JSON.parse(await readFile(path.join(app, 'result.json'), 'utf8')), RESULT);
    assert.deepEqual(JSON.parse(await readFile(path.join(app, 'metadata.json'), 'utf8')), {
      temporal_workflow_id: 'demo-v1-abc',
      workflow_id: 'demo-v1',
      workflow_name: 'Demo',
      workflow_version: '1.0.0',
      initial_input: { requirements: 'x' },
    });
    assert.deepEqual((await readdir(app)).sort(), ['metadata.json', 'result.json']);
  });

  it("adds the writer's files, given the metadata, in subfolders too; a file written twice is listed once", async () => {
    let seen: Record<string, unknown> | undefined;
    const writer: AppWriter = async (result, ctx) => {
      seen = ctx.metadata;
      await ctx.write('out/n.txt', String((result.final_output as { result: { n: number } }).result.n));
      await ctx.write('result.json', '{}\n');
    };
    const written = await writeRunFiles(RESULT, dir, {}, writer);
    assert.deepEqual(written, [path.join(dir, 'result.json'), path.join(dir, 'metadata.json'), path.join(dir, 'out', 'n.txt')]);
    assert.equal(await readFile(path.join(dir, 'out', 'n.txt'), 'utf8'), '1');
    assert.equal(seen?.workflow_id, 'demo-v1');
  });

  it('keeps a writer inside the app folder', async () => {
    const escape: AppWriter = (_r, ctx) => ctx.write('../outside.txt', 'no').then(() => undefined);
    await assert.rejects(writeRunFiles(RESULT, path.join(dir, 'app'), {}, escape), /may only write inside .*app, not \.\.\/outside\.txt/);
    await assert.rejects(
      writeRunFiles(RESULT, path.join(dir, 'app'), {}, (_r, ctx) => ctx.write('/etc/x', 'no').then(() => undefined)),
      /may only write inside/,
    );
  });

  it('loads a writer module by path (relative to cwd or absolute): its writeAppFiles, else its default export or module.exports', async () => {
    await writeFile(path.join(dir, 'named.js'), 'exports.writeAppFiles = (r, ctx) => ctx.write("named.txt", r.workflow_id);\n');
    await writeFile(
      path.join(dir, 'default.js'),
      'Object.defineProperty(exports, "__esModule", { value: true });\nexports.default = (r, ctx) => ctx.write("default.txt", r.workflow_id);\n',
    );
    await writeFile(path.join(dir, 'cjs.js'), 'module.exports = (r, ctx) => ctx.write("cjs.txt", r.workflow_id);\n');
    const cases = [
      ['./named.js', dir, 'named.txt'],
      [path.join(dir, 'default.js'), os.tmpdir(), 'default.txt'],
      ['cjs.js', dir, 'cjs.txt'],
    ];
    for (const [spec, cwd, file] of cases) {
      const writer = await loadAppWriter(spec, cwd);
      await writeRunFiles(RESULT, path.join(dir, 'app'), {}, writer);
      assert.equal(await readFile(path.join(dir, 'app', file), 'utf8'), 'demo-v1');
    }
  });

  it('runFolderName: a workflow id as a folder name: kept when plain, else made safe; never hidden, "..", or latest', () => {
    assert.equal(runFolderName('code-generation-v1-4f2a_x.1'), 'code-generation-v1-4f2a_x.1');
    assert.equal(runFolderName('a/b c\\d'), 'a_b_c_d');
    assert.equal(runFolderName('..'), '_..');
    assert.equal(runFolderName('.hidden'), '_.hidden');
    assert.equal(runFolderName('latest'), '_latest');
    assert.equal(runFolderName('latest.txt'), '_latest.txt');
  });

  it('says which writer could not be loaded, or exports no function', async () => {
    await writeFile(path.join(dir, 'nothing.js'), 'exports.other = 1;\n');
    await assert.rejects(loadAppWriter('./missing.js', dir), /^Error: cannot load the app writer \.\/missing\.js: Cannot find module '.*missing\.js'$/);
    await assert.rejects(loadAppWriter('no-such-package-for-pallet'), /cannot load the app writer no-such-package-for-pallet: Cannot find module/);
    await assert.rejects(loadAppWriter('./nothing.js', dir), /the app writer \.\/nothing\.js exports no function writeAppFiles \(nor a default function\)/);
  });
});
