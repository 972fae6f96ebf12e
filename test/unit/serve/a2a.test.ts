// The A2A agent's handling of messages, through the SDK's request handler, over runs faked in
// memory: what starts a run with which input and key, how a wait step is answered, refusals,
// and how each run state shows as a task.
import assert from 'node:assert/strict';
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { ServerCallContext } from '@a2a-js/sdk/server';
import type { PalletEvent } from '../../../src/contract';
import { a2aCard, ServedRequestHandler, taskOf } from '../../../src/serve/a2a';
import type { ServedRun, ServedWorkflow, WorkflowRuns } from '../../../src/serve/contract';

const WORKFLOWS: ServedWorkflow[] = [{ id: 'approval-gate-v1', name: 'Approved Code Generation', description: 'waits', tags: ['approval'] }];
const WAIT = { step: 'plan_approval', event: 'plan_approval', since: '2026-01-01T00:00:00Z', timeout_at: null };

/** Runs in memory: a started run waits at plan_approval; an answer completes it with the event as its result. */
class FakeRuns implements WorkflowRuns {
  readonly runs = new Map<string, ServedRun>();
  readonly started: [string, Record<string, unknown>, string][] = [];
  readonly answers: [string, PalletEvent][] = [];
  async catalog() {
    return WORKFLOWS;
  }
  async start(workflow: string, input: Record<string, unknown>, key: string) {
    this.started.push([workflow, input, key]);
    const run: ServedRun = { runId: `${workflow}-a2a-${this.started.length}`, workflow, status: 'waiting', waiting: [WAIT] };
    this.runs.set(run.runId, run);
    return run;
  }
  async get(id: string) {
    return this.runs.get(id);
  }
  async follow(id: string, onChange?: (run: ServedRun) => void) {
    const run = this.runs.get(id)!;
    onChange?.(run);
    return run;
  }
  async cancel(id: string) {
    const run = { ...this.runs.get(id)!, status: 'cancelled' as const, error: 'the run was cancelled' };
    this.runs.set(id, run);
    return run;
  }
  async answer(id: string, event: PalletEvent) {
    this.answers.push([id, event]);
    const run: ServedRun = { runId: id, workflow: 'approval-gate-v1', status: 'completed', result: { final_output: event } };
    this.runs.set(id, run);
    return run;
  }
}

