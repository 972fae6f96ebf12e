// The example agents' A2A side, through the official client: the card and the A2A-only address,
// what a message must say (skill, inputs), a long task's progress and its cancellation, a question
// and its answer, and a repeated message answered without redoing the work.
import assert from 'node:assert/strict';
import { Role, TaskState, type Message, type Task } from '@a2a-js/sdk';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { startExampleAgents, type ExampleAgents } from '../../../../examples/agents/main';
import { LANGUAGE_QUESTION } from '../../../../examples/agents/skills/report';
import { callFails, call } from './rpc';

let counter = 0;
function message(skill: string | undefined, data: unknown, extra: Partial<Message> = {}): Message {
  return {
    messageId: `m-${++counter}`,
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: data === undefined ? [] : [{ content: { $case: 'data', value: data }, metadata: undefined, filename: '', mediaType: 'application/json' }],
    metadata: skill === undefined ? undefined : { skill },
    extensions: [],
    referenceTaskIds: [],
    ...extra,
  };
}

const send = (client: Client, msg: Message, returnImmediately = false) =>
  client.sendMessage({
    message: msg,
    configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately },
    metadata: undefined,
    tenant: '',
  }) as Promise<Task>;

const statusText = (task: Task): string => task.status?.message?.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('') ?? '';
const resultOf = (task: Task) => {
  const content = task.artifacts[0]?.parts[0]?.content;
  return content?.$case === 'data' ? content.value : undefined;
};

describe('example agents: A2A', function () {
  this.timeout(30_000);
  let running: ExampleAgents;
  let url: string;
  let client: Client;
  const log: string[] = [];

  before(async () => {
    running = await startExampleAgents({ basePort: 0, only: ['analysis'], env: {}, log: (l) => log.push(l) });
    url = running.agents[0].url;
    client = await new ClientFactory().createFromUrl(`${url}/a2a`);
  });
  after(() => running.close());

  it('serves its A2A card at the well-known path and below /a2a, where there is no Pallet card', async () => {
    for (const where of [url, `${url}/a2a`]) {
      const card = (await (await fetch(`${where}/.well-known/agent-card.json`)).json()) as {
        name: string;
        supportedInterfaces: { url: string; protocolBinding: string; protocolVersion: string }[];
        skills: { id: string }[];
      };
      assert.equal(card.name, 'analysis-agent');
      assert.deepEqual(
        card.supportedInterfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion]),
        [[`${url}/a2a`, 'JSONRPC', '1.0']],
      );
      assert.deepEqual(
        card.skills.map((s) => s.id),
        running.agents[0].skills,
      );
    }
    assert.equal((await fetch(`${url}/a2a/agent-card`)).status, 404);
    assert.equal((await fetch(`${url}/agent-card`)).status, 200, "Pallet's card is where it was");
  });

  it('rejects a message without a skill, with an unknown one, or with inputs the skill refuses, saying why', async () => {
    const noSkill = await send(client, message(undefined, { text: 'x' }));
    assert.equal(noSkill.status?.state, TaskState.TASK_STATE_REJECTED);
    assert.match(statusText(noSkill), /name the skill in the message metadata under "skill" \(skills of analysis-agent: security_scan, /);
    const unknown = await send(client, message('fly', { text: 'x' }));
    assert.equal(unknown.status?.state, TaskState.TASK_STATE_REJECTED);
    assert.match(statusText(unknown), /agent analysis-agent has no skill "fly"/);
    const noData = await send(client, message('compile_report', undefined));
    assert.match(statusText(noData), /send the inputs of compile_report as a data part holding a JSON object/);
    const invalid = await send(client, message('compile_report', { title: 'x' }));
    assert.equal(invalid.status?.state, TaskState.TASK_STATE_REJECTED);
    assert.equal(statusText(invalid), 'invalid params for compile_report: missing required field "text"');
    const failed = await send(client, message('analyze_data', { requirements: 'no numbers here' }));
    assert.equal(failed.status?.state, TaskState.TASK_STATE_FAILED);
    assert.match(statusText(failed), /numbers/);
  });

  it('completes with the result Pallet’s protocol returns, as the one data part of the artifact "result"; the same messageId is not run twice', async () => {
    const inputs = { requirements: 'sales: 3, 5, 8' };
    const msg = message('analyze_data', inputs);
    const first = await send(client, msg);
    assert.equal(first.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(
      first.artifacts.map((a) => [a.name, a.parts.length]),
      [['result', 1]],
    );
    assert.deepEqual(resultOf(first), await call(url, 'analyze_data', inputs));
    const again = await send(client, msg);
    assert.deepEqual(resultOf(again), resultOf(first));
    assert.ok(
      log.some((l) => /A2A analyze_data ok in \d+ ms \(replayed\)/.test(l)),
      log.join('\n'),
    );
  });

  it('a long task reports each section while working; CancelTask stops it', async () => {
    const started = await send(client, message('compile_report', { text: 'One. Two.', seconds: 0.6 }), true);
    const seen = new Set<string>();
    let task = started;
    while (task.status?.state !== TaskState.TASK_STATE_COMPLETED) {
      assert.ok(task.status?.state === TaskState.TASK_STATE_SUBMITTED || task.status?.state === TaskState.TASK_STATE_WORKING, TaskState[task.status!.state]);
      if (statusText(task)) seen.add(statusText(task));
      await new Promise((r) => setTimeout(r, 50));
      task = await client.getTask({ id: started.id, historyLength: 0, tenant: '' });
    }
    assert.ok(seen.size >= 2, `several progress messages: ${[...seen].join(' | ')}`);
    for (const text of seen) assert.match(text, /^writing section [123] of 3: (Overview|Details|Key terms)$/);
    assert.deepEqual((resultOf(task) as { title: string }).title, 'One.');

    const long = await send(client, message('compile_report', { text: 'One. Two.', seconds: 30 }), true);
    const cancelled = await client.cancelTask({ id: long.id, metadata: undefined, tenant: '' });
    assert.equal(cancelled.status?.state, TaskState.TASK_STATE_CANCELED);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await client.getTask({ id: long.id, historyLength: 0, tenant: '' })).status?.state, TaskState.TASK_STATE_CANCELED);
    assert.ok(log.includes(`analysis-agent: A2A task ${long.id} cancelled`), log.join('\n'));
  });

  it('summarize_text asks which language over A2A and completes with the answer; over Pallet’s protocol it needs language up front', async () => {
    const text = 'Todo items live in SQLite. The API lists and adds them.';
    const asked = await send(client, message('summarize_text', { text }));
    assert.equal(asked.status?.state, TaskState.TASK_STATE_INPUT_REQUIRED);
    assert.equal(statusText(asked), LANGUAGE_QUESTION);
    const answer: Message = {
      ...message(undefined, undefined, { taskId: asked.id, contextId: asked.contextId }),
      parts: [{ content: { $case: 'text', value: 'German' }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
    };
    const done = await send(client, answer);
    assert.equal(done.id, asked.id, 'the same task goes on');
    assert.equal(done.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(resultOf(done), { summary: `Zusammenfassung: ${text}`, language: 'German' });

    assert.match(await callFails(url, 'summarize_text', { text }), /^Which language should the summary be in\? \(give "language" in the inputs/);
    assert.deepEqual(await call(url, 'summarize_text', { text, language: 'French' }), { summary: `Résumé: ${text}`, language: 'French' });
  });
});
