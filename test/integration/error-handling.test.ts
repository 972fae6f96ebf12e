// Error handling on the real dev server with real HTTP agents: a fallback agent (on_error),
// a recorded error (continue_on_error), retry settings (retry_on, max_attempts), and
// compensation of finished steps when a later one fails.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { HttpReply, SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { maybeRecord } from '../helpers/histories';
import { def } from '../helpers/runs';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import { stateQuery } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import { palletWorkflow } from '../../src/workflows';

const FALLBACKS = `
metadata: { id: fallbacks-v1, name: Fallbacks, version: "1.0.0" }
error_handling:
  retry: { initial_interval: 100ms }
steps:
  - id: summary
    skill: premium_summary
    outputs: text
    on_error:
      - { id: cheap_summary, skill: cheap_summary, inputs: { why: "{{ steps.summary.outputs.error.message }}" } }
  - id: optional_tags
    skill: tags
    continue_on_error: true
  - id: overloaded
    skill: overloaded_once
    retry: { retry_on: [AgentSkillError], max_attempts: 2 }
  - id: report
    skill: report
    inputs:
      summary: "{{ steps.summary.outputs.text }}"
      tags_error: "{{ steps.optional_tags.outputs.error.type }}"
      overloaded: "{{ steps.overloaded.outputs }}"
`;

const BOOKING = `
metadata: { id: booking-v1, name: Booking, version: "1.0.0" }
steps:
  - id: flight
    skill: book
    inputs: { what: flight }
    compensate: [ { id: cancel_flight, skill: cancel, inputs: { booking: "{{ steps.flight.outputs.booking }}" } } ]
  - id: hotel
    skill: book
    inputs: { what: hotel }
    compensate: [ { id: cancel_hotel, skill: cancel, inputs: { booking: "{{ steps.hotel.outputs.booking }}" } } ]
  - { id: pay, skill: pay, retry: 1 }
`;

describe('error handling (retry, on_error, continue_on_error, compensate) on the real server', function () {
  this.timeout(120_000);
  let agent: TestAgent;
  let overloadedCalls = 0;

  before(async () => {
    agent = await startTestAgent('errors-agent', {
      premium_summary: () => {
        throw new SkillError('premium model quota exhausted');
      },
      cheap_summary: (p) => `cheap summary (${String(p.why)})`,
      tags: () => {
        throw new HttpReply(422, 'no tags for this text');
      },
      overloaded_once: () => {
        if (++overloadedCalls === 1) throw new SkillError('model overloaded');
        return { ok: true };
      },
      report: (p) => p,
      book: (p) => ({ booking: `${String(p.what)}-42` }),
      cancel: (p) => ({ cancelled: p.booking }),
      pay: () => {
        throw new HttpReply(503, 'payment service down');
      },
    });
  });

  after(() => agent.close());

  async function start(yaml: string, prefix: string) {
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    const workflowId = uniqueId(prefix);
    const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition: def(yaml), input: {} }] });
    return { handle, worker, workflowId, taskQueue };
  }

  it('a fallback agent stands in, an optional step records its error, an overloaded model is retried', async () => {
    const { handle, worker, workflowId } = await start(FALLBACKS, 'fallbacks');
    const result = (await worker.runUntil(handle.result())) as RunResult;
    assert.deepEqual(Object.keys(result.step_outputs), ['cheap_summary', 'summary', 'optional_tags', 'overloaded', 'report']);
    assert.deepEqual(result.step_outputs.summary.outputs, {
      text: 'cheap summary (agent errors-agent (' + agent.url + ') reported an error: premium model quota exhausted)',
    });
    const tagsError = (result.step_outputs.optional_tags.outputs as { error: { type: string; message: string } }).error;
    assert.equal(tagsError.type, 'AgentRejected');
    assert.match(tagsError.message, /HTTP 422: no tags for this text/);
    assert.deepEqual(result.final_output, {
      summary: (result.step_outputs.summary.outputs as { text: string }).text,
      tags_error: 'AgentRejected',
      overloaded: { ok: true },
    });
    assert.equal(agent.callsTo('premium_summary').length, 1, 'a JSON-RPC error is final by default');
    assert.equal(overloadedCalls, 2, 'retry_on AgentSkillError: called again');
    await maybeRecord('error-handling-completed', workflowId);
  });

  it('a failed payment undoes the bookings, latest first; the failure and the state say so', async () => {
    const { handle, worker, workflowId, taskQueue } = await start(BOOKING, 'booking');
    const err = await worker.runUntil(
      handle.result().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      String(err.cause?.message),
      /^Step "pay" failed \(skill pay\): .*HTTP 503: payment service down \(the agent's failure 1 of 1\) \(compensated hotel, flight\)$/,
    );
    assert.equal(agent.callsTo('pay').length, 1, 'retry: 1 means one attempt');
    assert.deepEqual(
      agent.callsTo('cancel').map((c) => c.params.booking),
      ['hotel-42', 'flight-42'],
    );
    const { worker: again } = await createTestWorker({ agentUrls: [agent.url], taskQueue });
    const state = await again.runUntil(handle.query(stateQuery));
    assert.deepEqual(state?.compensated, ['hotel', 'flight']);
    await maybeRecord('error-handling-failed', workflowId);
  });
});
