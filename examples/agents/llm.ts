// LLM mode: an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, LM Studio...)
// answers create_plan, generate_code and review_code. The model is asked for one JSON object
// matching the skill's output schema, and its answer is checked against that schema: garbage
// becomes an error reply, never a silent fallback to the deterministic skill, so a run shows
// that the model failed instead of passing off canned output as the model's.
import Ajv, { type ValidateFunction } from 'ajv';
import { SkillError, type JsonSchema } from './types';

export interface LlmConfig {
  /** Base URL, e.g. http://localhost:11434/v1; requests go to `${url}/chat/completions`. */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** LLM settings from PALLET_LLM_URL / PALLET_LLM_MODEL / PALLET_LLM_API_KEY / PALLET_LLM_TIMEOUT_MS; undefined when off. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv): LlmConfig | undefined {
  const url = env.PALLET_LLM_URL?.trim();
  const model = env.PALLET_LLM_MODEL?.trim();
  if (!url && !model) return undefined;
  if (!url || !model) throw new Error(`LLM mode needs both PALLET_LLM_URL and PALLET_LLM_MODEL (${url ? 'PALLET_LLM_MODEL' : 'PALLET_LLM_URL'} is not set)`);
  if (!/^https?:\/\//.test(url)) throw new Error(`PALLET_LLM_URL must be an http(s) URL, got "${url}"`);
  const timeout = Number(env.PALLET_LLM_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new Error(`PALLET_LLM_TIMEOUT_MS must be a positive number of milliseconds, got "${env.PALLET_LLM_TIMEOUT_MS}"`);
  return { url: url.replace(/\/+$/, ''), model, apiKey: env.PALLET_LLM_API_KEY?.trim() || undefined, timeoutMs: timeout };
}

export interface JsonQuestion {
  /** Skill id, for error messages. */
  skill: string;
  /** What the model is and must do; the schema and the JSON-only rule are appended. */
  instructions: string;
  /** The request itself (requirements, plan, code...). */
  input: string;
  /** Strict schema the answer must satisfy (required fields, types). */
  schema: JsonSchema;
  /** Applied to the parsed answer before validation (e.g. lower-case an enum). */
  normalise?: (answer: Record<string, unknown>) => void;
  signal?: AbortSignal;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new WeakMap<JsonSchema, ValidateFunction>();

/** Asks the model and returns its answer once it is a JSON object matching `schema`; throws SkillError otherwise. */
export async function askJson(cfg: LlmConfig, q: JsonQuestion): Promise<Record<string, unknown>> {
  const who = `model ${cfg.model} at ${cfg.url}`;
  const system =
    `${q.instructions}\n\nAnswer with exactly one JSON object and nothing else (no Markdown, no prose). ` +
    `It must match this JSON Schema:\n${JSON.stringify(q.schema)}`;
  const timeout = AbortSignal.timeout(cfg.timeoutMs);
  let response: Response;
  try {
    response = await fetch(`${cfg.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}) },
      body: JSON.stringify({
        model: cfg.model,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: q.input },
        ],
        temperature: 0,
        response_format: { type: 'json_object' },
      }),
      signal: q.signal ? AbortSignal.any([q.signal, timeout]) : timeout,
    });
  } catch (err) {
    if (timeout.aborted) throw new SkillError(`${q.skill}: ${who} did not answer within ${cfg.timeoutMs} ms`);
    throw new SkillError(
      `${q.skill}: ${who} is unreachable: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
    );
  }
  const body = await response.text().catch(() => '');
  if (!response.ok) throw new SkillError(`${q.skill}: ${who} answered HTTP ${response.status}: ${clip(body)}`);

  const content = messageContent(body);
  if (content === undefined) throw new SkillError(`${q.skill}: ${who} returned no chat completion message: ${clip(body)}`);
  const answer = parseJsonObject(content);
  if (!answer) throw new SkillError(`${q.skill}: ${who} did not answer with a JSON object: ${clip(content)}`);
  q.normalise?.(answer);

  let validate = validators.get(q.schema);
  if (!validate) validators.set(q.schema, (validate = ajv.compile(q.schema)));
  if (!validate(answer)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '(answer)'} ${e.message}`).join('; ');
    throw new SkillError(`${q.skill}: the answer of ${who} does not match the expected shape: ${why}`);
  }
  return answer;
}

/** choices[0].message.content, as a string (some servers send a list of text parts). */
function messageContent(body: string): string | undefined {
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    return undefined;
  }
  const content = (reply as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
  return undefined;
}

/** The JSON object in a reply, allowing a ```json fence or a sentence around it. */
function parseJsonObject(content: string): Record<string, unknown> | undefined {
  const unfenced = content
    .trim()
    .replace(/^```(?:json)?\s*/i, '')
    .replace(/\s*```$/, '');
  for (const candidate of [unfenced, unfenced.slice(unfenced.indexOf('{'), unfenced.lastIndexOf('}') + 1)]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}...` : flat || '(empty)';
}
