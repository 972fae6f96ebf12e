// `pallet serve`'s A2A agent (official @a2a-js/sdk server): one skill per served workflow, a
// task per run. The task id IS the Temporal workflow id, and tasks are read from Temporal
// (TemporalTaskStore) rather than kept in memory, so any instance answers GetTask,
// SubscribeToTask and CancelTask for a task another one started, even one that is gone.
//   GET  /.well-known/agent-card.json   the card (public: callers read it first; it names the security schemes)
//   POST /                              A2A JSON-RPC 1.0 (SendMessage, SendStreamingMessage, GetTask, CancelTask, SubscribeToTask), and 0.3's message/send...
import { createHash, randomUUID } from 'node:crypto';
import {
  Role,
  TaskState,
  type AgentCard,
  type Message,
  type Part,
  type SecurityScheme,
  type StreamResponse,
  type SubscribeToTaskRequest,
  type CancelTaskRequest,
  type Task,
} from '@a2a-js/sdk';
import { RequestMalformedError, TaskNotCancelableError, TaskNotFoundError, UnsupportedOperationError } from '@a2a-js/sdk/errors';
import {
  AgentEvent,
  DefaultRequestHandler,
  type AgentExecutor,
  type ExecutionEventBus,
  STATE_HEADERS_KEY,
  type RequestContext,
  type ServerCallContext,
  type TaskStore,
} from '@a2a-js/sdk/server';
import type http from 'node:http';
import type { PalletEvent, WaitingStep } from '../contract';
import type { ServedRun, ServedWorkflow, WorkflowRuns } from './contract';
import { RunRequestError } from './errors';
import { messageData, messageText } from '../agents/a2a-parts';
import { isPlainObject } from '../dsl/plain-object';

export const AGENT_CARD_PATH = '/.well-known/agent-card.json';

export interface A2aOptions {
  /** The URL callers reach the JSON-RPC endpoint at (the server's base URL). */
  url: string;
  /** Whether requests need a token: the card then declares the bearer and API-key schemes. */
  authenticated: boolean;
  /** Where the agent's notes go (a refused message, a follow that failed). */
  log?: (line: string) => void;
}

