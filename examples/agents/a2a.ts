// The example agents over A2A 1.0, with the official server SDK, on the same port as Pallet's
// protocol (server.ts hands these paths over):
//   GET  /.well-known/agent-card.json       the A2A card: the same skills, one JSON-RPC interface at /a2a
//   GET  /a2a/.well-known/agent-card.json   the same card, so `{url}/a2a` is an address that serves A2A only
//   POST /a2a                               A2A JSON-RPC (SendMessage, GetTask, CancelTask, SubscribeToTask...)
// A message names its skill in its metadata under `skill` (A2A has no field for it) and carries
// the inputs as a data part. Every task ends with the skill's result, exactly what Pallet's
// protocol returns, as the one data part of the artifact `result`. A skill that needs input
// (InputNeeded) leaves its task input-required with the question; the next message on that task
// answers it (text: the skill's `answer`; a data object: inputs added to the first ones).
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { Role, TaskState, type Message, type Part, type AgentCard as A2aCard } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import type { SkillRunner } from './skill-runner';
import { InputNeeded } from './types';
import { messageData, messageText } from '../../src/agents/a2a-parts';
import { isPlainObject } from '../../src/dsl/plain-object';

// express has no types installed here (no @types/express): the little these routes use of it.
interface ExpressApp {
  (req: http.IncomingMessage, res: http.ServerResponse): void;
  use(...handlers: unknown[]): void;
  disable(setting: string): void;
}
const express = require('express') as { (): ExpressApp; json(options: { limit: number }): unknown };

/** Where the A2A JSON-RPC endpoint is, below an agent's base URL. */
export const A2A_PATH = '/a2a';
const CARD_PATH = '/.well-known/agent-card.json';

/** The paths server.ts leaves to the A2A routes. */
export function isA2aPath(path: string): boolean {
  return path === CARD_PATH || path === A2A_PATH || path.startsWith(`${A2A_PATH}/`);
}

