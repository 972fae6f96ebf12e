// One call of an example agent's skill, whatever protocol it came in on (Pallet's JSON-RPC in
// server.ts, A2A in a2a.ts): find the skill, check the params against its input_schema, run it
// once per idempotency key. Each protocol turns the outcome into its own reply.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ReplayCache } from './replay';
import type { AgentSpec, SkillContext, SkillSpec } from './types';

/** Why a call was not run: no such skill, or params its input_schema refuses. */
export type CallRefusal = { kind: 'unknown-skill'; message: string } | { kind: 'invalid-params'; message: string };

interface CompiledSkill {
  spec: SkillSpec;
  validate: ValidateFunction;
}

export class SkillRunner {
  private readonly skills: Map<string, CompiledSkill>;
  private readonly replay = new ReplayCache();

  constructor(readonly agent: AgentSpec) {
    // One Ajv per agent; compiling at start-up makes a broken schema fail loudly, not per call.
    const ajv = new Ajv({ allErrors: true, strict: false });
    this.skills = new Map(agent.skills.map((spec) => [spec.id, { spec, validate: ajv.compile(spec.input_schema) }]));
  }

  /** The params a call of `skill` would run with (nulls of optional inputs dropped), or why it would not run. */
  check(skill: string, params: Record<string, unknown>): { params: Record<string, unknown> } | CallRefusal {
    const found = this.skills.get(skill);
    if (!found) {
      return { kind: 'unknown-skill', message: `agent ${this.agent.name} has no skill "${skill}" (skills: ${[...this.skills.keys()].join(', ')})` };
    }
    const cleaned = dropNullOptionals(params, found.spec.input_schema);
    if (!found.validate(cleaned)) return { kind: 'invalid-params', message: `invalid params for ${skill}: ${describeErrors(found.validate.errors)}` };
    return { params: cleaned };
  }

  /**
   * Runs a checked call. A call with the same `key` and the same skill and params gets the first
   * call's result again (`replayed`) without redoing the work; failures are not kept.
   */
  run(skill: string, params: Record<string, unknown>, key: string | undefined, ctx: SkillContext): Promise<{ value: unknown; replayed: boolean }> {
    const spec = this.skills.get(skill)!.spec;
    return this.replay.run(key, `${skill}\n${JSON.stringify(params)}`, async () => spec.run(params, ctx));
  }
}

/**
 * Pallet resolves a template whose path is missing to null (e.g. `language` in
 * parallel-analysis when the input has none); treat null as "not given" for optional
 * inputs so the skill uses its default instead of rejecting the call.
 */
function dropNullOptionals(params: Record<string, unknown>, schema: Record<string, unknown>): Record<string, unknown> {
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.fromEntries(Object.entries(params).filter(([k, v]) => v !== null || required.has(k)));
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      if (missing) return `missing required field "${missing}"`;
      const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return field ? `field "${field}" ${e.message}` : `params ${e.message}`;
    })
    .join('; ');
}
