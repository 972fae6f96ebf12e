// The callAgent activity: find the agent for a skill, check the inputs against its card,
// and make one JSON-RPC call. Every failure becomes an ApplicationFailure whose
// retryability follows the agent's answer: transport errors and 5xx are retried,
// a JSON-RPC error, a 4xx, an unknown skill or a garbage reply fail the step at once.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import Ajv, { type ValidateFunction } from 'ajv';
import { AgentDirectory, networkReason, UnknownSkillError, type FoundAgent } from '../sources/agents';
import { MAX_PAYLOAD_BYTES } from '../dsl/types';
import { FailureTypes } from '../contract';
import type { CallAgentReply, CallAgentRequest } from './contract';

const HEARTBEAT_EVERY_MS = 2_000;

export interface AgentCallOptions {
  directory: AgentDirectory;
  maxResultBytes?: number;
}

export function createCallAgent({ directory, maxResultBytes = MAX_PAYLOAD_BYTES }: AgentCallOptions) {
  const validators = new InputValidators();

  return async function callAgent(req: CallAgentRequest): Promise<CallAgentReply> {
    const ctx = Context.current();
    const { workflowExecution, attempt } = ctx.info;
    // A retry may be due to an agent that moved or died: look it up afresh.
    if (attempt > 1) directory.invalidate();
    let agent: FoundAgent;
    try {
      agent = await directory.find(req.skill);
    } catch (err) {
      if (err instanceof UnknownSkillError) {
        // With an agent unreachable the skill may be its: worth retrying. Otherwise it is unknown.
        const details = { skill: err.skill, knownSkills: err.knownSkills, problems: err.problems };
        if (err.problems.length > 0) throw ApplicationFailure.retryable(err.message, FailureTypes.agentUnavailable, details);
        throw ApplicationFailure.nonRetryable(err.message, FailureTypes.unknownSkill, details);
      }
      throw err;
    }
    const invalid = validators.check(agent, req.inputs);
    if (invalid) {
      throw ApplicationFailure.nonRetryable(`inputs do not match the input_schema of skill "${req.skill}" on agent ${agent.card.name}: ${invalid}`, FailureTypes.invalidInput);
    }
    // Stable across retries of this step, so an agent can recognise a repeated call.
    const callId = `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${req.stepId}`;
    // Heartbeats let Temporal notice a dead worker long before the step timeout, and show
    // in the Web UI's pending activities who is being waited for.
    const started = Date.now();
    const heartbeat = setInterval(() => ctx.heartbeat({ agent: agent.url, waitingSeconds: Math.round((Date.now() - started) / 1000) }), HEARTBEAT_EVERY_MS);
    try {
      const result = await invokeSkill(agent, req.skill, req.inputs, callId, ctx.cancellationSignal);
      checkSize(result, agent, req, maxResultBytes);
      return { result, agent: agent.url };
    } finally {
      clearInterval(heartbeat);
    }
  };
}

/** One JSON-RPC call to an agent; throws ApplicationFailures classified for retrying. */
export async function invokeSkill(agent: FoundAgent, skill: string, params: Record<string, unknown>, callId: string, signal?: AbortSignal): Promise<unknown> {
  const who = `agent ${agent.card.name} (${agent.url})`;
  let response: Response;
  try {
    response = await fetch(`${agent.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': callId },
      body: JSON.stringify({ jsonrpc: '2.0', method: skill, params, id: callId }),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw ApplicationFailure.retryable(`${who} is unreachable (${networkReason(err)})`, FailureTypes.agentUnavailable);
  }
  const body = await response.text().catch(() => '');
  if (response.status === 404) {
    throw ApplicationFailure.nonRetryable(`${who} does not offer skill "${skill}" (HTTP 404${errorSuffix(body)})`, FailureTypes.unknownSkill);
  }
  if (response.status >= 500) {
    throw ApplicationFailure.retryable(`${who} answered HTTP ${response.status}${errorSuffix(body)}`, FailureTypes.agentServerError);
  }
  if (response.status >= 400) {
    throw ApplicationFailure.nonRetryable(`${who} rejected the call with HTTP ${response.status}${errorSuffix(body)}`, FailureTypes.agentRejected);
  }
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    throw ApplicationFailure.nonRetryable(`${who} returned a reply that is not JSON: ${snippet(body)}`, FailureTypes.agentBadResponse);
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    throw ApplicationFailure.nonRetryable(`${who} returned a reply that is not a JSON-RPC object: ${snippet(body)}`, FailureTypes.agentBadResponse);
  }
  const rpc = reply as { result?: unknown; error?: { message?: unknown; code?: unknown } };
  if (rpc.error !== undefined && rpc.error !== null) {
    const message = typeof rpc.error.message === 'string' ? rpc.error.message : JSON.stringify(rpc.error);
    throw ApplicationFailure.nonRetryable(`${who} reported an error: ${message}`, FailureTypes.agentSkillError, { code: rpc.error.code ?? null });
  }
  if (!('result' in rpc)) {
    throw ApplicationFailure.nonRetryable(`${who} returned a JSON-RPC reply with neither "result" nor "error": ${snippet(body)}`, FailureTypes.agentBadResponse);
  }
  return rpc.result;
}

function checkSize(result: unknown, agent: FoundAgent, req: CallAgentRequest, limit: number): void {
  const size = Buffer.byteLength(JSON.stringify(result) ?? 'null');
  if (size > limit) {
    throw ApplicationFailure.nonRetryable(
      `agent ${agent.card.name} returned ${size} bytes for step "${req.stepId}", over the ${limit}-byte limit of a Temporal payload; ` +
        'have the agent return a reference (URL, object key) instead of the data',
      FailureTypes.resultTooLarge,
    );
  }
}

/** JSON-Schema checks of step inputs against the agent card's `input_schema`, compiled once per card. */
class InputValidators {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly cache = new Map<string, ValidateFunction | null>();

  check(agent: FoundAgent, inputs: Record<string, unknown>): string | undefined {
    const key = `${agent.url}#${agent.skill.id}#${JSON.stringify(agent.skill.input_schema ?? null)}`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      validate = agent.skill.input_schema ? this.compile(agent.skill.input_schema) : null;
      this.cache.set(key, validate);
    }
    // A template that found nothing gives null: for the schema, treat it as "not given".
    const given = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== null));
    if (!validate || validate(given)) return undefined;
    return (validate.errors ?? [])
      .map((e) => {
        const missing = (e.params as { missingProperty?: string }).missingProperty;
        if (missing) return `missing required input "${missing}"`;
        const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(inputs)';
        return `input "${field}" ${e.message}`;
      })
      .join('; ');
  }

  private compile(schema: Record<string, unknown>): ValidateFunction | null {
    try {
      return this.ajv.compile(schema);
    } catch {
      return null; // A broken schema on a card must not block calls; the agent still checks its inputs.
    }
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat || '(empty body)';
}

function errorSuffix(body: string): string {
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; detail?: string };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.detail);
    if (message) return `: ${message}`;
  } catch {
    // Not JSON: show the start of the text.
  }
  return `: ${snippet(body)}`;
}
