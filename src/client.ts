// The thin client: starts interpreter runs by workflow ID, waits for them with progress,
// and reads their state. The CLI (cli/) is a front end to these functions; the files a
// finished run leaves in app/ are written by app-files.ts.
import {
  ApplicationFailure,
  isGrpcDeadlineError,
  isGrpcServiceError,
  ServiceError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import path from 'node:path';
import {
  FailureTypes,
  PalletSearchAttributes,
  payloadSize,
  stateQuery,
  type PalletStatus,
  type PalletWorkflowInput,
  type RunState,
  type StepFailureDetails,
} from './contract';
import { MAX_PAYLOAD_BYTES, type DefinitionSource, type RunResult, type WorkflowDefinition } from './dsl/types';
import type { ClientServices } from './client-services';
import type { palletWorkflow } from './workflows';

/**
 * The interpreter's workflow type, by name: importing the workflow module for it would load the
 * DSL and the interpreter into every client (and `pallet status`). test/unit/cli checks it.
 */
export const PALLET_WORKFLOW_TYPE = 'palletWorkflow';

/** A connected client and the services it was built from. */
export interface PalletClient {
  client: Client;
  services: ClientServices;
}

export async function connectClient(services: ClientServices): Promise<PalletClient> {
  const { client } = await services.temporal();
  return { client, services };
}

/** What to run: a definition inline (files, local folders) or a pinned registry reference. */
export interface RunTarget {
  definition?: WorkflowDefinition;
  source: DefinitionSource;
  /** Id used for the Temporal workflow id and the memo. */
  definitionId: string;
}

/** Resolves `--file` / `--workflow` into something a run can start from. */
export async function resolveTarget(opts: { file?: string; workflow?: string }, services: ClientServices): Promise<RunTarget> {
  // The loader (zod, YAML) and the registry client are loaded only by the verbs that start runs.
  if (opts.file) {
    const { loadDefinitionFile } = await import('./dsl/loader');
    const { definition, digest } = await loadDefinitionFile(opts.file);
    return { definition, source: { ref: path.resolve(opts.file), digest }, definitionId: definition.metadata.id };
  }
  const ref = opts.workflow ?? 'code-generation-v1';
  if (services.settings.workflowsDir) {
    // The folder as services.ts's `definitions` reads it: the client has no Services of its own.
    const { DirectoryStore, loadFromStore } = await import('./sources/definitions');
    const { definition, source } = await loadFromStore(new DirectoryStore(services.settings.workflowsDir), ref);
    return { definition, source, definitionId: definition.metadata.id };
  }
  // Registry: pin the tag to its digest now, so the run (and any retry or replay) executes
  // exactly this definition even if the tag moves; the worker pulls it in an activity.
  // The reference is recorded without the registry host: the worker reaches the registry
  // by its own PALLET_REGISTRY, which may name it differently (a container, a cluster).
  const { formatReference, workflowReference } = await import('./registry');
  const parsed = workflowReference(ref, services.settings.registry.registry);
  const { digest } = await services.registry.client.resolve(formatReference(parsed));
  return {
    source: { ref: formatReference(parsed, false), digest, repository: parsed.repository, tag: parsed.tag },
    definitionId: /-v\d+$/.test(ref) ? ref : `${parsed.repository.split('/').pop()}-${parsed.tag ?? 'pinned'}`,
  };
}

export interface StartOptions {
  input: Record<string, unknown>;
  workflowId?: string;
  completed?: Record<string, unknown>;
}

/** The workflow's input for a run; refused at once when it cannot fit one Temporal payload. */
export function runArgs(target: RunTarget, opts: StartOptions): PalletWorkflowInput {
  // A definition that declares its input (metadata.input_schema) refuses input that does not fit, naming the field.
  if (target.definition) {
    // Required here, not at the top: ajv would load into every client (`pallet status`, `runs`); a
    // target with a definition came from the loader, which has already loaded it. runArgs stays synchronous.
    const { checkInput } = require('./dsl/input-schema') as typeof import('./dsl/input-schema');
    checkInput(target.definition.metadata, opts.input);
  }
  const args: PalletWorkflowInput = { definition: target.definition, source: target.source, input: opts.input, completed: opts.completed };
  // Said here, before anything starts: the server would refuse it with a bare "failed to start".
  const size = payloadSize(args);
  if (size > MAX_PAYLOAD_BYTES) {
    throw new Error(
      `the run's input and definition come to ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload: make the input smaller (pass references to large data), or split the definition into workflows run by execute_workflow`,
    );
  }
  return args;
}

/** What a run ran, for its search attributes: as much as is known when it starts. */
export interface RunIdentity {
  definitionId: string;
  version?: string;
  digest?: string;
}

/**
 * Pallet's search attributes for starting a run (`typedSearchAttributes` of
 * `client.workflow.start`): the definition's id, version and digest as far as known, and
 * PalletStatus `loading`. Undefined when the namespace lacks them (a real cluster where nobody
 * created them): start without any then, since the server refuses unknown ones. When this
 * returns attributes, also pass `searchAttributes: true` in the workflow input, so the
 * workflow keeps PalletStatus up to date; without them it must not (see contract.ts).
 */
export async function searchAttributesFor(pc: PalletClient, run: RunIdentity): Promise<SearchAttributePair[] | undefined> {
  if (!(await pc.services.searchAttributesRegistered())) return undefined;
  return searchAttributePairs(run, 'loading');
}

/** The search attribute pairs for what a run ran (only the known values) and its status. */
export function searchAttributePairs(run: RunIdentity, status: PalletStatus): SearchAttributePair[] {
  const keyword = (key: (typeof PalletSearchAttributes)[keyof typeof PalletSearchAttributes], value: string | undefined): SearchAttributePair[] =>
    value ? [{ key, value: value.length > 200 ? value.slice(0, 200) : value }] : [];
  return [
    ...keyword(PalletSearchAttributes.definitionId, run.definitionId),
    ...keyword(PalletSearchAttributes.definitionVersion, run.version),
    ...keyword(PalletSearchAttributes.definitionDigest, run.digest),
    ...keyword(PalletSearchAttributes.status, status),
  ];
}

export async function startRun(pc: PalletClient, target: RunTarget, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const workflowId = opts.workflowId ?? `${target.definitionId}-${uniqueSuffix()}`;
  const typedSearchAttributes = await searchAttributesFor(pc, {
    definitionId: target.definition?.metadata.id ?? target.definitionId,
    version: target.definition?.metadata.version,
    digest: target.source.digest || undefined,
  });
  const args: PalletWorkflowInput = { ...runArgs(target, opts), ...(typedSearchAttributes ? { searchAttributes: true as const } : {}) };
  return pc.client.workflow.start<typeof palletWorkflow>(PALLET_WORKFLOW_TYPE, {
    taskQueue: pc.services.settings.taskQueue,
    workflowId,
    args: [args],
    typedSearchAttributes,
    memo: {
      definitionId: target.definition?.metadata.id ?? target.definitionId,
      definitionRef: target.source.ref,
      definitionDigest: target.source.digest,
    },
    staticSummary: `Pallet workflow ${target.definitionId}`,
  });
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** How long a run may wait for its first workflow task before the client says no worker took it. */
const NO_WORKER_NOTICE_MS = 5_000;

/**
 * Waits for a run, reporting its live state (from the `state` query) when it changes, and
 * again every `repeatMs` while a long step keeps running.
 */
export async function waitForResult(
  handle: WorkflowHandle,
  onProgress?: (state: RunState) => void,
  pollMs = 1000,
  repeatMs = 15_000,
  onNotice: (line: string) => void = (line) => console.error(line),
): Promise<RunResult> {
  const result = resultThroughOutages(handle, onNotice);
  if (!onProgress) return result;
  let done = false;
  let last = '';
  let lastShown = 0;
  const started = Date.now();
  let pickedUp = false;
  const poll = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, pollMs));
      if (done) break;
      if (!pickedUp) {
        // A run no worker takes waits silently forever: say so after a few seconds.
        const description = await handle.describe().catch(() => undefined);
        pickedUp = !description || description.historyLength > 2 || description.status.name !== 'RUNNING';
        if (!pickedUp && Date.now() - started >= NO_WORKER_NOTICE_MS) {
          onNotice(`no worker has picked up this run yet: is one polling task queue "${description?.taskQueue}"? (npx pallet worker, or npm start)`);
          pickedUp = true;
        }
        if (!pickedUp) continue;
      }
      const state = await handle.query(stateQuery).catch(() => null);
      if (!state || done) continue;
      const key = JSON.stringify([state.running, state.finished]);
      if (key !== last || (state.running.length > 0 && Date.now() - lastShown >= repeatMs)) {
        last = key;
        lastShown = Date.now();
        onProgress(state);
      }
    }
  })();
  try {
    return await result;
  } finally {
    done = true;
    await poll;
  }
}