export interface A2aOptions {
  /** The agent's base URL (known once it listens). */
  urlOf(): string;
  env: NodeJS.ProcessEnv;
  log(line: string): void;
  /** Aborted when the agent shuts down. */
  signal: AbortSignal;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

/** The request handler for the A2A paths of one agent (built on the first request, when its URL is known). */
export function a2aRoutes(runner: SkillRunner, opts: A2aOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  let app: ExpressApp | undefined;
  return (req, res) => {
    app ??= a2aApp(runner, opts);
    app(req, res);
  };
}

function a2aApp(runner: SkillRunner, opts: A2aOptions): ExpressApp {
  const card = a2aCard(runner, opts.urlOf());
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new SkillExecutor(runner, opts));
  const cardRoute = agentCardHandler({ agentCardProvider: handler });
  const app = express();
  app.disable('x-powered-by');
  app.use(CARD_PATH, cardRoute);
  app.use(`${A2A_PATH}${CARD_PATH}`, cardRoute);
  // The SDK's own body parser stops at 100 KB; step inputs may be larger.
  app.use(A2A_PATH, express.json({ limit: opts.maxBodyBytes }), jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return app;
}

/** The agent's A2A card: its skills (A2A cards have no schemas: those are on its Pallet card) and one JSON-RPC 1.0 interface. */
export function a2aCard(runner: SkillRunner, url: string): A2aCard {
  const { agent } = runner;
  return {
    name: agent.name,
    description: `Pallet's example ${agent.name}: ${agent.skills.map((s) => s.id).join(', ')}. Name the skill in the message metadata under "skill".`,
    supportedInterfaces: [{ url: `${url}${A2A_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['application/json', 'text/plain'],
    defaultOutputModes: ['application/json'],
    skills: agent.skills.map((s) => ({
      id: s.id,
      name: s.id,
      description: s.description,
      tags: [],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    })),
    signatures: [],
  };
}

/** A task waiting for the caller's answer: what it was asked to do. */
interface Waiting {
  skill: string;
  params: Record<string, unknown>;
}

class SkillExecutor implements AgentExecutor {
  private readonly waiting = new Map<string, Waiting>();
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly runner: SkillRunner,
    private readonly opts: A2aOptions,
  ) {}

  async execute(request: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId, userMessage: message } = request;
    const who = this.runner.agent.name;
    const update = (state: TaskState, text?: string) =>
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: statusOf(taskId, contextId, state, text), metadata: undefined }));

    // A task's first event is the task; a follow-up turn publishes the task it continues, already
    // working (a caller that does not block reads this first state: not the question answered).
    const earlier = request.task ? this.waiting.get(taskId) : undefined;
    bus.publish(
      AgentEvent.task(
        request.task
          ? { ...request.task, status: statusOf(taskId, contextId, TaskState.TASK_STATE_WORKING) }
          : {
              id: taskId,
              contextId,
              status: statusOf(taskId, contextId, TaskState.TASK_STATE_SUBMITTED),
              artifacts: [],
              history: [message],
              metadata: undefined,
            },
      ),
    );
    if (request.task && !earlier) return update(TaskState.TASK_STATE_REJECTED, `task ${taskId} is not waiting for input`);

    let skill: string;
    let params: Record<string, unknown>;
    let answer: string | undefined;
    if (earlier) {
      this.waiting.delete(taskId);
      const data = messageData(message);
      ({ skill } = earlier);
      params = isPlainObject(data) ? { ...earlier.params, ...data } : earlier.params;
      answer = messageText(message) ?? (typeof data === 'string' ? data : undefined);
    } else {
      const named = message.metadata?.skill;
      const skills = this.runner.agent.skills.map((s) => s.id).join(', ');
      if (typeof named !== 'string' || !named) {
        return update(TaskState.TASK_STATE_REJECTED, `name the skill in the message metadata under "skill" (skills of ${who}: ${skills})`);
      }
      const data = messageData(message);
      if (!isPlainObject(data)) return update(TaskState.TASK_STATE_REJECTED, `send the inputs of ${named} as a data part holding a JSON object`);
      skill = named;
      params = data;
    }
    const checked = this.runner.check(skill, params);
    if ('kind' in checked) {
      this.opts.log(`${who}: A2A ${skill} rejected: ${checked.message}`);
      return update(TaskState.TASK_STATE_REJECTED, checked.message);
    }

    const cancel = new AbortController();
    this.running.set(taskId, cancel);
    const started = Date.now();
    update(TaskState.TASK_STATE_WORKING);
    try {
      // The message id is the caller's call id: the same message sent again does not redo the work.
      const key = earlier ? undefined : `a2a:${message.messageId}`;
      const ctx = {
        id: message.messageId,
        env: this.opts.env,
        signal: AbortSignal.any([this.opts.signal, cancel.signal]),
        progress: (text: string) => update(TaskState.TASK_STATE_WORKING, text),
        answer,
      };
      const { value, replayed } = await this.runner.run(skill, checked.params, key, ctx);
      if (cancel.signal.aborted) return;
      bus.publish(AgentEvent.artifactUpdate({ taskId, contextId, artifact: resultArtifact(value), append: false, lastChunk: true, metadata: undefined }));
      update(TaskState.TASK_STATE_COMPLETED);
      this.opts.log(`${who}: A2A ${skill} ok in ${Date.now() - started} ms${replayed ? ' (replayed)' : ''}`);
    } catch (err) {
      if (cancel.signal.aborted) return; // cancelTask said so already
      if (err instanceof InputNeeded) {
        this.waiting.set(taskId, { skill, params: checked.params });
        this.opts.log(`${who}: A2A ${skill} asks: ${err.question}`);
        return update(TaskState.TASK_STATE_INPUT_REQUIRED, err.question);
      }
      const text = err instanceof Error ? err.message : String(err);
      this.opts.log(`${who}: A2A ${skill} failed: ${text}`);
      update(TaskState.TASK_STATE_FAILED, text);
    } finally {
      if (this.running.get(taskId) === cancel) this.running.delete(taskId);
    }
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    this.running.get(taskId)?.abort(new Error(`task ${taskId} was cancelled`));
    this.waiting.delete(taskId);
    this.opts.log(`${this.runner.agent.name}: A2A task ${taskId} cancelled`);
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: '',
        status: statusOf(taskId, '', TaskState.TASK_STATE_CANCELED, 'cancelled by the caller'),
        metadata: undefined,
      }),
    );
  }
}

function statusOf(taskId: string, contextId: string, state: TaskState, text?: string) {
  const message: Message | undefined = text
    ? { messageId: randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts: [textPart(text)], metadata: undefined, extensions: [], referenceTaskIds: [] }
    : undefined;
  return { state, message, timestamp: new Date().toISOString() };
}

const textPart = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

/** The skill's result as the artifact `result`: one data part, the value Pallet's protocol returns. */
function resultArtifact(value: unknown) {
  const part: Part = {
    content: { $case: 'data', value: value === undefined ? null : value },
    metadata: undefined,
    filename: '',
    mediaType: 'application/json',
  };
  return { artifactId: 'result', name: 'result', description: '', parts: [part], metadata: undefined, extensions: [] };
}
