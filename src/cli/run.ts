// `pallet run`: start a run and wait for it (Ctrl-C stops waiting, not the run).
// The reporting of a finished run (reportCompleted, reportFailure) and the app options are
// shared with `pallet result` and `pallet retry`.
import { CancelledFailure, TerminatedFailure, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import path from 'node:path';
import { hasClaims, resolveClaims, type ClaimStore } from '../claims';
import { LATEST_FILE, loadAppWriter, writeRunFolder, type AppWriter, type RunFolder } from '../app-files';
import type { WorkflowHandle } from '@temporalio/client';
import { connectClient, failureOf, resolveTarget, runArgs, startRun, uiLink, waitForResult, type RunFailure } from '../client';
import { FailureTypes, type RunState } from '../contract';
import { DefinitionError, formatProblem } from '../dsl/loader';
import type { DefinitionSource, RunResult } from '../dsl/types';
import { services as processServices } from '../services';
import { jsonObjectOption } from './json-option';
import { preview } from './preview';
import { progressDisplay, stepCount } from './progress';

export interface RunOptions {
  file?: string;
  workflow?: string;
  input?: string;
  id?: string;
  json?: boolean;
  wait: boolean;
  /** Runs' files go to `<appDir>/<workflow id>/` (default `app`). */
  appDir?: string;
  /** Module that writes workflow-specific files into the run's folder (default: PALLET_APP_WRITER). */
  appWriter?: string;
}

/** `--input` JSON, or plain requirements text, as the workflow input object. */
export function parseInput(json: string | undefined, words: string[]): Record<string, unknown> {
  if (json !== undefined) {
    const parsed = jsonObjectOption(json, '--input');
    return words.length ? { ...parsed, requirements: words.join(' ') } : parsed;
  }
  return words.length ? { requirements: words.join(' ') } : {};
}

export async function runCommand(words: string[], opts: RunOptions): Promise<void> {
  if (opts.file && opts.workflow) throw new Error('give either --file or --workflow, not both');
  const input = parseInput(opts.input, words);
  const services = processServices();
  // Loaded before the run starts, so a wrong module name costs no run.
  const app = await appOptions(opts, services.settings);
  try {
    // Files, input and size are checked before connecting: mistakes are told at once.
    const target = await resolveTarget(opts, services).catch((err: unknown) => {
      if (err instanceof DefinitionError) throw new Error(err.problems.map(formatProblem).join('\n'));
      throw err;
    });
    runArgs(target, { input });
    const pc = await connectClient(services);
    const handle = await startRun(pc, target, { input, workflowId: opts.id });
    const workflowId = handle.workflowId;
    const runId = handle.firstExecutionRunId;
    const link = uiLink(pc, workflowId, runId);
    const log = logger(opts.json);
    if (!opts.wait) {
      if (opts.json) console.log(JSON.stringify({ workflow_id: workflowId, run_id: runId, url: link }));
      else log(`started ${workflowId}\n${link}`);
      return;
    }
    log(`started ${workflowId} (${target.source.ref}${target.source.digest ? ` ${target.source.digest.slice(0, 19)}` : ''})\n  ${link}`);
    // Ctrl-C stops the waiting, not the run: say how to follow it or stop it.
    const onInterrupt = () => {
      console.error(`\nstopped waiting; the run ${workflowId} goes on on the server`);
      console.error(`  follow it: npx pallet result ${workflowId}   or   npx pallet status ${workflowId}`);
      console.error(`  stop it:   npx pallet cancel ${workflowId}`);
      console.error(`  ${link}`);
      process.exit(130);
    };
    process.once('SIGINT', onInterrupt);
    let followed: { result: RunResult; last?: RunState };
    try {
      followed = await followRun(handle, !opts.json, log);
    } catch (err) {
      reportFailure(err, workflowId, link, opts.json, { runId });
      return;
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
    await reportCompleted(followed.result, { ...app, workflowId, runId, link, source: target.source, json: opts.json, lastState: followed.last });
  } finally {
    await services.close();
  }
}

/** Where the human-readable lines go: stdout, or stderr when stdout carries JSON. */
function logger(json: boolean | undefined): (line: string) => void {
  return json ? (s) => console.error(s) : (s) => console.log(s);
}

/** The app dir default: `app/` of the current folder. */
export const DEFAULT_APP_DIR = 'app';

/** Where a completed run's files go, and the app writer that adds to them. */
export interface AppOptions {
  /** The app dir (absolute from appOptions; a relative one is taken from the current folder): runs go to `<appDir>/<workflow id>/`. */
  appDir: string;
  /** The app writer, loaded; none with --json, --no-wait or no module named. */
  writer?: AppWriter;
  /** The module the writer came from, for messages. */
  writerName?: string;
}

/**
 * Resolves `--app-dir` (default `app`) and loads the app writer named by `--app-writer` or
 * PALLET_APP_WRITER. Call it before the run starts (or is waited for), so that a wrong module
 * name fails at once. With --json or --no-wait no files are written, so no writer is loaded.
 */
export async function appOptions(
  opts: { appDir?: string; appWriter?: string; json?: boolean; wait?: boolean },
  settings: { appWriter?: string } = processServices().settings,
): Promise<AppOptions> {
  const appDir = path.resolve(opts.appDir ?? DEFAULT_APP_DIR);
  const writerName = opts.appWriter ?? settings.appWriter;
  if (opts.json || opts.wait === false || !writerName) return { appDir };
  return { appDir, writer: await loadAppWriter(writerName), writerName };
}

/** What `reportCompleted` needs besides the result. */
export interface CompletedContext extends AppOptions {
  workflowId: string;
  runId: string;
  /** The run's Web UI address. */
  link: string;
  /** The definition that ran (recorded in metadata.json). */
  source?: DefinitionSource;
  /** Print only the result as JSON on stdout, and write no files. */
  json?: boolean;
  /** Point `<appDir>/latest` at this run's folder (default true). */
  latest?: boolean;
  /** Where the result's large values are read from (default: the process's, the registry's data repository). */
  claims?: ClaimStore;
  /** The run's last state seen while following it: the summary counts its loops' iterations. */
  lastState?: RunState;
}

/**
 * Prints and saves a completed run as `pallet run` does, its large values (references in the
 * run's result) read from the registry first. With `json`: the result as JSON on
 * stdout, nothing else. Without: the summary lines, then the run's files written to
 * `<appDir>/<workflow id>/` (see app-files.ts) and where they went, then the Web UI address.
 * Writing failures are reported on stderr with exit code 1. Returns the folder written.
 */
export async function reportCompleted(stored: RunResult, ctx: CompletedContext): Promise<RunFolder | undefined> {
  // Large values are references in the run's result (docs/large-data.md): printed and saved
  // is the data itself, read from the registry.
  let result = stored;
  if (hasClaims(stored)) {
    const claims = ctx.claims ?? processServices().claims;
    try {
      result = (await resolveClaims(stored, claims, { maxBytes: Number.POSITIVE_INFINITY })) as RunResult;
    } catch (err) {
      console.error(`the run completed, but reading its large values from ${claims.location} failed: ${(err as Error).message}`);
      console.error(
        `  the references are in \`npx pallet status ${ctx.workflowId} --json\`; try \`npx pallet result ${ctx.workflowId}\` again when the registry answers`,
      );
      console.error(`  ${ctx.link}`);
      process.exitCode = 1;
      return undefined;
    }
  }
  if (ctx.json) {
    console.log(JSON.stringify(result, null, 2));
    return undefined;
  }
  const log = logger(false);
  log(`completed ${result.workflow_name} (${result.workflow_id} ${result.workflow_version}): ${stepCount(Object.keys(result.step_outputs), ctx.lastState)}`);
  log(`  final output: ${preview(result.final_output)}`);
  const meta = {
    temporal_workflow_id: ctx.workflowId,
    temporal_run_id: ctx.runId,
    definition_ref: ctx.source?.ref ?? null,
    definition_digest: ctx.source?.digest ?? null,
  };
  let folder: RunFolder | undefined;
  try {
    folder = await writeRunFolder(result, path.resolve(ctx.appDir), ctx.workflowId, meta, ctx.writer, { latest: ctx.latest });
    const names = folder.files.map((f) => path.relative(folder!.dir, f).split(path.sep).join('/'));
    const fallback = folder.latest === 'file' ? ` (${shown(path.join(ctx.appDir, LATEST_FILE))} names it: symlinks failed here)` : '';
    log(`  wrote ${shown(folder.dir)}/: ${names.join(', ')}${fallback}`);
  } catch (err) {
    console.error(
      `the run completed, but writing its files to ${shown(ctx.appDir)} failed${ctx.writer ? ` (app writer ${ctx.writerName})` : ''}: ${(err as Error).message}`,
    );
    process.exitCode = 1;
  }
  log(`  ${ctx.link}`);
  return folder;
}

/** A path as the user would type it: relative to the current folder when inside it. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return !rel || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

/** More of what `reportFailure` may be told. */
export interface FailureOptions {
  /** The run that failed, for the JSON (`run_id`). */
  runId?: string;
  /** What to do next (default: `failureHint`). */
  hint?: (failure: RunFailure) => string | undefined;
}

/**
 * Reports a run that did not complete, as `pallet run` does: on stderr the failing step and
 * the message, the Web UI address and a hint; with `json` also `failureJson` on stdout.
 * Sets the exit code to 1. Returns the failure.
 */
export function reportFailure(err: unknown, workflowId: string, link: string, json = false, more: FailureOptions = {}): RunFailure {
  const failure = failureOf(err);
  console.error(`run ${workflowId} ${failureVerb(err)}${failure.step ? ` at step "${failure.step.stepId}"` : ''}: ${failure.message}`);
  console.error(`  ${link}`);
  const hint = (more.hint ?? ((f: RunFailure) => failureHint(f, workflowId)))(failure);
  if (hint) console.error(`  ${hint}`);
  if (json) console.log(JSON.stringify(failureJson(err, { workflowId, runId: more.runId, link }), null, 2));
  process.exitCode = 1;
  return failure;
}

/**
 * A run that did not complete, as JSON: snake_case, `status` as Temporal names it (as in
 * `status --json` and `runs --json`): FAILED, CANCELLED, TERMINATED or TIMED_OUT.
 */
export function failureJson(err: unknown, ctx: { workflowId: string; runId?: string; link?: string }): Record<string, unknown> {
  const failure = failureOf(err);
  return {
    workflow_id: ctx.workflowId,
    run_id: ctx.runId ?? null,
    status: failureStatus(err),
    error: { message: failure.message, type: failure.type ?? null, step: failure.step?.stepId ?? null },
    ...(ctx.link ? { url: ctx.link } : {}),
  };
}

/** How a run ended that did not complete, by its failure's cause. */
export function failureStatus(err: unknown): 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' {
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (cause instanceof CancelledFailure) return 'CANCELLED';
  if (cause instanceof TerminatedFailure) return 'TERMINATED';
  if (cause instanceof TimeoutFailure) return 'TIMED_OUT';
  return 'FAILED';
}

function failureVerb(err: unknown): string {
  const status = failureStatus(err);
  return status === 'FAILED' ? 'failed' : status === 'TIMED_OUT' ? 'timed out' : `was ${status.toLowerCase()}`;
}

/** What a user can do next, by the type of the failure. */
export function failureHint(failure: RunFailure, workflowId: string): string | undefined {
  switch (failure.type) {
    case FailureTypes.stepFailed:
      return stepFailedHint(failure, workflowId);
    case FailureTypes.resultTooLarge:
      return `every step finished: read their outputs with \`npx pallet status ${workflowId}\``;
    case FailureTypes.definitionLoadFailed:
      return 'check the definition with `npx pallet lint` or `npx pallet show`, then start a new run';
    default:
      return undefined;
  }
}

/** Failures a retry of the same input and definition can get past: the agent's side. */
const PASSING: string[] = [FailureTypes.agentUnavailable, FailureTypes.agentServerError, FailureTypes.agentTimeout, FailureTypes.registryError];
/** Failures that come back until the input or the definition changes. */
const LASTING: string[] = [
  FailureTypes.agentRejected,
  FailureTypes.agentBadResponse,
  FailureTypes.invalidInput,
  FailureTypes.inputTooLarge,
  FailureTypes.unknownWorkflow,
  FailureTypes.invalidDefinition,
];

/** After a failed step: a retry, with what must change for it to work. */
function stepFailedHint(failure: RunFailure, workflowId: string): string {
  const kept = '(finished steps are not run again)';
  const type = failure.causeType;
  if (type && PASSING.includes(type)) return `when the agent answers again: npx pallet retry ${workflowId} ${kept}`;
  if (type === FailureTypes.unknownSkill) {
    return `publish an agent card with skill "${failure.step?.skill ?? '?'}" (npx pallet publish-agent CARD.json), then: npx pallet retry ${workflowId}; or fix the step: npx pallet retry ${workflowId} --file FIXED.yaml`;
  }
  if (type && LASTING.includes(type)) {
    return `the same input fails the same way: npx pallet retry ${workflowId} --input '{...}' or --file FIXED.yaml (finished steps whose inputs are unchanged are reused)`;
  }
  return `fix the cause, then: npx pallet retry ${workflowId} ${kept}; to change the input or the definition: --input '{...}' or --file FIXED.yaml`;
}

/**
 * Waits for a run, showing its progress unless `show` is false: a live block in a terminal,
 * else plain lines through `log` (progress.ts). Returns the result and the last state seen.
 */
export async function followRun(handle: WorkflowHandle, show: boolean, log: (line: string) => void): Promise<{ result: RunResult; last?: RunState }> {
  const display = show ? progressDisplay(process.stdout, (line) => log(`  ${line}`)) : undefined;
  // Stopped once, success or failure: the live block is left as last drawn, before the summary or the failure.
  let result: RunResult;
  try {
    result = await waitForResult(handle, display && ((s) => display.update(s)));
  } catch (err) {
    display?.stop();
    throw err;
  }
  return { result, last: display?.stop() };
}
