// Replays a recorded history against the current interpreter code: the check that a code
// change does not break runs in flight (used by `pallet replay` and by the CI replay tests).
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';

type History = temporal.api.history.v1.IHistory;

/** A history as exported by the Web UI or `temporal workflow show --output json`. */
export function parseHistoryJson(json: unknown): { history: History; workflowId?: string } {
  const events = (json as { events?: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] })?.events;
  if (!Array.isArray(events) || events.length === 0) throw new Error('not a workflow history: no "events"');
  return { history: historyFromJSON(json), workflowId: events[0].workflowExecutionStartedEventAttributes?.workflowId };
}

/**
 * Replays one history; rejects with a DeterminismViolationError when the current code makes
 * different decisions. The workflow id matters: child workflow ids are derived from it.
 */
export async function replayHistory(
  history: History,
  workflowId: string,
  code: Pick<ReplayWorkerOptions, 'workflowBundle' | 'workflowsPath'> = { workflowsPath: require.resolve('./workflows') },
): Promise<void> {
  await Worker.runReplayHistory({ ...code, replayName: workflowId }, history, workflowId);
}
