// `pallet run`: start a run and wait for it (Ctrl-C stops waiting, not the run).
import path from 'node:path';
import { loadAppWriter, writeRunFiles, type AppWriter } from '../app-files';
import { connectClient, failureOf, resolveTarget, runArgs, startRun, uiLink, waitForResult, type RunFailure } from '../client';
import { FailureTypes, type RunState } from '../contract';
import { DefinitionError, formatProblem } from '../dsl/loader';
import { services as processServices } from '../services';

export interface RunOptions {
  file?: string;
  workflow?: string;
  input?: string;
  id?: string;
  json?: boolean;
  wait: boolean;
  appDir: string;
  /** Module that writes workflow-specific files into appDir (default: PALLET_APP_WRITER). */
  appWriter?: string;
}

/** `--input` JSON, or plain requirements text, as the workflow input object. */
export function parseInput(json: string | undefined, words: string[]): Record<string, unknown> {
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new Error(`--input is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--input must be a JSON object');
    return words.length ? { ...(parsed as Record<string, unknown>), requirements: words.join(' ') } : (parsed as Record<string, unknown>);
  }
  return words.length ? { requirements: words.join(' ') } : {};
}

export async function runCommand(words: string[], opts: RunOptions): Promise<void> {
  if (opts.file && opts.workflow) throw new Error('give either --file or --workflow, not both');
  const input = parseInput(opts.input, words);
  // Loaded before the run starts, so a wrong module name costs no run.
  const services = processServices();
  const writerName = opts.appWriter ?? services.settings.appWriter;
  const writer: AppWriter | undefined = !opts.json && opts.wait && writerName ? await loadAppWriter(writerName) : undefined;
  try {
    // Files, input and size are checked before connecting: mistakes are told at once.
    const target = await resolveTarget(opts, services).catch((err: unknown) => {
      if (err instanceof DefinitionError) throw new Error(err.problems.map(formatProblem).join('\n'));
      throw err;
    });
    runArgs(target, { input });
    const pc = await connectClient(services);
    const handle = await startRun(pc, target, { input, workflowId: opts.id });
    const link = uiLink(pc, handle.workflowId, handle.firstExecutionRunId);
    const log = opts.json ? (s: string) => console.error(s) : (s: string) => console.log(s);
    if (!opts.wait) {
      if (opts.json) console.log(JSON.stringify({ workflow_id: handle.workflowId, run_id: handle.firstExecutionRunId, url: link }));
      else log(`started ${handle.workflowId}\n${link}`);
      return;
    }
    log(`started ${handle.workflowId} (${target.source.ref}${target.source.digest ? ` ${target.source.digest.slice(0, 19)}` : ''})\n  ${link}`);
    // Ctrl-C stops the waiting, not the run: say how to follow it or stop it.
    const id = handle.workflowId;
    const onInterrupt = () => {
      console.error(`\nstopped waiting; the run ${id} goes on on the server`);
      console.error(`  follow it: npx pallet result ${id}   or   npx pallet status ${id}`);
      console.error(`  stop it:   npx pallet cancel ${id}`);
      console.error(`  ${link}`);
      process.exit(130);
    };
    process.once('SIGINT', onInterrupt);
    let result;
    try {
      result = await waitForResult(handle, opts.json ? undefined : (s) => log(`  ${progressLine(s)}`));
    } catch (err) {
      const failure = failureOf(err);
      console.error(`run ${handle.workflowId} failed${failure.step ? ` at step "${failure.step.stepId}"` : ''}: ${failure.message}`);
      console.error(`  ${link}`);
      const hint = failureHint(failure, handle.workflowId);
      if (hint) console.error(`  ${hint}`);
      process.exitCode = 1;
      return;
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
    if (opts.json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    log(`completed ${result.workflow_name} (${result.workflow_id} ${result.workflow_version}): ${Object.keys(result.step_outputs).length} steps`);
    log(`  final output: ${preview(result.final_output)}`);
    const meta = {
      temporal_workflow_id: handle.workflowId,
      temporal_run_id: handle.firstExecutionRunId,
      definition_ref: target.source.ref,
      definition_digest: target.source.digest,
    };
    try {
      const files = await writeRunFiles(result, path.resolve(opts.appDir), meta, writer);
      log(`  wrote ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
    } catch (err) {
      console.error(`the run completed, but writing its files to ${opts.appDir} failed${writer ? ` (app writer ${writerName})` : ''}: ${(err as Error).message}`);
      process.exitCode = 1;
    }
    log(`  ${link}`);
  } finally {
    await services.close();
  }
}

/** What a user can do next, by the type of the failure. */
export function failureHint(failure: RunFailure, workflowId: string): string | undefined {
  switch (failure.type) {
    case FailureTypes.stepFailed:
      return `fix the cause, then: npx pallet retry ${workflowId} (finished steps are not run again)`;
    case FailureTypes.resultTooLarge:
      return `every step finished: read their outputs with \`npx pallet status ${workflowId}\``;
    case FailureTypes.definitionLoadFailed:
      return 'check the definition with `npx pallet lint` or `npx pallet show`, then start a new run';
    default:
      return undefined;
  }
}

/** Seconds since each running step was first seen, so a long step shows it is alive. */
const firstSeen = new Map<string, number>();

function progressLine(state: RunState): string {
  const parts = [`done: ${state.finished.join(', ') || '-'}`];
  const now = Date.now();
  const running = state.running.map((id) => {
    if (!firstSeen.has(id)) firstSeen.set(id, now);
    const secs = Math.round((now - firstSeen.get(id)!) / 1000);
    return secs >= 5 ? `${id} (${secs} s)` : id;
  });
  if (running.length) parts.push(`running: ${running.join(', ')}`);
  return parts.join('  ');
}

export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
}
