// WorkflowRuns (contract.ts) on Temporal: the catalog from the registry (or PALLET_WORKFLOWS_DIR),
// runs started with the client's resolveTarget/startRun and read back from Temporal alone
// (describe, the `state` query, the result), so any `pallet serve` instance answers for any run.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowHandle,
} from '@temporalio/client';
import YAML from 'yaml';
import { hasClaims, resolveClaims } from '../claims';
import { connectClient, failureOf, resolveTarget, startRun, type PalletClient } from '../client';
import { eventUpdate, NOT_WAITING, stateQuery, type PalletEvent, type RunState } from '../contract';
import { parseDefinition, YAML_OPTIONS } from '../dsl/loader';
import type { WorkflowDefinition } from '../dsl/types';
import type { Services } from '../services';
import { DirectoryStore } from '../sources/definitions';
import { isServed, type ServeConfig } from './config';
import type { ServedRun, ServedWorkflow, WorkflowRuns } from './contract';
import { RunRequestError } from './errors';

/** How long the run's worker has to answer the `state` query. */
const QUERY_TIMEOUT_MS = 5_000;
/** How long the run's worker has to take an event. */
const UPDATE_TIMEOUT_MS = 15_000;
/** How often a followed run is looked at. */
const FOLLOW_POLL_MS = 1_000;
/** How long a cancel waits for the run to end (its compensations may take a while: then it reports the run as it is). */
const CANCEL_WAIT_MS = 30_000;

/** A served workflow and the reference that starts it. */
interface CatalogEntry {
  workflow: ServedWorkflow;
  /** What resolveTarget is given: `workflows/<name>:<tag>` (registry) or the workflow id (folder). */
  ref: string;
}

export class TemporalWorkflowRuns implements WorkflowRuns {
  private cached?: { at: number; entries: Promise<CatalogEntry[]> };
  private client?: Promise<PalletClient>;
  /** Reads under way, by run id (see get). */
  private readonly reading = new Map<string, Promise<ServedRun | undefined>>();

  constructor(
    private readonly services: Services,
    private readonly config: Pick<ServeConfig, 'workflows' | 'catalogTtlMs'>,
    private readonly warn: (line: string) => void = (line) => console.error(`warning: ${line}`),
    private readonly pollMs = FOLLOW_POLL_MS,
  ) {}

  async catalog(): Promise<ServedWorkflow[]> {
    return (await this.entries()).map((e) => e.workflow);
  }

