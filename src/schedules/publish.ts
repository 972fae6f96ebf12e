// `pallet push` of a definition with a `metadata.schedule` block: the block becomes (or updates)
// a Temporal schedule whose id is the workflow id, pinned to the digest just pushed.
import { connectClient } from '../client';
import type { WorkflowDefinition } from '../dsl/types';
import { clientServices } from '../client-services';
import { scheduleFromBlock, showWhen } from './options';
import { upsertSchedule } from './temporal';

/** What was pushed: `workflows/<name>` and its tag, and the manifest digest. */
export interface PushedWorkflow {
  repository: string;
  tag: string;
  digest: string;
}

/**
 * Creates or updates the schedule of a pushed definition that has a `metadata.schedule` block;
 * returns the line to print, or undefined when it has none. A failure is a line too (`ok` false):
 * the definition stays pushed, and pushing again publishes the schedule.
 */
export async function publishSchedule(definition: WorkflowDefinition, pushed: PushedWorkflow): Promise<{ ok: boolean; line: string } | undefined> {
  const block = definition.metadata.schedule;
  if (!block) return undefined;
  const id = definition.metadata.id;
  const ref = `${pushed.repository}:${pushed.tag}`;
  const services = clientServices();
  try {
    const opts = scheduleFromBlock(id, ref.replace(/^workflows\//, ''), block);
    const pc = await connectClient(services);
    // The registry's path, as `pallet run --workflow` records it: the worker pulls it by digest.
    const target = { source: { ref, digest: pushed.digest, repository: pushed.repository, tag: pushed.tag }, definitionId: id };
    const done = await upsertSchedule(pc, opts, target);
    return { ok: true, line: `  schedule ${id}: ${done}, ${showWhen(opts)}, pinned to ${pushed.digest.slice(0, 19)}` };
  } catch (err) {
    return { ok: false, line: `  schedule ${id}: not published: ${(err as Error).message}` };
  } finally {
    // Push talks to Temporal only for schedules: leave no connection open behind it.
    await services.close();
  }
}
