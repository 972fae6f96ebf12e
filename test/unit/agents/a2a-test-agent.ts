// A test A2A agent on the official SDK's server (DefaultRequestHandler, express handlers, a
// loopback port), scripted by the skill in each message's metadata, recording what it saw:
// the messages sent, GetTask calls, cancelled tasks and each request's authorization header.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { A2A_PROTOCOL_VERSION, Role, TaskState, type AgentCard as A2aCard, type Message, type Part, type Task } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler, UserBuilder } from '@a2a-js/sdk/server/express';

// express ships no type declarations here; what the test uses of it is typed locally.
type Handler = (
  req: IncomingMessage & { path: string; method: string },
  res: ServerResponse & { status(n: number): { json(b: unknown): void } },
  next: () => void,
) => void;
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void;
  use(path: string | Handler | unknown, handler?: unknown): void;
  get(path: string, handler: (req: unknown, res: { json(b: unknown): void }) => void): void;
}
const express = require('express') as () => ExpressApp;

export const text = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
export const data = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });
const agentMessage = (parts: Part[], taskId = '', contextId = ''): Message => ({
  messageId: `m-${Math.random()}`,
  role: Role.ROLE_AGENT,
  parts,
  taskId,
  contextId,
  extensions: [],
  metadata: {},
  referenceTaskIds: [],
});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the test agent saw. */
export interface Seen {
  /** Every message sent (SendMessage), in order. */
  sends: Message[];
  gets: number;
  cancelled: string[];
  /** The authorization header of every A2A request (POST; card reads are not counted). */
  authorization: (string | undefined)[];
  /** How long the `slow` skill works before it completes (with no artifact), unless cancelled. */
  slowMs: number;
}

/**
 * The skills of the test agent, by the `skill` in the message metadata: `echo` works a moment
 * then returns its inputs as one data artifact; `text`, `several` and `reply` other outputs;
 * `fail`, `reject`, `auth`; `ask` asks a question and completes with the answer; `slow` works
 * until cancelled.
 */
class TestExecutor implements AgentExecutor {
  private readonly cancelledTasks = new Set<string>();
  constructor(private readonly seen: Seen) {}

  cancelTask = async (taskId: string, bus: ExecutionEventBus): Promise<void> => {
    this.seen.cancelled.push(taskId);
    this.cancelledTasks.add(taskId);
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: '',
        status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: undefined },
        metadata: {},
      }),
    );
  };

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const message = ctx.userMessage;
    this.seen.sends.push(message);
    const { taskId, contextId } = ctx;
    const skill = message.metadata?.skill as string;
    const inputs = message.parts.find((p) => p.content?.$case === 'data')?.content?.value;
    if (skill === 'reply') {
      bus.publish(AgentEvent.message(agentMessage([data({ direct: inputs })], '', contextId)));
      return bus.finished();
    }
    const status = (state: TaskState, said?: Part[]) =>
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state, message: said ? agentMessage(said, taskId, contextId) : undefined, timestamp: new Date().toISOString() },
          metadata: {},
        }),
      );
    const artifact = (name: string, parts: Part[]) =>
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: { artifactId: `a-${name}`, name, description: '', parts, metadata: undefined, extensions: [] },
          append: false,
          lastChunk: true,
          metadata: {},
        }),
      );
    if (!ctx.task) {
      const task: Task = {
        id: taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: undefined },
        artifacts: [],
        history: [message],
        metadata: {},
      };
      bus.publish(AgentEvent.task(task));
    } else {
      bus.publish(AgentEvent.task({ ...ctx.task, status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: undefined } }));
    }
    status(TaskState.TASK_STATE_WORKING);
    await pause(300);
    switch (skill) {
      case 'echo':
        artifact('result', [data(inputs)]);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      case 'text':
        artifact('answer', [text('first line'), text('second line')]);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      case 'several':
        artifact('plan', [data({ steps: 2 })]);
        artifact('notes', [text('keep it short')]);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      case 'fail':
        status(TaskState.TASK_STATE_FAILED, [text('the model is overloaded')]);
        break;
      case 'reject':
        status(TaskState.TASK_STATE_REJECTED, [text('I do not translate poetry')]);
        break;
      case 'auth':
        status(TaskState.TASK_STATE_AUTH_REQUIRED, [text('sign in to the code host')]);
        break;
      case 'ask': {
        const answer = ctx.task ? message.parts.find((p) => p.content?.$case === 'text')?.content?.value : undefined;
        if (answer === undefined) {
          status(TaskState.TASK_STATE_INPUT_REQUIRED, [text('Which color?'), data({ choices: ['red', 'blue'] })]);
        } else {
          artifact('result', [data({ color: answer })]);
          status(TaskState.TASK_STATE_COMPLETED);
        }
        break;
      }
      case 'slow':
        for (let i = 0; i < this.seen.slowMs / 100 && !this.cancelledTasks.has(taskId); i++) await pause(100);
        if (!this.cancelledTasks.has(taskId)) status(TaskState.TASK_STATE_COMPLETED);
        break;
      default:
        status(TaskState.TASK_STATE_FAILED, [text(`no skill ${skill}`)]);
    }
    bus.finished();
  }
}