/**
 * The run's result. Losing contact with the server is not the run failing: the run goes on
 * there, so wait for the server to answer again, saying so once.
 */
async function resultThroughOutages(handle: WorkflowHandle, onNotice: (line: string) => void): Promise<RunResult> {
  let noticed = false;
  for (;;) {
    try {
      return (await handle.result()) as RunResult;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      if (!noticed)
        onNotice(
          `lost contact with Temporal (${(err as Error).message.split('\n')[0]}); the run goes on on the server: still waiting (Ctrl-C stops waiting, not the run)`,
        );
      noticed = true;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

/** gRPC status codes (as @grpc/grpc-js numbers them). */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** The server cannot be reached (as opposed to answering with an error about the run). */
function isUnreachable(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  const code = (grpc as { code?: unknown } | undefined)?.code;
  return isGrpcServiceError(grpc) ? code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED : isGrpcDeadlineError(err);
}

/** Why a run failed, by the failure's type: a step (with its details), or the run as a whole. */
export interface RunFailure {
  message: string;
  /** The failure type from contract.ts (FailureTypes), when the workflow raised one. */
  type?: string;
  step?: StepFailureDetails;
  /** The innermost failure type under a failed step (e.g. AgentTimeout): what went wrong in it. */
  causeType?: string;
}

export function failureOf(err: unknown): RunFailure {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const step = cause.type === FailureTypes.stepFailed ? (cause.details?.[0] as StepFailureDetails) : undefined;
      let causeType: string | undefined;
      for (let c: Error | undefined = cause.cause; c; c = (c as { cause?: Error }).cause) if (c instanceof ApplicationFailure && c.type) causeType = c.type;
      return { message: cause.message, type: cause.type ?? undefined, step, ...(causeType ? { causeType } : {}) };
    }
    return { message: cause?.message ?? err.message };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

export function uiLink(pc: PalletClient, workflowId: string, runId?: string): string {
  return pc.services.runUrl(workflowId, runId);
}