  async start(workflow: string, input: Record<string, unknown>, requestKey: string): Promise<ServedRun> {
    const entry = (await this.entries()).find((e) => e.workflow.id === workflow);
    if (!entry) {
      const served = (await this.catalog()).map((w) => w.id).join(', ') || 'none';
      throw new RunRequestError('not_found', `no workflow "${workflow}" is served here (served: ${served})`);
    }
    const runId = servedRunId(workflow, requestKey);
    // The same request again is the same run, whatever became of it (a finished run's id may be
    // reused by Temporal's default policy: look first, so it is not started a second time).
    const existing = await this.get(runId);
    if (existing) return existing;
    const pc = await this.pc();
    const target = await resolveTarget({ workflow: entry.ref }, this.services).catch((err: Error) => {
      throw new RunRequestError('unavailable', `cannot resolve workflow ${workflow} (${entry.ref}): ${err.message}`);
    });
    try {
      await startRun(pc, target, { input, workflowId: runId });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return { runId, workflow, status: 'running' };
  }

  /**
   * The run now. Concurrent reads of one run share one look: a second `state` query sent while
   * the first is with the worker waits on the server for the run's next workflow task (seconds).
   */
  get(runId: string): Promise<ServedRun | undefined> {
    let pending = this.reading.get(runId);
    if (!pending) {
      pending = this.read(runId).finally(() => this.reading.delete(runId));
      this.reading.set(runId, pending);
    }
    return pending;
  }

  private async read(runId: string): Promise<ServedRun | undefined> {
    const pc = await this.pc();
    const handle = pc.client.workflow.getHandle(runId);
    const description = await handle.describe().catch((err: Error) => {
      if (err.name === 'WorkflowNotFoundError') return undefined;
      throw err;
    });
    if (!description || description.type !== 'palletWorkflow') return undefined;
    const workflow = typeof description.memo?.definitionId === 'string' ? description.memo.definitionId : runId;
    const run: ServedRun = { runId, workflow, status: 'running' };
    switch (description.status.name) {
      case 'RUNNING':
      case 'CONTINUED_AS_NEW': {
        const state = await this.state(handle);
        if (state) {
          run.progress = { done: state.finished.length, running: state.running };
          if (state.waiting?.length) {
            run.status = 'waiting';
            run.waiting = state.waiting;
          }
        }
        return run;
      }
      case 'COMPLETED': {
        const stored = await handle.result();
        // Large values are references in the history (docs/large-data.md): callers get the data.
        run.result = hasClaims(stored) ? await resolveClaims(stored, this.services.claims, { maxBytes: Number.POSITIVE_INFINITY }) : stored;
        return { ...run, status: 'completed' };
      }
      case 'CANCELLED':
        return { ...run, status: 'cancelled', error: 'the run was cancelled' };
      case 'TERMINATED':
        return { ...run, status: 'failed', error: 'the run was terminated' };
      case 'TIMED_OUT':
        return { ...run, status: 'failed', error: 'the run timed out' };
      default: {
        const error = await handle.result().then(
          () => `the run ended ${description.status.name.toLowerCase()}`,
          (err: unknown) => failureOf(err).message,
        );
        return { ...run, status: 'failed', error };
      }
    }
  }

  async follow(runId: string, onChange?: (run: ServedRun) => void, signal?: AbortSignal): Promise<ServedRun> {
    const pc = await this.pc();
    const { connection } = await this.services.temporal();
    const done = new AbortController();
    const stop = signal ? AbortSignal.any([signal, done.signal]) : done.signal;
    // Wakes the loop the moment the run closes (a long poll on the server), not at the next look.
    let closed: Promise<unknown> = connection.withAbortSignal(stop, () => pc.client.workflow.getHandle(runId).result()).catch(() => undefined);
    void closed.then(() => (closed = new Promise(() => undefined)));
    let last = '';
    try {
      for (;;) {
        const run = await this.get(runId);
        if (!run) throw new RunRequestError('not_found', `no Pallet run ${runId}`);
        const key = JSON.stringify([run.status, run.progress, run.waiting]);
        if (key !== last) {
          last = key;
          onChange?.(run);
        }
        if (run.status !== 'running' || signal?.aborted) return run;
        await Promise.race([sleep(this.pollMs, stop), closed]);
      }
    } finally {
      done.abort();
    }
  }

  async cancel(runId: string): Promise<ServedRun> {
    const run = await this.get(runId);
    if (!run) throw new RunRequestError('not_found', `no Pallet run ${runId}`);
    if (run.status !== 'running' && run.status !== 'waiting') return run;
    const pc = await this.pc();
    await pc.client.workflow.getHandle(runId).cancel();
    const deadline = AbortSignal.timeout(CANCEL_WAIT_MS);
    for (;;) {
      const now = await this.get(runId);
      if (!now || (now.status !== 'running' && now.status !== 'waiting') || deadline.aborted) return now ?? run;
      await sleep(this.pollMs, deadline);
    }
  }

  async answer(runId: string, event: PalletEvent): Promise<ServedRun> {
    const run = await this.get(runId);
    if (!run) throw new RunRequestError('not_found', `no Pallet run ${runId}`);
    const waiting = run.waiting ?? [];
    if (run.status !== 'waiting' || !waiting.some((w) => w.event === event.event || w.step === event.event)) {
      const now = waiting.length ? `it waits for ${waiting.map((w) => `"${w.event}"`).join(', ')}` : `it is ${run.status}`;
      throw new RunRequestError('conflict', `${runId} is not waiting for "${event.event}": ${now}. Nothing was sent.`);
    }
    const pc = await this.pc();
    const { connection } = await this.services.temporal();
    const handle = pc.client.workflow.getHandle(runId);
    try {
      await connection.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(eventUpdate, { args: [event] }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause as (Error & { type?: string }) | undefined;
        // The run stopped waiting between the query and the update (answered, timed out).
        const kind = cause?.type === NOT_WAITING ? 'conflict' : 'invalid';
        throw new RunRequestError(kind, `${runId} refused the event: ${cause?.message ?? err.message}. Nothing was taken.`);
      }
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw new RunRequestError(
          'unavailable',
          `no worker took the event "${event.event}" for ${runId} within ${UPDATE_TIMEOUT_MS / 1000} s; check the task before answering again`,
        );
      }
      throw err;
    }
    return (await this.get(runId)) ?? run;
  }