export interface TestAgent {
  url: string;
  seen: Seen;
  /** When set, every A2A request (not the card) is answered with this HTTP status. */
  failWith?: number;
  /** The card served at /.well-known/agent-card.json, as JSON (changed by tests). */
  servedCard: Record<string, unknown>;
  close(): Promise<void>;
}

/** An A2A agent on a loopback port: JSON-RPC at `/`, HTTP+JSON at `/rest` (`binding` says which the card names first). */
export async function startAgent(binding: 'JSONRPC' | 'HTTP+JSON' = 'JSONRPC'): Promise<TestAgent> {
  const seen: Seen = { sends: [], gets: 0, cancelled: [], authorization: [], slowMs: 10_000 };
  const app = express();
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const interfaces = [
    { url: `${url}/`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION },
    { url: `${url}/rest`, protocolBinding: 'HTTP+JSON', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION },
  ];
  if (binding === 'HTTP+JSON') interfaces.reverse();
  const card: A2aCard = {
    name: 'test-a2a-agent',
    description: 'answers as the test says',
    supportedInterfaces: interfaces,
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['application/json'],
    defaultOutputModes: ['application/json'],
    skills: ['echo', 'text', 'several', 'reply', 'fail', 'reject', 'auth', 'ask', 'slow'].map((id) => ({
      id,
      name: id,
      description: `the ${id} skill`,
      tags: [],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    })),
    signatures: [],
  };
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new TestExecutor(seen));
  const counting = new Proxy(handler, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'getTask') return (...args: unknown[]) => (seen.gets++, (value as (...a: unknown[]) => unknown).apply(target, args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const agent: TestAgent = {
    url,
    seen,
    servedCard: {
      ...(JSON.parse(JSON.stringify(card)) as Record<string, unknown>),
      skills: card.skills.map((s) => ({
        id: s.id,
        name: s.name,
        description: s.description,
        tags: [],
        ...(s.id === 'echo' ? { metadata: { input_schema: ECHO_SCHEMA } } : {}),
      })),
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  app.get('/.well-known/agent-card.json', (_req, res) => res.json(agent.servedCard));
  app.use(((req, res, next) => {
    if (req.method === 'POST') seen.authorization.push(req.headers.authorization);
    if (agent.failWith && req.method === 'POST') return res.status(agent.failWith).json({ error: 'the agent is having a bad day' });
    next();
  }) as Handler);
  app.use('/rest', restHandler({ requestHandler: counting, userBuilder: UserBuilder.noAuthentication }));
  app.use('/card-by-sdk', agentCardHandler({ agentCardProvider: counting }));
  app.use(jsonRpcHandler({ requestHandler: counting, userBuilder: UserBuilder.noAuthentication }));
  return agent;
}

export const ECHO_SCHEMA = { type: 'object', required: ['text'], properties: { text: { type: 'string' } } };
