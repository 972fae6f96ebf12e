// Recording run histories for the replay tests (test/integration/replay.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, TEMPORAL_CLI, temporalEnv } from './temporal';

export const HISTORIES = path.join(ROOT, 'test', 'histories');

/**
 * With RECORD_HISTORIES=1, keeps a run's history in test/histories/NAME.json for the replay
 * tests, exported the way users export one: `temporal workflow show --output json`.
 */
export async function maybeRecord(name: string, workflowId: string, runId?: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const env = await temporalEnv();
  const json = execFileSync(
    TEMPORAL_CLI,
    ['workflow', 'show', '--address', env.address, '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json'],
    { encoding: 'utf8' },
  );
  mkdirSync(HISTORIES, { recursive: true });
  writeFileSync(path.join(HISTORIES, `${name}.json`), json);
}