  /** The live state, or null when the run's worker does not answer (it still runs: no progress to show). */
  private async state(handle: WorkflowHandle): Promise<RunState | null> {
    const { connection } = await this.services.temporal();
    return connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(stateQuery)).catch(() => null);
  }

  private pc(): Promise<PalletClient> {
    return (this.client ??= connectClient(this.services).catch((err) => {
      this.client = undefined;
      throw err;
    }));
  }

  /** The catalog, read again once it is older than catalogTtlMs (a workflow pushed meanwhile appears then). */
  private entries(): Promise<CatalogEntry[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.config.catalogTtlMs) {
      const entries = this.readCatalog();
      this.cached = { at: now, entries };
      entries.catch(() => (this.cached = undefined));
    }
    return this.cached.entries;
  }

  private async readCatalog(): Promise<CatalogEntry[]> {
    const texts: { text: string; file: string; ref?: string }[] = [];
    const dir = this.services.settings.workflowsDir;
    if (dir) {
      for (const file of await new DirectoryStore(dir).files()) texts.push({ text: await readFile(file, 'utf8'), file });
    } else {
      for (const listed of await this.services.registry.listWorkflows()) {
        if (listed.problem) this.warn(`${listed.repository} is not served: ${listed.problem}`);
        else texts.push({ text: listed.text, file: `${listed.repository}:${listed.tag}`, ref: `${listed.repository}:${listed.tag}` });
      }
    }
    const entries: CatalogEntry[] = [];
    for (const { text, file, ref } of texts) {
      const parsed = parseDefinition(text, file);
      if (!parsed.ok) {
        this.warn(`${file} is not served: ${parsed.problems[0]?.message ?? 'invalid'}`);
        continue;
      }
      const workflow = servedWorkflow(parsed.definition, text);
      if (!isServed(workflow.id, this.config.workflows)) continue;
      if (entries.some((e) => e.workflow.id === workflow.id)) {
        this.warn(`${file} is not served: workflow id ${workflow.id} is served from another file already`);
        continue;
      }
      entries.push({ workflow, ref: ref ?? workflow.id });
    }
    return entries;
  }
}

/** A definition as a skill and a tool: its metadata, and its `metadata.input_schema` when it declares one. */
function servedWorkflow(definition: WorkflowDefinition, text: string): ServedWorkflow {
  const { id, name, description, version, tags } = definition.metadata;
  const served: ServedWorkflow = { id, name, description, version, tags };
  const schema = (definition.metadata as { input_schema?: unknown }).input_schema ?? rawMetadata(text)?.input_schema;
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) served.inputSchema = schema as Record<string, unknown>;
  return served;
}

function rawMetadata(text: string): Record<string, unknown> | undefined {
  try {
    return (YAML.parse(text, YAML_OPTIONS) as { metadata?: Record<string, unknown> } | null)?.metadata;
  } catch {
    return undefined;
  }
}

/**
 * The Temporal workflow id of the run a request starts: `<workflow>-<protocol>-<hash>`, the hash
 * of the workflow and the request key, so the same request (an A2A messageId, `a2a:<id>`) gives
 * the same id and the same run. The protocol is the key's prefix before `:` (default `serve`).
 */
export function servedRunId(workflow: string, requestKey: string): string {
  const protocol = /^([a-z][a-z0-9]*):/.exec(requestKey)?.[1] ?? 'serve';
  const hash = createHash('sha256').update(`${workflow}\0${requestKey}`).digest('hex').slice(0, 20);
  return `${workflow}-${protocol}-${hash}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
