// Pallet's three example workflows, and data-analysis-v1 that smart-router routes data
// requests to, end to end as a user runs them: the workflow files pushed to a real OCI
// registry with the real `oras` CLI, the example agents running and their cards published,
// a worker that finds both in the registry, and `pallet run --workflow ID`. smart-router's
// branches run as child workflows.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { startExampleAgents, type ExampleAgents } from '../../examples/agents/main';
import type { RunResult } from '../../src/dsl/types';
import { createRegistry } from '../../src/registry';
import { AgentDirectory } from '../../src/sources/agents';
import { RegistryStore } from '../../src/sources/definitions';
import { RegistryAgentSource } from '../../src/sources/registry-agents';
import { runCli } from '../helpers/cli';
import { runOras, startRegistry, type RunningRegistry } from '../helpers/registry';
import { maybeRecord } from '../helpers/histories';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';

const EXAMPLE_WORKFLOWS = ['code-generation', 'data-analysis', 'parallel-analysis', 'smart-router'];

describe('Pallet example workflows, end to end through the registry', function () {
  this.timeout(240_000);
  let registry: RunningRegistry;
  let agents: ExampleAgents;
  let worker: Worker;
  let running: Promise<void>;
  let cliEnv: Record<string, string>;

  before(async () => {
    const env = await temporalEnv();
    registry = await startRegistry();
    agents = await startExampleAgents({ host: '127.0.0.1', basePort: 0 });
    const regEnv = { PALLET_REGISTRY: registry.host };
    // Pallet's way of publishing workflows: the oras CLI, one YAML layer per file.
    for (const name of EXAMPLE_WORKFLOWS) {
      await runOras(['push', '--plain-http', `${registry.host}/workflows/${name}:v1`, `${name}.yaml:application/yaml`], path.join(ROOT, 'pallet-workflows'));
    }
    // Each running agent's card (with the address it really serves on) goes to the registry.
    const published = await runCli(['publish-agent', ...agents.agents.map((a) => a.url)], { env: regEnv });
    assert.equal(published.code, 0, published.stderr);

    const pallet = createRegistry(regEnv);
    const created = await createTestWorker({
      agentUrls: [],
      directory: new AgentDirectory([new RegistryAgentSource(pallet, registry.host)], 60_000),
      definitions: new RegistryStore(pallet, registry.host),
    });
    worker = created.worker;
    running = worker.run();
    cliEnv = { ...regEnv, TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: created.taskQueue, PALLET_REGISTRY_DISCOVERY: 'true' };
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await agents?.close();
    await registry?.stop();
  });

  async function run(workflow: string, args: string[]): Promise<{ id: string; result: RunResult }> {
    const id = uniqueId(workflow);
    const res = await runCli(['run', '--workflow', workflow, '--id', id, '--json', ...args], { env: cliEnv });
    assert.equal(res.code, 0, `pallet run failed:\n${res.stderr}`);
    return { id, result: JSON.parse(res.stdout) as RunResult };
  }

  it('lists the workflows pushed by oras with id, version, tags and digest', async () => {
    const res = await runCli(['list', '--json'], { env: cliEnv });
    assert.equal(res.code, 0, res.stderr);
    const rows = JSON.parse(res.stdout) as { id: string; version: string; tags: string[]; digest: string }[];
    assert.deepEqual(
      rows.map((r) => r.id).sort(),
      EXAMPLE_WORKFLOWS.map((n) => `${n}-v1`),
    );
    for (const row of rows) {
      assert.deepEqual(row.tags, ['v1']);
      assert.equal(row.version, '1.0.0');
      assert.match(row.digest, /^sha256:[0-9a-f]{64}$/);
    }
  });

  it('code-generation-v1: plan → build → test with the example agents; the run records the digest', async () => {
    const { id, result } = await run('code-generation-v1', ['Build a CLI that reads a CSV of expenses and prints totals by category']);
    assert.equal(result.workflow_id, 'code-generation-v1');
    assert.equal(result.workflow_name, 'Code Generation Pipeline');
    const plan = (result.step_outputs.plan.outputs as { result: { title: string; steps: unknown[] } }).result;
    assert.ok(plan.steps.length >= 2, 'the plan has steps');
    const build = (result.step_outputs.build.outputs as { result: { code: string; language: string; functions: string[] } }).result;
    assert.equal(build.language, 'python');
    assert.ok(build.functions.length >= plan.steps.length, 'one function per plan step');
    for (const fn of build.functions) assert.match(build.code, new RegExp(`def ${fn}\\(`));
    const review = (result.final_output as { result: { quality_score: number; approved: boolean } }).result;
    assert.ok(review.quality_score >= 1 && review.quality_score <= 10);
    assert.deepEqual(result.final_output, result.step_outputs.test.outputs);

    const env = await temporalEnv();
    const description = await env.client.workflow.getHandle(id).describe();
    const digest = (await createRegistry({ PALLET_REGISTRY: registry.host }).client.resolve(`${registry.host}/workflows/code-generation:v1`)).digest;
    assert.equal(description.memo?.definitionDigest, digest, 'the run is pinned to the digest it executed');
    assert.equal(description.memo?.definitionVersion, '1.0.0');
    await maybeRecord('code-generation-completed', id);
  });

  it('parallel-analysis-v1: three analyses in parallel, then the aggregate', async () => {
    const code = 'import os\n\ndef run(cmd):\n    password = "hunter2"\n    os.system(cmd)\n    return eval(cmd)\n';
    const { id, result } = await run('parallel-analysis-v1', ['--input', JSON.stringify({ code, language: 'python' })]);
    const security = (result.step_outputs.analyze_security.outputs as { security_result: { findings: { rule: string; line: number }[] } }).security_result;
    const rules = security.findings.map((f) => f.rule).join(' ');
    assert.match(rules, /eval/);
    assert.match(rules, /os.?system|shell/i);
    assert.ok(
      security.findings.some((f) => f.line === 6),
      'eval( is on line 6',
    );
    assert.ok('analyze_quality' in result.step_outputs && 'analyze_performance' in result.step_outputs);
    const aggregate = (result.final_output as { result: { approved: boolean; overall_score: number } }).result;
    assert.equal(aggregate.approved, false, 'code with eval and a hard-coded password is not approved');
    await maybeRecord('parallel-analysis-completed', id);
  });

  it('smart-router-v1: routes a code request to code-generation-v1 as a child workflow', async () => {
    const { id, result } = await run('smart-router-v1', ['Implement a Python function that parses ISO dates']);
    assert.equal((result.step_outputs.analyze.outputs as { request_type: string }).request_type, 'code_generation');
    const child = result.final_output as RunResult;
    assert.equal(child.workflow_id, 'code-generation-v1');
    assert.deepEqual(Object.keys(child.step_outputs), ['plan', 'build', 'test']);
    const env = await temporalEnv();
    const childRun = await env.client.workflow.getHandle(`${id}.generate_code_workflow`).describe();
    assert.equal(childRun.type, 'palletWorkflow');
    assert.equal(childRun.parentExecution?.workflowId, id, 'the branch ran as a child of the router run');
    assert.equal(childRun.status.name, 'COMPLETED');
    await maybeRecord('smart-router-completed', id);
  });

  it('smart-router-v1: routes a data request to data-analysis-v1 as a child workflow, which summarises its numbers', async () => {
    const { id, result } = await run('smart-router-v1', ['analyze this sales data: 3, 5, 8']);
    assert.equal((result.step_outputs.analyze.outputs as { request_type: string }).request_type, 'data_analysis');
    assert.deepEqual(Object.keys(result.step_outputs), ['analyze', 'analyze_data_workflow']);
    const child = result.final_output as RunResult;
    assert.equal(child.workflow_id, 'data-analysis-v1');
    assert.deepEqual(child.initial_input, { requirements: 'analyze this sales data: 3, 5, 8' });
    const stats = (child.final_output as { result: { count: number; min: number; max: number; mean: number; trend: string; summary: string } }).result;
    assert.deepEqual([stats.count, stats.min, stats.max, stats.mean, stats.trend], [3, 3, 8, 5.333333, 'increasing']);
    assert.match(stats.summary, /^3 values from 3 to 8: mean 5\.33/);
    const childRun = await (await temporalEnv()).client.workflow.getHandle(`${id}.analyze_data_workflow`).describe();
    assert.equal(childRun.parentExecution?.workflowId, id);
    assert.equal(childRun.status.name, 'COMPLETED');
  });

  it('data-analysis-v1 on its own: numbers from the input data, or a clear failure when there are none', async () => {
    const { result } = await run('data-analysis-v1', ['--input', JSON.stringify({ data: [120, 80, 100] })]);
    const stats = (result.final_output as { result: { values: number[]; source: string; trend: string; median: number } }).result;
    assert.deepEqual([stats.values, stats.source, stats.trend, stats.median], [[120, 80, 100], 'data', 'mixed', 100]);

    const id = uniqueId('router-no-numbers');
    const res = await runCli(['run', '--workflow', 'smart-router-v1', '--id', id, 'Analyze this sales data CSV and find trends'], { env: cliEnv });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /failed at step "analyze_data_workflow"/);
    assert.match(res.stderr, /no numbers found in the request/);
    await maybeRecord('smart-router-failed', id);
  });

  it("code-generation-v1 without requirements fails at the plan step with the agent's message", async () => {
    const id = uniqueId('codegen-empty');
    const res = await runCli(['run', '--workflow', 'code-generation-v1', '--id', id, '--input', '{}'], { env: cliEnv });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /failed at step "plan".*requirements/);
    await maybeRecord('code-generation-failed', id);
  });

  it('parallel-analysis-v1 without code fails before calling the agents, naming the missing input', async () => {
    const id = uniqueId('parallel-nocode');
    const res = await runCli(['run', '--workflow', 'parallel-analysis-v1', '--id', id, '--input', '{"language": "python"}'], { env: cliEnv });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /\(in "parallel_analyze"\).*missing required input "code"/);
    await maybeRecord('parallel-analysis-failed', id);
  });

  it("pallet run without --json, with the code-generation app writer as npm start uses it, writes Pallet's CLI files to app/<workflow id>/, reachable as app/latest", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-app-'));
    const writer = path.join(ROOT, 'examples', 'code-generation', 'app-files.ts');
    const res = await runCli(['run', '--app-writer', writer, 'A tool that counts words in a text file'], { env: cliEnv, cwd: dir });
    assert.equal(res.code, 0, res.stderr);
    const main = await readFile(path.join(dir, 'app', 'latest', 'main.py'), 'utf8');
    assert.match(main, /if __name__ == "__main__":/);
    const meta = JSON.parse(await readFile(path.join(dir, 'app', 'latest', 'metadata.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(meta.workflow_id, 'code-generation-v1');
    assert.match(String(meta.definition_digest), /^sha256:/);
    assert.match(
      res.stdout,
      new RegExp(`wrote app/${String(meta.temporal_workflow_id)}/: result\\.json, metadata\\.json, plan\\.json, main\\.py, review\\.json`),
    );
    for (const f of ['plan.json', 'review.json', 'result.json'])
      JSON.parse(await readFile(path.join(dir, 'app', String(meta.temporal_workflow_id), f), 'utf8'));
  });
});
