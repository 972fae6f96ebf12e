// The three skills a model can answer (create_plan, generate_code, review_code): prompts and
// the strict answer schemas (the card's output schemas list no required fields, so they
// would accept almost anything).
import { askJson, type LlmConfig } from '../llm';
import type { Plan } from './plan';
import type { GeneratedCode } from './build';
import { normaliseLanguage, reviewCode, type Review } from './review';

const STRING = { type: 'string' };
const TEXT = { type: 'string', minLength: 1 };

export const PLAN_ANSWER = {
  type: 'object',
  required: ['title', 'steps', 'dependencies', 'estimated_total_time'],
  properties: {
    title: TEXT,
    steps: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['name', 'description', 'time'], properties: { name: TEXT, description: STRING, time: STRING } },
    },
    dependencies: { type: 'array', items: STRING },
    estimated_total_time: STRING,
  },
};

export const CODE_ANSWER = {
  type: 'object',
  required: ['code', 'explanation', 'language', 'functions'],
  properties: { code: TEXT, explanation: STRING, language: { enum: ['python'] }, functions: { type: 'array', items: STRING } },
};

export const REVIEW_ANSWER = {
  type: 'object',
  required: ['quality_score', 'issues', 'suggestions', 'approved', 'summary'],
  properties: {
    quality_score: { type: 'number', minimum: 1, maximum: 10 },
    issues: { type: 'array', items: { type: ['object', 'string'] } },
    suggestions: { type: 'array', items: STRING },
    approved: { type: 'boolean' },
    summary: STRING,
  },
};

export async function planWithLlm(cfg: LlmConfig, requirements: string, signal?: AbortSignal): Promise<Plan> {
  return (await askJson(cfg, {
    skill: 'create_plan',
    instructions:
      'You are plan-agent, a senior engineer. Turn the user requirements into an implementation plan for a Python program: ' +
      'a short title, 3 to 8 ordered steps (name, one-sentence description, time estimate such as "1 hour"), the external Python ' +
      'packages needed as dependencies (names only, [] if none) and the estimated total time.',
    input: requirements,
    schema: PLAN_ANSWER,
    signal,
  })) as unknown as Plan;
}

export async function codeWithLlm(cfg: LlmConfig, plan: Record<string, unknown>, signal?: AbortSignal): Promise<GeneratedCode> {
  return (await askJson(cfg, {
    skill: 'generate_code',
    instructions:
      'You are build-agent. Write a complete, syntactically valid Python 3 program implementing the plan given as JSON: one function ' +
      'per plan step, each with a docstring; a main() that calls them; and an if __name__ == "__main__": guard. Use logging, not print, ' +
      'for diagnostics. Put the whole program in "code", a short "explanation", "language": "python" and the names of the defined ' +
      'functions in "functions".',
    input: JSON.stringify(plan, null, 2),
    schema: CODE_ANSWER,
    normalise: (a) => {
      if (typeof a.language === 'string') a.language = a.language.trim().toLowerCase();
    },
    signal,
  })) as unknown as GeneratedCode;
}

/**
 * The model reviews the code, given the static findings as context. A syntax error found by
 * python3 overrides an approval: the model cannot approve code that does not parse.
 */
export async function reviewWithLlm(cfg: LlmConfig, code: string, language: string | undefined, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Review> {
  const lang = normaliseLanguage(language);
  const checks = await reviewCode(code, lang, env);
  const answer = (await askJson(cfg, {
    skill: 'review_code',
    instructions:
      'You are test-agent, a strict code reviewer. Review the code for bugs, security, readability and best practices. Give a quality_score ' +
      'from 1 to 10, the issues (objects with severity "error"|"high"|"medium"|"low", line (number or null) and message), concrete ' +
      'suggestions, approved (true only if the code is production-ready) and a one-paragraph summary. Static checks already ran; their ' +
      'findings are given for context, confirm or dismiss them.',
    input: `Language: ${lang}\n\nStatic check findings (${checks.syntax_check}):\n${JSON.stringify(checks.issues)}\n\nCode:\n${code}`,
    schema: REVIEW_ANSWER,
    signal,
  })) as unknown as Omit<Review, 'language' | 'syntax_check'>;
  const review: Review = { ...answer, language: lang, syntax_check: checks.syntax_check };
  const syntax = checks.issues.find((i) => i.type === 'syntax' || i.type === 'structure');
  if (syntax && review.approved) {
    review.approved = false;
    review.issues = [...review.issues, syntax];
    review.summary = `${review.summary} (Not approved: ${syntax.message}.)`;
  }
  return review;
}
