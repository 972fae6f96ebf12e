// Shapes shared by the agent server, the example agents and their skills.

/** JSON Schema as it appears on an agent card (kept loose: cards are plain JSON data). */
export type JsonSchema = Record<string, unknown>;

/** One skill as listed on an agent card. */
export interface SkillCard {
  id: string;
  description: string;
  input_schema: JsonSchema;
  output_schema: JsonSchema;
}

/** Pallet's agent card: `GET /agent-card`. */
export interface AgentCard {
  name: string;
  url: string;
  skills: SkillCard[];
}

/** What a skill gets besides its params. */
export interface SkillContext {
  /** The JSON-RPC id of the call (null when the caller sent none). */
  id: unknown;
  /** Environment the agents were started with (LLM settings, PALLET_PYTHON). */
  env: NodeJS.ProcessEnv;
  /** Aborted when the server shuts down (and, over A2A, when the task is cancelled), so long calls stop with it. */
  signal: AbortSignal;
  /** Over A2A: tells the caller how a long task is going (a `working` status update). */
  progress?(text: string): void;
  /** Over A2A: what the caller answered to the question the skill asked (InputNeeded). */
  answer?: string;
}

export type SkillHandler = (params: Record<string, unknown>, ctx: SkillContext) => unknown;

export interface SkillSpec extends SkillCard {
  run: SkillHandler;
}

/** An agent: its name, the port it normally listens on, and its skills (= its card). */
export interface AgentSpec {
  name: string;
  defaultPort: number;
  skills: SkillSpec[];
}

/** Thrown by a skill to fail the call with a JSON-RPC error (code -1, as Pallet's agents do). */
export class SkillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkillError';
  }
}

/**
 * Thrown by a skill that needs something its params do not say. Over A2A the task becomes
 * `input-required` with the question, and the skill runs again with the caller's answer in
 * `ctx.answer`; Pallet's protocol cannot ask, so there the call fails with the question.
 */
export class InputNeeded extends Error {
  constructor(
    readonly question: string,
    /** How to give the answer up front (over Pallet's protocol), e.g. `give "language" in the inputs`. */
    readonly hint: string,
  ) {
    super(`${question} (${hint})`);
    this.name = 'InputNeeded';
  }
}