/** The card: one skill per served workflow (skill id = workflow id), one JSON-RPC interface for A2A 1.0 and one for 0.3. */
export function a2aCard(workflows: ServedWorkflow[], opts: Pick<A2aOptions, 'url' | 'authenticated'>): AgentCard {
  const schemes: Record<string, SecurityScheme> = opts.authenticated
    ? {
        bearer: {
          scheme: { $case: 'httpAuthSecurityScheme' as const, value: { description: 'a token of PALLET_SERVE_TOKENS', scheme: 'Bearer', bearerFormat: '' } },
        },
        apiKey: {
          scheme: { $case: 'apiKeySecurityScheme' as const, value: { description: 'a token of PALLET_SERVE_TOKENS', location: 'header', name: 'X-API-Key' } },
        },
      }
    : {};
  return {
    name: 'pallet',
    description:
      'Pallet workflows as skills: a message naming a workflow in its metadata under "skill" starts a run (a data part is its input; text is {"requirements": text}); ' +
      'the task is the run, an input-required task a wait step to answer with approve / reject.',
    supportedInterfaces: [
      { url: opts.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      { url: opts.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: schemes,
    securityRequirements: opts.authenticated ? [{ schemes: { bearer: { list: [] } } }, { schemes: { apiKey: { list: [] } } }] : [],
    defaultInputModes: ['application/json', 'text/plain'],
    defaultOutputModes: ['application/json'],
    skills: workflows.map((w) => ({
      id: w.id,
      name: w.name,
      description: w.description || w.name,
      tags: w.tags,
      examples: [],
      inputModes: ['application/json', 'text/plain'],
      outputModes: ['application/json'],
      securityRequirements: [],
    })),
    signatures: [],
  };
}

/** The task a run is, as Temporal knows it: the task id and context id are the workflow id. */
export function taskOf(run: ServedRun, history: Message[] = []): Task {
  return {
    id: run.runId,
    contextId: run.runId,
    status: statusOf(run),
    artifacts: run.status === 'completed' ? [resultArtifact(run.result)] : [],
    history,
    metadata: { workflow: run.workflow },
  };
}

const STATES: Record<ServedRun['status'], TaskState> = {
  running: TaskState.TASK_STATE_WORKING,
  waiting: TaskState.TASK_STATE_INPUT_REQUIRED,
  completed: TaskState.TASK_STATE_COMPLETED,
  failed: TaskState.TASK_STATE_FAILED,
  cancelled: TaskState.TASK_STATE_CANCELED,
};

function statusOf(run: ServedRun) {
  let parts: Part[] = [];
  if (run.status === 'waiting')
    parts = [textPart(waitingQuestion(run.waiting ?? [])), dataPart({ waiting: run.waiting ?? [], expects: { outcome: ['approved', 'rejected'] } })];
  else if (run.status === 'failed' || run.status === 'cancelled') parts = [textPart(run.error ?? `the run ${run.status}`)];
  else if (run.status === 'running' && run.progress)
    parts = [
      textPart(
        `${run.progress.done} step${run.progress.done === 1 ? '' : 's'} done${run.progress.running.length ? `; running: ${run.progress.running.join(', ')}` : ''}`,
      ),
    ];
  return { state: STATES[run.status], message: parts.length ? agentMessage(run.runId, parts) : undefined, timestamp: new Date().toISOString() };
}

/** What an input-required task asks: each wait step, its event, and the answer it expects. */
export function waitingQuestion(waiting: WaitingStep[]): string {
  const steps = waiting.map((w) => `step "${w.step}" waits for its event "${w.event}"${w.timeout_at ? ` until ${w.timeout_at}` : ''}`).join('; ');
  const naming = waiting.length > 1 ? ', naming the event under "event"' : '';
  return `${steps}: answer with a data part {"outcome": "approved" | "rejected", "data": ..., "by": ...}${naming}, or the text "approve" or "reject"`;
}

/** An agent message with an id that depends only on what it says, so reading a task twice gives the same message. */
function agentMessage(taskId: string, parts: Part[]): Message {
  const messageId = `${taskId}-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12)}`;
  return { messageId, contextId: taskId, taskId, role: Role.ROLE_AGENT, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

const textPart = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const dataPart = (value: unknown): Part => ({
  content: { $case: 'data', value: value ?? null },
  metadata: undefined,
  filename: '',
  mediaType: 'application/json',
});

/** The run's result (`step_outputs`, `final_output`...) as the artifact `result`: one data part. */
function resultArtifact(value: unknown) {
  return { artifactId: 'result', name: 'result', description: "the run's result", parts: [dataPart(value)], metadata: undefined, extensions: [] };
}

/** Tasks read from Temporal: a task is a run, so nothing is saved here (the run is the record). */
export class TemporalTaskStore implements TaskStore {
  constructor(private readonly runs: WorkflowRuns) {}

  async load(taskId: string): Promise<Task | undefined> {
    const run = await this.runs.get(taskId).catch((err: unknown) => {
      // A task id that is no workflow id Temporal takes (too long, odd characters) is no task.
      if (/invalid|too long/i.test((err as Error).message)) return undefined;
      throw err;
    });
    return run && taskOf(run);
  }

  async save(): Promise<void> {}

  async list(): Promise<{ tasks: Task[]; nextPageToken: string; pageSize: number; totalSize: number }> {
    throw new UnsupportedOperationError('ListTasks is not offered: list runs with `pallet runs` or the Temporal Web UI');
  }
}

/** Each request's signal that its caller has gone, by its headers object (what the SDK keeps of the request in a call's context). */
const callers = new WeakMap<object, AbortSignal>();

/**
 * Express middleware before the JSON-RPC handler: when a caller goes (or its answer is sent),
 * following its run stops. The run goes on in Temporal; nobody is left to tell about it.
 */
export function watchCallers(req: http.IncomingMessage, res: http.ServerResponse, next: () => void): void {
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  callers.set(req.headers, gone.signal);
  next();
}

function callerSignal(context: ServerCallContext | undefined): AbortSignal | undefined {
  const headers: unknown = context?.state.get(STATE_HEADERS_KEY);
  return typeof headers === 'object' && headers !== null ? callers.get(headers) : undefined;
}

/** Runs each message: a first message starts a run, a message on an input-required task answers its wait step. */
export class WorkflowExecutor implements AgentExecutor {
  constructor(
    private readonly runs: WorkflowRuns,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async execute(request: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { userMessage: message } = request;
    // Refusals are a message, not a task: no run was started (or the run is as it was).
    const refuse = (text: string) => {
      this.log(`A2A message ${message.messageId} refused: ${text}`);
      bus.publish(
        AgentEvent.message({
          messageId: randomUUID(),
          contextId: message.contextId,
          taskId: request.task?.id ?? '',
          role: Role.ROLE_AGENT,
          parts: [textPart(text)],
          metadata: undefined,
          extensions: [],
          referenceTaskIds: [],
        }),
      );
    };
    let run: ServedRun;
    try {
      if (request.task) {
        const answered = await this.answer(request.task.id, message);
        if (typeof answered === 'string') return refuse(answered);
        run = answered;
        bus.publish(AgentEvent.task({ ...taskOf(run), status: { ...statusOf(run), state: TaskState.TASK_STATE_WORKING, message: undefined } }));
      } else {
        const started = await this.start(message);
        if (typeof started === 'string') return refuse(started);
        run = started;
        bus.publish(AgentEvent.task(taskOf(run, [message])));
      }
    } catch (err) {
      if (err instanceof RunRequestError) return refuse(err.message);
      throw err;
    }
    const gone = callerSignal(request.context);
    const end = await this.runs.follow(
      run.runId,
      (now) => {
        if (now.status === 'running') bus.publish(statusEvent(now));
      },
      gone,
    );
    if (!gone?.aborted) publishEnd(bus, end);
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    bus.publish(statusEvent(await this.runs.cancel(taskId)));
  }

  /** Starts the run the message asks for; a string says why not. */
  private async start(message: Message): Promise<ServedRun | string> {
    const catalog = await this.runs.catalog();
    const skills = catalog.map((w) => w.id).join(', ') || 'none';
    const skill = message.metadata?.skill;
    if (typeof skill !== 'string' || !skill) return `name the workflow to run in the message metadata under "skill" (skills: ${skills})`;
    if (!catalog.some((w) => w.id === skill)) return `no workflow "${skill}" is served here (skills: ${skills})`;
    const data = messageData(message);
    const text = messageText(message);
    let input: Record<string, unknown>;
    if (isPlainObject(data)) input = data;
    else if (data === undefined && text !== undefined) input = { requirements: text };
    else return `send the input of ${skill} as a data part holding a JSON object, or as text (taken as {"requirements": text})`;
    const run = await this.runs.start(skill, input, `a2a:${message.messageId}`);
    this.log(`A2A message ${message.messageId}: ${skill} run ${run.runId} (${run.status})`);
    return run;
  }

  /** Answers the wait step the task's run waits at, as `pallet approve` would; a string says why not. */
  private async answer(taskId: string, message: Message): Promise<ServedRun | string> {
    const run = await this.runs.get(taskId);
    if (!run) return `no task ${taskId}`;
    if (run.status !== 'waiting') return `task ${taskId} is not waiting for input: its run is ${run.status}`;
    const waiting = run.waiting ?? [];
    const data = messageData(message);
    const text = messageText(message)?.trim().toLowerCase();
    let event: PalletEvent;
    if (isPlainObject(data) && (data.outcome === 'approved' || data.outcome === 'rejected')) {
      event = { event: typeof data.event === 'string' ? data.event : '', outcome: data.outcome };
      if (data.data !== undefined) event.data = data.data;
      if (typeof data.by === 'string') event.by = data.by;
    } else if (text && /^(approve|approved|reject|rejected)$/.test(text)) {
      event = { event: '', outcome: text.startsWith('approve') ? 'approved' : 'rejected' };
    } else return `task ${taskId} waits for an answer: ${waitingQuestion(waiting)}`;
    if (!event.event) {
      if (waiting.length !== 1) return `task ${taskId} waits at several steps: name the event under "event" (${waitingQuestion(waiting)})`;
      event.event = waiting[0].event;
    }
    const answered = await this.runs.answer(taskId, event);
    this.log(`A2A task ${taskId}: ${event.outcome} "${event.event}"${event.by ? ` by ${event.by}` : ''}`);
    return answered;
  }
}

function statusEvent(run: ServedRun) {
  return AgentEvent.statusUpdate({ taskId: run.runId, contextId: run.runId, status: statusOf(run), metadata: undefined });
}

/** A followed run's end: its result as the artifact first, then its final (or input-required) state. */
function publishEnd(bus: ExecutionEventBus, run: ServedRun): void {
  if (run.status === 'completed') {
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId: run.runId,
        contextId: run.runId,
        artifact: resultArtifact(run.result),
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
  }
  bus.publish(statusEvent(run));
}

const TERMINAL: ServedRun['status'][] = ['completed', 'failed', 'cancelled'];

/**
 * The SDK's handler, with what needs the run rather than this process's memory: SubscribeToTask
 * follows the run in Temporal, and CancelTask cancels it there, whichever instance started it.
 */
export class ServedRequestHandler extends DefaultRequestHandler {
  constructor(
    card: AgentCard,
    private readonly runs: WorkflowRuns,
    log?: (line: string) => void,
  ) {
    // No bus outlives its request: the next message on a task is answered from Temporal.
    super(card, new TemporalTaskStore(runs), new WorkflowExecutor(runs, log), undefined, undefined, undefined, undefined, undefined, {
      keepBusAliveStates: [],
    });
  }

  override async *resubscribe(params: SubscribeToTaskRequest, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    if (!params.id) throw new RequestMalformedError('name the task to subscribe to (id)');
    const run = await this.runs.get(params.id);
    if (!run) throw new TaskNotFoundError(`Task not found: ${params.id}`);
    if (TERMINAL.includes(run.status))
      throw new UnsupportedOperationError(`Task ${params.id} is ${run.status} and cannot be subscribed to: read it with GetTask`);
    yield { payload: { $case: 'task', value: taskOf(run) } };
    if (run.status === 'waiting') return;
    const gone = callerSignal(context);
    const stop = new AbortController();
    gone?.addEventListener('abort', () => stop.abort(), { once: true });
    const updates: ServedRun[] = [];
    let wake: (() => void) | undefined;
    let ended: ServedRun | undefined;
    let failed: unknown;
    const following = this.runs
      .follow(
        params.id,
        (now) => {
          updates.push(now);
          wake?.();
        },
        stop.signal,
      )
      .then(
        (end) => (ended = end),
        (err: unknown) => (failed = err ?? new Error('following the run failed')),
      )
      .finally(() => wake?.());
    try {
      for (;;) {
        while (updates.length) {
          const now = updates.shift()!;
          if (now.status !== 'running') continue; // the end is published once, below
          yield { payload: { $case: 'statusUpdate', value: { taskId: now.runId, contextId: now.runId, status: statusOf(now), metadata: undefined } } };
        }
        if (failed) throw failed;
        if (ended && stop.signal.aborted) return;
        if (ended) {
          if (ended.status === 'completed') {
            yield {
              payload: {
                $case: 'artifactUpdate',
                value: {
                  taskId: ended.runId,
                  contextId: ended.runId,
                  artifact: resultArtifact(ended.result),
                  append: false,
                  lastChunk: true,
                  metadata: undefined,
                },
              },
            };
          }
          yield { payload: { $case: 'statusUpdate', value: { taskId: ended.runId, contextId: ended.runId, status: statusOf(ended), metadata: undefined } } };
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stop.abort();
      await following;
    }
  }

  override async cancelTask(params: CancelTaskRequest, _context: ServerCallContext): Promise<Task> {
    void _context;
    if (!params.id) throw new RequestMalformedError('name the task to cancel (id)');
    const run = await this.runs.get(params.id);
    if (!run) throw new TaskNotFoundError(`Task not found: ${params.id}`);
    if (run.status === 'cancelled') return taskOf(run);
    if (TERMINAL.includes(run.status)) throw new TaskNotCancelableError(`Task ${params.id} is ${run.status}: it cannot be cancelled`);
    const after = await this.runs.cancel(params.id);
    if (after.status === 'completed' || after.status === 'failed')
      throw new TaskNotCancelableError(`Task ${params.id} ${after.status} before it could be cancelled`);
    return taskOf(after);
  }
}
