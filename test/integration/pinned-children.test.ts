// A child workflow started by `execute_workflow` is pinned: its definition is resolved to a
// digest once, recorded in the parent's history, and `pallet retry` of the parent runs that
// same digest after the child's tag has moved. Real registry, real server, real CLI.
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunResult } from '../../src/dsl/types';
import { stateQuery } from '../../src/contract';
import { palletWorkflow } from '../../src/workflows';
import { createRegistry, type PalletRegistry } from '../../src/registry';
import { RegistryStore } from '../../src/sources/definitions';
import { SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import { parseDefinition } from '../../src/dsl/loader';

const CHILD_OLD = `metadata: { id: child-v1, name: Child (old), version: "1" }
steps:
  - { id: old_only, skill: echo, inputs: { text: "{{ workflow.input.text }}" } }
  - { id: flaky, skill: flaky }
`;
const CHILD_NEW = `metadata: { id: child-v1, name: Child (new), version: "2" }
steps:
  - { id: new_only, skill: echo, inputs: { text: "new" } }
`;
const PARENT = `metadata: { id: parent-v1, name: Parent, version: "1" }
steps:
  - { id: call_child, skill: execute_workflow, inputs: { workflow_id: child-v1, input: { text: "{{ workflow.input.text }}" } } }
`;

describe('execute_workflow pins the child definition', function () {
  this.timeout(180_000);
  let registry: RunningRegistry;
  let pallet: PalletRegistry;
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  let flakyFails = true;

  before(async () => {
    await temporalEnv();
    registry = await startRegistry();
    pallet = createRegistry({ PALLET_REGISTRY: registry.host });
    agent = await startTestAgent('pin-agent', {
      echo: (p) => ({ said: p.text }),
      flaky: () => {
        if (flakyFails) throw new SkillError('not today');
        return 'fine';
      },
    });
    const created = await createTestWorker({ agentUrls: [agent.url], definitions: new RegistryStore(pallet, registry.host) });
    ({ worker, taskQueue } = created);
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await agent?.close();
    await registry?.stop();
  });

  it('a parent retried after its child tag moved runs the original child digest', async () => {
    const env = await temporalEnv();
    const pushed = await pallet.pushWorkflow('child', 'child.yaml', CHILD_OLD, 'v1');
    const parsed = parseDefinition(PARENT, 'parent.yaml');
    assert.ok(parsed.ok);
    const workflowId = uniqueId('pinned-parent');
    const handle = await env.client.workflow.start(palletWorkflow, {
      taskQueue,
      workflowId,
      args: [{ definition: parsed.definition, source: { ref: 'parent.yaml', digest: parsed.digest }, input: { text: 'hi' } }],
    });
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && /Step "call_child" failed/.test(String(err.cause?.message)));
    const state = await handle.query(stateQuery);
    assert.equal(state?.pinned.call_child.digest, pushed.digest, 'the parent records the digest its child ran');

    // The tag moves to a definition without the old steps; the agent recovers.
    const moved = await pallet.pushWorkflow('child', 'child.yaml', CHILD_NEW, 'v1');
    assert.notEqual(moved.digest, pushed.digest);
    flakyFails = false;

    const retry = await runCli(['retry', workflowId], { env: { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue, PALLET_REGISTRY: registry.host } });
    assert.equal(retry.code, 0, retry.stderr + retry.stdout);
    const result = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
    const child = result.step_outputs.call_child.outputs as RunResult;
    assert.equal(child.workflow_name, 'Child (old)');
    assert.deepEqual(Object.keys(child.step_outputs), ['old_only', 'flaky']);
    // The step that failed is called again with the same call id (Idempotency-Key).
    const flakyIds = agent.callsTo('flaky').map((c) => c.id);
    assert.equal(flakyIds.length, 2);
    assert.equal(flakyIds[0], flakyIds[1]);
    assert.match(String(flakyIds[0]), new RegExp(`^${workflowId}/[^/]+/call_child/flaky$`));
    const retried = await env.client.workflow.getHandle(workflowId).query(stateQuery);
    assert.equal(retried?.pinned.call_child.digest, pushed.digest);

    // A new run of the parent follows the tag.
    const fresh = await env.client.workflow.execute(palletWorkflow, {
      taskQueue,
      workflowId: uniqueId('pinned-parent-new'),
      args: [{ definition: parsed.definition, input: { text: 'hi' } }],
    });
    assert.deepEqual(Object.keys((fresh.step_outputs.call_child.outputs as RunResult).step_outputs), ['new_only']);
  });
});