const text = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const data = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });
const message = (parts: Part[], extra: Partial<Message> = {}): Message => ({
  messageId: `m-${Math.random()}`,
  contextId: '',
  taskId: '',
  role: Role.ROLE_USER,
  parts,
  metadata: { skill: 'approval-gate-v1' },
  extensions: [],
  referenceTaskIds: [],
  ...extra,
});
const textOf = (m: Message | undefined) => (m?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');

describe('pallet serve A2A agent (runs faked in memory)', () => {
  let runs: FakeRuns;
  let handler: ServedRequestHandler;
  const send = (m: Message) => handler.sendMessage({ tenant: '', message: m, configuration: undefined, metadata: {} }, new ServerCallContext());

  beforeEach(() => {
    runs = new FakeRuns();
    handler = new ServedRequestHandler(a2aCard(WORKFLOWS, { url: 'http://x', authenticated: true }), runs);
  });

  it('starts a run from text as {requirements}, keyed by the message id, and shows its wait as input-required', async () => {
    const m = message([text('a todo API')]);
    const task = (await send(m)) as Task;
    assert.deepEqual(runs.started, [['approval-gate-v1', { requirements: 'a todo API' }, `a2a:${m.messageId}`]]);
    assert.equal(task.id, 'approval-gate-v1-a2a-1');
    assert.equal(task.status?.state, TaskState.TASK_STATE_INPUT_REQUIRED);
    assert.match(
      textOf(task.status?.message),
      /^step "plan_approval" waits for its event "plan_approval": answer with a data part \{"outcome": "approved" \| "rejected"/,
    );
  });

  it('takes a data part as the input as it is', async () => {
    await send(message([data({ requirements: 'x', n: 2 })]));
    assert.deepEqual(runs.started[0][1], { requirements: 'x', n: 2 });
  });

  it('refuses with a message, starting nothing, a message without a skill, with an unknown one, or without input', async () => {
    const noSkill = (await send(message([text('x')], { metadata: {} }))) as Message;
    assert.match(textOf(noSkill), /name the workflow to run in the message metadata under "skill" \(skills: approval-gate-v1\)/);
    const unknown = (await send(message([text('x')], { metadata: { skill: 'nope' } }))) as Message;
    assert.match(textOf(unknown), /no workflow "nope" is served here/);
    const list = (await send(message([data([1, 2])]))) as Message;
    assert.match(textOf(list), /as a data part holding a JSON object, or as text/);
    assert.equal(runs.started.length, 0);
  });

  it('answers the wait step with the text approve, or a data part with data and by, as pallet approve does', async () => {
    const first = (await send(message([text('x')]))) as Task;
    const done = (await send(message([text(' Approve ')], { taskId: first.id, metadata: {} }))) as Task;
    assert.deepEqual(runs.answers, [[first.id, { event: 'plan_approval', outcome: 'approved' }]]);
    assert.equal(done.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(done.artifacts[0].parts[0].content, { $case: 'data', value: { final_output: { event: 'plan_approval', outcome: 'approved' } } });

    const second = (await send(message([text('y')]))) as Task;
    await send(message([data({ outcome: 'rejected', data: { why: 'no tests' }, by: 'ada' })], { taskId: second.id, metadata: {} }));
    assert.deepEqual(runs.answers[1], [second.id, { event: 'plan_approval', outcome: 'rejected', data: { why: 'no tests' }, by: 'ada' }]);
  });

  it('refuses what is no answer, and asks for the event when several wait steps wait', async () => {
    const task = (await send(message([text('x')]))) as Task;
    const vague = (await send(message([text('sounds good')], { taskId: task.id, metadata: {} }))) as Message;
    assert.match(textOf(vague), /waits for an answer: step "plan_approval"/);
    runs.runs.set(task.id, { ...runs.runs.get(task.id)!, waiting: [WAIT, { ...WAIT, step: 'legal', event: 'legal' }] });
    const which = (await send(message([text('approve')], { taskId: task.id, metadata: {} }))) as Message;
    assert.match(textOf(which), /waits at several steps: name the event under "event"/);
    assert.equal(runs.answers.length, 0);
  });

  it('shows each run state as its task state, failures with their message', () => {
    const states = (['running', 'waiting', 'completed', 'failed', 'cancelled'] as const).map(
      (status) => taskOf({ runId: 'r', workflow: 'w', status, error: 'step "plan" failed: boom' }).status?.state,
    );
    assert.deepEqual(states, [
      TaskState.TASK_STATE_WORKING,
      TaskState.TASK_STATE_INPUT_REQUIRED,
      TaskState.TASK_STATE_COMPLETED,
      TaskState.TASK_STATE_FAILED,
      TaskState.TASK_STATE_CANCELED,
    ]);
    assert.equal(
      textOf(taskOf({ runId: 'r', workflow: 'w', status: 'failed', error: 'step "plan" failed: boom' }).status?.message),
      'step "plan" failed: boom',
    );
    assert.equal(
      textOf(taskOf({ runId: 'r', workflow: 'w', status: 'running', progress: { done: 1, running: ['build'] } }).status?.message),
      '1 step done; running: build',
    );
  });

  it('cancels the run behind CancelTask, and refuses to cancel a finished one', async () => {
    const task = (await send(message([text('x')]))) as Task;
    const cancelled = await handler.cancelTask({ tenant: '', id: task.id, metadata: {} }, new ServerCallContext());
    assert.equal(cancelled.status?.state, TaskState.TASK_STATE_CANCELED);
    runs.runs.set('done', { runId: 'done', workflow: 'w', status: 'completed', result: {} });
    await assert.rejects(
      handler.cancelTask({ tenant: '', id: 'done', metadata: {} }, new ServerCallContext()),
      /Task done is completed: it cannot be cancelled/,
    );
    await assert.rejects(handler.getTask({ tenant: '', id: 'nope', historyLength: undefined }, new ServerCallContext()), /Task not found: nope/);
  });
});
