// The registry commands and registry-pinned runs, as a user meets them: push refuses what
// lint refuses, lint checks skills against published cards, runs are pinned to a digest
// that survives a moved tag, and a broken definition or registry gives a clear error.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { createRegistry, type PalletRegistry } from '../../src/registry';
import { RegistryStore } from '../../src/sources/definitions';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { PALLET_TEST_WORKFLOWS, PALLET_WORKFLOWS } from '../helpers/pallet';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';

const FLOW_V1 = `metadata: { id: pinned-v1, name: Pinned one, version: "1.0.0" }
steps:
  - { id: greet, skill: echo, inputs: { text: "{{ workflow.input.requirements }}" } }
`;
const FLOW_V1_MOVED = FLOW_V1.replace('Pinned one', 'Pinned two');

describe('registry commands and registry-pinned runs', function () {
  this.timeout(180_000);
  let registry: RunningRegistry;
  let pallet: PalletRegistry;
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    const temporal = await temporalEnv();
    registry = await startRegistry();
    const regEnv = { PALLET_REGISTRY: registry.host };
    pallet = createRegistry(regEnv);
    agent = await startTestAgent('echo-agent', { echo: (p) => ({ said: p.text }) });
    const created = await createTestWorker({ agentUrls: [agent.url], definitions: new RegistryStore(pallet, registry.host) });
    worker = created.worker;
    running = worker.run();
    env = { ...regEnv, TEMPORAL_ADDRESS: temporal.address, PALLET_TASK_QUEUE: created.taskQueue, PALLET_AGENT_URLS: agent.url, PALLET_REGISTRY_DISCOVERY: 'true' };
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-registry-runs-'));
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await agent?.close();
    await registry?.stop();
  });

  it('push: pushes pallet-workflows/ by default; show prints the exact file; pushing again changes nothing', async () => {
    const pushed = await runCli(['push'], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /code-generation\.yaml \(code-generation-v1\) -> .*workflows\/code-generation:v1 sha256:/);
    const shown = await runCli(['show', 'code-generation-v1'], { env });
    assert.equal(shown.code, 0, shown.stderr);
    const { readFile } = await import('node:fs/promises');
    assert.equal(shown.stdout, await readFile(path.join(PALLET_WORKFLOWS, 'code-generation.yaml'), 'utf8'));
    const before = (await pallet.client.resolve(`${registry.host}/workflows/code-generation:v1`)).digest;
    const again = await runCli(['push'], { env });
    assert.match(again.stdout, /code-generation-v1\) = .*\(unchanged\)/);
    assert.equal((await pallet.client.resolve(`${registry.host}/workflows/code-generation:v1`)).digest, before);
  });

  it('push: refuses invalid files with FILE:LINE:COL lines and writes nothing for them; valid ones still go', async () => {
    const bad = path.join(dir, 'bad-template.yaml');
    await writeFile(bad, 'metadata: { id: bad-template-v1, name: Bad, version: "1" }\nsteps:\n  - { id: a, skill: echo, inputs: { x: "{{ steps.nope.outputs }}" } }\n');
    const good = path.join(dir, 'pinned.yaml');
    await writeFile(good, FLOW_V1);
    const res = await runCli(['push', path.join(PALLET_TEST_WORKFLOWS, 'missing_required.yaml'), bad, good], { env });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /missing_required\.yaml:2:3: metadata\.name is required/);
    assert.match(res.stderr, /bad-template\.yaml:3:\d+: step "a": template .* no such step/);
    assert.match(res.stdout, /pinned\.yaml \(pinned-v1\) -> /);
    const catalog = await pallet.client.catalog();
    assert.ok(catalog.includes('workflows/pinned'));
    assert.ok(!catalog.some((r) => /test-missing|bad-template/.test(r)), `nothing written for invalid files: ${catalog.join(', ')}`);
  });

  it('publish-agent and lint --check-agents: unknown skills and missing required inputs are reported', async () => {
    const notACard = path.join(dir, 'not-a-card.json');
    await writeFile(notACard, '{"hello": "world"}');
    const refused = await runCli(['publish-agent', notACard], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not-a-card\.json: not an agent card: name: /);

    const card = path.join(path.dirname(PALLET_WORKFLOWS), 'agent-cards', 'plan_agent_card.json');
    const published = await runCli(['publish-agent', card], { env });
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /-> .*agents\/plan:v1 sha256:/);
    assert.match((await runCli(['publish-agent', card], { env })).stdout, /= .*agents\/plan:v1 sha256:.*\(unchanged\)/);
    const flow = path.join(dir, 'uses-cards.yaml');
    await writeFile(flow, 'metadata: { id: uses-cards, name: U, version: "1" }\nsteps:\n  - { id: plan, skill: create_plan, inputs: { wrong: x } }\n  - { id: fly, skill: fly_to_moon }\n');
    const lint = await runCli(['lint', '--check-agents', flow], { env: { ...env, PALLET_AGENT_URLS: '' } });
    assert.equal(lint.code, 1);
    assert.match(lint.stdout, /uses-cards\.yaml:3:\d+: step "plan": skill "create_plan" of agent plan-agent requires input "requirements"/);
    assert.match(lint.stdout, /uses-cards\.yaml:4:\d+: step "fly": no agent offers skill "fly_to_moon" \(known skills: create_plan\)/);
  });

  it('runs name:tag and name@sha256:...; the digest pins the definition even after the tag moves', async () => {
    await pallet.pushWorkflow('pinned', 'pinned.yaml', FLOW_V1, 'v1');
    const digest = (await pallet.client.resolve(`${registry.host}/workflows/pinned:v1`)).digest;
    const byTag = await runCli(['run', '--workflow', 'pinned:v1', '--json', 'hello'], { env });
    assert.equal(byTag.code, 0, byTag.stderr);
    assert.equal(JSON.parse(byTag.stdout).workflow_name, 'Pinned one');

    await pallet.pushWorkflow('pinned', 'pinned.yaml', FLOW_V1_MOVED, 'v1');
    const id = uniqueId('pinned');
    const byDigest = await runCli(['run', '--workflow', `pinned@${digest}`, '--id', id, '--json', 'hello'], { env });
    assert.equal(byDigest.code, 0, byDigest.stderr);
    assert.equal(JSON.parse(byDigest.stdout).workflow_name, 'Pinned one', 'the pinned digest runs the old definition');
    const temporal = await temporalEnv();
    assert.equal((await temporal.client.workflow.getHandle(id).describe()).memo?.definitionDigest, digest);
    const moved = await runCli(['run', '--workflow', 'pinned-v1', '--json', 'hello'], { env });
    assert.equal(JSON.parse(moved.stdout).workflow_name, 'Pinned two', 'the tag now names the new definition');
  });

  it('a definition in the registry that is invalid fails the run at once with the lint messages', async () => {
    await pallet.pushWorkflow('broken', 'broken.yaml', 'metadata: { id: broken-v1, name: B, version: "1" }\nsteps:\n  - { id: a, step_type: loop }\n', 'v1');
    const started = Date.now();
    const res = await runCli(['run', '--workflow', 'broken-v1', 'x'], { env });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /broken\.yaml\):3:\d+: unknown step_type "loop"/);
    assert.ok(Date.now() - started < 15_000, 'not retried');
  });

  it('a registry that is down or a tag that does not exist gives one clear line, exit 1', async () => {
    const downEnv = { ...env, PALLET_REGISTRY: `127.0.0.1:${await freePort()}` };
    for (const args of [['run', '--workflow', 'code-generation-v1'], ['list']]) {
      const res = await runCli(args, { env: downEnv });
      assert.equal(res.code, 1, args.join(' '));
      assert.match(res.stderr, /registry 127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    }
    const missing = await runCli(['run', '--workflow', 'code-generation:v9'], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /workflows\/code-generation:v9/);
    assert.match(missing.stderr, /not found/i);
  });
});
