// Small helpers for tests that run definitions: parse one from YAML, read why a run failed.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { parseDefinition } from '../../src/dsl/loader';
import type { WorkflowDefinition } from '../../src/dsl/types';

export function def(yaml: string, file = 'test.yaml'): WorkflowDefinition {
  const parsed = parseDefinition(yaml, file);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.definition;
}

/** The message of the failure a run ended with (the run must fail). */
export async function failureMessage(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected a failed workflow, got ${String(err)}`);
    return (err.cause as Error).message;
  }
  assert.fail('the run should have failed');
}
