// `pallet run` of a 200-item for_each, as a CI log sees it (stdout not a terminal): progress
// lines that count the loop's iterations, never a list of every finished id; a summary that
// counts the iterations.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import type { Worker } from '@temporalio/worker';

const ITEMS = 200;

const LOOP = `metadata:
  id: progress-loop-v1
  name: Progress Loop
  version: 1.0.0
steps:
  - id: prepare
    skill: prepare
    inputs: {}
  - id: review_all
    step_type: for_each
    items: "{{ workflow.input.items }}"
    concurrency: 10
    steps:
      - id: review
        skill: review
        inputs:
          n: "{{ item }}"
`;

describe('pallet run progress (not a terminal)', function () {
  this.timeout(600_000);
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  let env: Record<string, string>;
  let file: string;

  before(async () => {
    agent = await startTestAgent('progress-agent', {
      prepare: () => ({ ready: true }),
      // Slow enough that the run is seen part way (the CLI polls its state every second).
      review: async (p) => {
        await new Promise((r) => setTimeout(r, 50));
        return { n: p.n, ok: true };
      },
    });
    const temporal = await temporalEnv();
    const created = await createTestWorker({ agentUrls: [agent.url] });
    worker = created.worker;
    running = worker.run();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-progress-'));
    file = path.join(dir, 'loop.yaml');
    await writeFile(file, LOOP);
    env = { TEMPORAL_ADDRESS: temporal.address, PALLET_TASK_QUEUE: created.taskQueue, PALLET_APP_WRITER: '' };
  });

  after(async () => {
    worker.shutdown();
    await running;
    await agent.close();
  });

  it('prints counts of the loop, not its ids, and a summary that counts its iterations', async () => {
    const input = JSON.stringify({ items: Array.from({ length: ITEMS }, (_, i) => i) });
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'pallet-progress-run-'));
    const res = await runCli(['run', '--file', file, '--id', uniqueId('progress'), '--input', input], { env, cwd, timeoutMs: 540_000 });
    assert.equal(res.code, 0, res.stderr);
    const counts = [...res.stdout.matchAll(/^ {2}review_all: (\d+)\/200 done, (\d+) running/gm)].map((m) => Number(m[1]));
    assert.ok(counts.length >= 1, res.stdout);
    // Counts only grow, and the loop is seen finished or the run's summary says it ran every item.
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
      res.stdout,
    );
    assert.match(res.stdout, /completed Progress Loop \(progress-loop-v1 1\.0\.0\): 2 steps \(review_all: 200 iterations\)/);
    // No line names iterations one by one: at most a few ids of the loop's body.
    for (const line of res.stdout.split('\n')) assert.ok((line.match(/review_all\[\d+\]/g) ?? []).length <= 3, line);
    assert.ok(res.stdout.split('\n').length < 60, `bounded output: ${res.stdout.split('\n').length} lines`);
  });
});
