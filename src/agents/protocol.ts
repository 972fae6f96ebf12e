// How the worker talks to one kind of agent: reading its card and making one call of a skill.
// The callAgent activity keeps the policy around a call (retry budgets, heartbeats, size
// limits, claim check, input_schema) and leaves the wire to the protocol the agent's entry
// names, so a new kind of agent (A2A, MCP) is one new module here, registered in
// protocols.ts, and nothing else changes.
import type { AgentCard } from './card';

/** The protocol of agents whose entry names none: Pallet's own (pallet-jsonrpc.ts). */
export const PALLET_PROTOCOL = 'pallet';

/** The agent a call goes to: its base URL (checked, see sources/agent-hosts.ts) and its card. */
export interface AgentTarget {
  url: string;
  card: AgentCard;
}

export interface CallOptions {
  /**
   * Stable across every attempt of the step (and `pallet retry` runs of it): the protocol
   * sends it so that the agent can recognise a repeated call, and checks that a reply is for it.
   */
  callId: string;
  /** Aborted when the activity is cancelled or the step's time is up: stop, and throw its reason. */
  signal: AbortSignal;
  /** Bytes of a reply read at most; a bigger reply is refused (ResultTooLarge) without reading the rest. */
  maxReplyBytes: number;
  /** Headers the agent's host requires (credentials from PALLET_AGENT_CREDENTIALS): sent, never logged or returned. */
  headers?: Record<string, string>;
  /**
   * A long task an earlier attempt of this step started (read from the activity's heartbeat
   * details after a worker crash): follow it, never send the message again.
   */
  resume?: TaskRef;
  /** Told as soon as the agent names the task it started, so the activity can heartbeat it. */
  onTask?(task: TaskRef): void;
  /** The answer to an agent's input-required question (`pallet reply`): continue that task with it. */
  answer?: TaskAnswer;
}

/** A task an agent runs for a step (A2A): its id and conversation. */
export interface TaskRef {
  taskId: string;
  contextId?: string;
}

/** What a person answered to an agent's question, for the task that asked. */
export interface TaskAnswer extends TaskRef {
  text?: string;
  data?: unknown;
}

/**
 * Thrown by a protocol when the agent asks for input (A2A `input-required`): the step waits,
 * without a worker, for `pallet reply`, then the activity is called again with `answer`.
 */
export class InputRequired extends Error {
  constructor(
    readonly task: TaskRef,
    /** The agent's question, as text. */
    readonly question: string,
    /** The question's data parts, if any. */
    readonly data?: unknown,
  ) {
    super(`the agent asks for input: ${question}`);
    this.name = 'InputRequired';
  }
}

export interface AgentProtocol {
  /** The name an agent entry gives (AgentEntry.protocol), e.g. `pallet`. */
  readonly name: string;
  /**
   * The card of the agent at `baseUrl`, in Pallet's shape. Throws an Error whose message names
   * the agent's address and what went wrong: discovery reports it as a problem.
   */
  fetchCard(baseUrl: string, signal: AbortSignal, headers?: Record<string, string>): Promise<AgentCard>;
  /**
   * One call of `skill`: its result, or an ApplicationFailure typed from FailureTypes whose
   * retryability says what the agent's answer means: AgentUnavailable (unreachable, broke off)
   * and AgentServerError retryable; AgentRejected, UnknownSkill, AgentSkillError,
   * AgentBadResponse and ResultTooLarge not. When `signal` aborts, throws its reason.
   */
  call(agent: AgentTarget, skill: string, inputs: Record<string, unknown>, options: CallOptions): Promise<unknown>;
}
