// The one environment `npm run bench` measures in: a real Temporal dev server (the pinned
// CLI from .tools/, through @temporalio/testing as the tests use it), a real OCI registry
// holding Pallet's workflows and agent cards, and one agent that answers every skill at once,
// so the figures are the worker's and the server's, not an agent's.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createRegistry } from '../src/registry';
import { ROOT, stopTemporal, temporalEnv } from '../test/helpers/temporal';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry';
import { startTestAgent, type TestAgent } from '../test/helpers/agents';
import type { BenchEnv } from './suite';

/** The skill the interpreter suites call: answers at once with a small result. */
export const BENCH_SKILL = 'bench_echo';

export interface RunningBench {
  env: BenchEnv;
  stop(): Promise<void>;
}

/** Every skill of the example agent cards, plus BENCH_SKILL. */
async function exampleCards(): Promise<{ name: string; text: string; skills: string[] }[]> {
  const dir = path.join(ROOT, 'agent-cards');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const text = await readFile(path.join(dir, file), 'utf8');
      const card = JSON.parse(text) as { name: string; skills: { id: string }[] };
      return { name: card.name, text, skills: card.skills.map((s) => s.id) };
    }),
  );
}

export async function startBenchEnv(options: { quick: boolean }): Promise<RunningBench> {
  const cards = await exampleCards();
  const skills = [BENCH_SKILL, ...cards.flatMap((c) => c.skills)];
  // An instant agent: every skill answers with the skill's name and what it was given.
  const agent: TestAgent = await startTestAgent(
    'bench-agent',
    Object.fromEntries(skills.map((skill) => [skill, (params: Record<string, unknown>) => ({ result: `${skill} done`, ...params })])),
  );
  let registry: RunningRegistry | undefined;
  let temporal: TestWorkflowEnvironment | undefined;
  const stop = async () => {
    await Promise.allSettled([stopTemporal(), registry?.stop(), agent.close()]);
  };
  try {
    [temporal, registry] = await Promise.all([temporalEnv(), startRegistry()]);
    // The agent's calls are never recorded: thousands of calls would only take memory.
    agent.calls.push = () => 0;
    const store = createRegistry({ PALLET_REGISTRY: `http://${registry.host}` });
    // The example cards, each pointing at the instant agent, and every example workflow.
    for (const card of cards) {
      const served = { ...(JSON.parse(card.text) as Record<string, unknown>), url: agent.url };
      await store.pushAgentCard(card.name, JSON.stringify(served, null, 2));
    }
    const workflows = path.join(ROOT, 'pallet-workflows');
    for (const file of (await readdir(workflows)).filter((f) => f.endsWith('.yaml')).sort()) {
      const text = await readFile(path.join(workflows, file), 'utf8');
      const id = /^\s*id:\s*["']?([\w.-]+)/m.exec(text)?.[1] ?? file.replace(/\.yaml$/, '');
      await store.pushWorkflow(id.replace(/-v\d+$/, ''), file, text, /-(v\d+)$/.exec(id)?.[1] ?? 'v1');
    }
    const env: BenchEnv = {
      address: temporal.address,
      namespace: temporal.namespace ?? 'default',
      connection: temporal.nativeConnection,
      client: temporal.client,
      registry: registry.host,
      agentUrl: agent.url,
      quick: options.quick,
    };
    return { env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
