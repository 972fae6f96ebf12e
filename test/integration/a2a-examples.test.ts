// The example agents over A2A, on the real dev server: code-generation-v1 run once with the
// worker calling the agents over Pallet's protocol and once over A2A (the same agents, at their
// `/a2a` addresses) gives the same step outputs; and mixed-protocols-v1 runs a Pallet agent, an
// A2A long task, an A2A question answered with `pallet reply`, and the examples' MCP tool.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { startExampleAgents, type ExampleAgents } from '../../examples/agents/main';
import { wordCount } from '../../examples/mcp/server';
import { stateQuery, type RunState } from '../../src/contract';
import { loadDefinitionFile } from '../../src/dsl/loader';
import type { RunResult } from '../../src/dsl/types';
import { palletWorkflow } from '../../src/workflows';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { McpAgentSource } from '../../src/sources/mcp-servers';
import { runCli } from '../helpers/cli';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';

const REQUIREMENTS = 'Build a CLI that reads a CSV of expenses and prints totals by category';
const workflowFile = (name: string) => path.join(ROOT, 'pallet-workflows', `${name}.yaml`);

describe('the example agents over A2A (real server)', function () {
  this.timeout(180_000);
  let agents: ExampleAgents;
  const log: string[] = [];
  const urlOf = (name: string) => agents.agents.find((a) => a.name === name)!.url;

  before(async () => {
    agents = await startExampleAgents({
      host: '127.0.0.1',
      basePort: 0,
      env: { PALLET_PYTHON: process.env.PALLET_PYTHON ?? 'python3' },
      log: (l) => log.push(l),
    });
  });
  after(() => agents?.close());

  /** Runs `workflow` with a worker that finds its agents in `directory`; `drive` may act on the running run. */
  async function run(
    workflow: string,
    directory: AgentDirectory,
    drive?: (id: string, taskQueue: string) => Promise<void>,
  ): Promise<{ result: RunResult; calls: string[] }> {
    const env = await temporalEnv();
    const { definition } = await loadDefinitionFile(workflowFile(workflow));
    const created = await createTestWorker({ agentUrls: [], directory });
    const worker: Worker = created.worker;
    const from = log.length;
    const id = uniqueId(workflow);
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue: created.taskQueue,
        workflowId: id,
        args: [{ definition, input: { requirements: REQUIREMENTS } }],
      });
      await drive?.(id, created.taskQueue);
      return (await handle.result()) as RunResult;
    });
    return { result, calls: log.slice(from).filter((l) => / ok in \d+ ms| asks: /.test(l)) };
  }

  it('code-generation-v1 over A2A gives the step outputs it gives over Pallet’s protocol', async () => {
    const names = ['plan-agent', 'build-agent', 'test-agent'];
    const pallet = await run('code-generation', new AgentDirectory([new UrlAgentSource(names.map(urlOf))], 60_000));
    const a2aDirectory = new AgentDirectory([new UrlAgentSource(names.map((n) => `${urlOf(n)}/a2a`))], 60_000);
    const listed = await a2aDirectory.agents();
    assert.deepEqual(
      listed.agents.map((a) => [a.card.name, a.protocol]),
      names.map((n) => [n, 'a2a']),
      `the /a2a addresses serve A2A only; problems: ${listed.problems.join('; ')}`,
    );
    const a2a = await run('code-generation', a2aDirectory);

    assert.deepEqual(
      pallet.calls.map((l) => l.replace(/ in \d+ ms/, '')),
      ['plan-agent: create_plan ok', 'build-agent: generate_code ok', 'test-agent: review_code ok'],
    );
    assert.deepEqual(
      a2a.calls.map((l) => l.replace(/ in \d+ ms/, '')),
      ['plan-agent: A2A create_plan ok', 'build-agent: A2A generate_code ok', 'test-agent: A2A review_code ok'],
    );
    assert.deepEqual(a2a.result.step_outputs, pallet.result.step_outputs);
    assert.deepEqual(a2a.result.final_output, pallet.result.final_output);
    const review = (a2a.result.final_output as { result: { quality_score: number; language: string } }).result;
    assert.equal(review.language, 'python');
    assert.ok(review.quality_score >= 1 && review.quality_score <= 10);
  });

  it('mixed-protocols-v1: a Pallet agent, an A2A long task, an A2A question answered with pallet reply, an MCP tool', async () => {
    const env = await temporalEnv();
    const directory = new AgentDirectory(
      [new UrlAgentSource([urlOf('plan-agent'), `${urlOf('analysis-agent')}/a2a`]), new McpAgentSource([{ name: 'examples', url: agents.mcp!.url }])],
      60_000,
    );
    let asked: RunState['asking'];
    const { result, calls } = await run('mixed-protocols', directory, async (id, taskQueue) => {
      const handle = env.client.workflow.getHandle(id);
      const deadline = Date.now() + 60_000;
      while (!(asked = (await handle.query(stateQuery))?.asking)?.length) {
        assert.ok(Date.now() < deadline, 'the summary step never asked');
        await new Promise((r) => setTimeout(r, 200));
      }
      const replied = await runCli(['reply', id, 'summary', '--text', 'French'], { env: { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue } });
      assert.equal(replied.code, 0, replied.stderr);
    });

    assert.deepEqual(
      asked?.map((a) => [a.step, a.question]),
      [['summary', 'Which language should the summary be in?']],
    );
    assert.deepEqual(
      calls.map((l) => l.replace(/ in \d+ ms/, '')),
      [
        'plan-agent: create_plan ok',
        'analysis-agent: A2A compile_report ok',
        'analysis-agent: A2A summarize_text asks: Which language should the summary be in?',
        'analysis-agent: A2A summarize_text ok',
      ],
    );
    const outputs = Object.fromEntries(Object.entries(result.step_outputs).map(([id, s]) => [id, s.outputs]));
    const plan = outputs.plan as { title: string; steps: unknown[] };
    assert.ok(plan.steps.length >= 2, 'the plan has steps');
    const report = outputs.report as { title: string; sections: { heading: string }[] };
    assert.equal(report.title, plan.title, 'the report is titled by the plan');
    assert.deepEqual(
      report.sections.map((s) => s.heading),
      ['Overview', 'Details', 'Key terms'],
    );
    assert.deepEqual(outputs.summary, { summary: `Résumé: ${REQUIREMENTS}`, language: 'French' });
    assert.deepEqual(outputs.count, wordCount(REQUIREMENTS));
    assert.deepEqual(result.final_output, outputs.count);
  });
});
