// The code-generation example's app writer: Pallet's plan.json, main.py and review.json,
// found in a code-generation result or in the child result of a smart-router run.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeRunFiles } from '../../../../src/app-files';
import type { RunResult } from '../../../../src/dsl/types';
import { findStepOutput, writeAppFiles } from '../../../../examples/code-generation/app-files';

const PLAN = { title: 'Plan', steps: [{ name: 'a' }] };
const CODEGEN: RunResult = {
  workflow_id: 'code-generation-v1',
  workflow_name: 'Code Generation Pipeline',
  workflow_version: '1.0.0',
  initial_input: { requirements: 'r' },
  step_outputs: {
    plan: { outputs: { result: PLAN } },
    build: { outputs: { result: { code: 'print(1)', language: 'python' } } },
    test: { outputs: { result: { quality_score: 9 } } },
  },
  final_output: { result: { quality_score: 9 } },
};
/** smart-router's result: the code-generation run is the child result of a branch step. */
const ROUTED: RunResult = {
  workflow_id: 'smart-router-v1',
  workflow_name: 'Smart Request Router',
  workflow_version: '1.0.0',
  initial_input: { requirements: 'r' },
  step_outputs: { analyze: { outputs: { request_type: 'code_generation' } }, generate_code_workflow: { outputs: CODEGEN } },
  final_output: CODEGEN,
};

describe('examples/code-generation app writer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-codegen-app-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  for (const [name, result] of [
    ['code-generation-v1', CODEGEN],
    ['smart-router-v1 routed to it', ROUTED],
  ] as const) {
    it(`writes plan.json, main.py and review.json for ${name}`, async () => {
      await writeRunFiles(result, dir, {}, writeAppFiles);
      assert.deepEqual((await readdir(dir)).sort(), ['main.py', 'metadata.json', 'plan.json', 'result.json', 'review.json']);
      assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')), PLAN);
      assert.equal(await readFile(path.join(dir, 'main.py'), 'utf8'), 'print(1)\n');
      assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'review.json'), 'utf8')), { quality_score: 9 });
    });
  }

  it('writes only the files whose steps ran; a step named "review" counts as the review', async () => {
    const other: RunResult = { ...CODEGEN, step_outputs: { review: { outputs: { result: { score: 3 } } } }, final_output: { result: { score: 3 } } };
    await writeRunFiles(other, dir, {}, writeAppFiles);
    assert.deepEqual((await readdir(dir)).sort(), ['metadata.json', 'result.json', 'review.json']);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'review.json'), 'utf8')), { score: 3 });
  });

  it('findStepOutput looks into child results stored as is or under an outputs name', () => {
    assert.deepEqual(findStepOutput(ROUTED, 'plan'), { result: PLAN });
    const wrapped = { ...ROUTED, step_outputs: { child: { outputs: { result: CODEGEN } } } };
    assert.deepEqual(findStepOutput(wrapped, 'build'), { result: { code: 'print(1)', language: 'python' } });
    assert.equal(findStepOutput(ROUTED, 'nope'), undefined);
    assert.equal(findStepOutput(null, 'plan'), undefined);
  });
});
