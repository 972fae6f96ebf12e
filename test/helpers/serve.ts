// `pallet serve` on the real stack, as the serve tests need it: the shared dev server, a
// registry holding code-generation and approval-gate, a loopback agent with the given skills, a
// worker that pulls the pinned definitions from the registry (as a deployed one does), and the
// server with one token.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { loadServeConfig } from '../../src/serve/config';
import { startServeServer, type ServeServer } from '../../src/serve/server';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { startTestAgent, type SkillFn, type TestAgent } from './agents';
import { startRegistry, type RunningRegistry } from './registry';
import { ROOT, temporalEnv } from './temporal';
import { createTestWorker, uniqueId } from './worker';

export interface ServeStack {
  env: Awaited<ReturnType<typeof temporalEnv>>;
  registry: RunningRegistry;
  agent: TestAgent;
  services: Services;
  worker: Worker;
  server: ServeServer;
  /** The environment a `pallet` process needs to reach the same runs (`pallet approve`). */
  settingsEnv: Record<string, string>;
  stop(): Promise<void>;
}

export async function startServeStack(name: string, skills: Record<string, SkillFn>, token: string): Promise<ServeStack> {
  const env = await temporalEnv();
  const registry = await startRegistry();
  const agent = await startTestAgent('codegen-agent', skills);
  const settingsEnv = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    PALLET_REGISTRY: registry.host,
    PALLET_TASK_QUEUE: uniqueId(name),
    PALLET_WORKFLOWS_DIR: '',
    PALLET_AGENT_URLS: agent.url,
    PALLET_REGISTRY_DISCOVERY: 'false',
  };
  const services = new Services(loadSettings({ ...process.env, ...settingsEnv }), () => undefined);
  for (const workflow of ['code-generation', 'approval-gate']) {
    const text = await readFile(path.join(ROOT, 'pallet-workflows', `${workflow}.yaml`), 'utf8');
    await services.registry.pushWorkflow(workflow, `${workflow}.yaml`, text, 'v1');
  }
  const { worker } = await createTestWorker({
    agentUrls: [],
    taskQueue: settingsEnv.PALLET_TASK_QUEUE,
    directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000),
    definitions: services.definitions,
  });
  const running = worker.run();
  const server = await startServeServer({
    services,
    config: loadServeConfig({ PALLET_SERVE_TOKENS: token }, { host: '127.0.0.1', port: 0 }),
    log: () => undefined,
  });
  return {
    env,
    registry,
    agent,
    services,
    worker,
    server,
    settingsEnv,
    async stop() {
      await server.close();
      worker.shutdown();
      await running;
      await services.close();
      await agent.close();
      await registry.stop();
    },
  };
}
