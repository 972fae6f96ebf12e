// create_plan without a model: a deterministic plan read off the requirements text.
// Each sentence is split into clauses at verbs ("parse the file and print a summary" gives
// two steps), each clause becomes a step with a time estimate from its keywords, and
// dependencies come from a keyword table. Same text in, same plan out.
import { SkillError } from '../types';

export interface PlanStep {
  name: string;
  description: string;
  time: string;
}

export interface Plan {
  title: string;
  steps: PlanStep[];
  dependencies: string[];
  estimated_total_time: string;
}

/** Verbs that start a new clause after "and" or a comma. */
const VERBS = [
  'add',
  'aggregate',
  'allow',
  'analyse',
  'analyze',
  'build',
  'calculate',
  'check',
  'clean',
  'compute',
  'compare',
  'connect',
  'convert',
  'count',
  'create',
  'deploy',
  'design',
  'detect',
  'display',
  'document',
  'download',
  'export',
  'expose',
  'extract',
  'fetch',
  'filter',
  'format',
  'generate',
  'handle',
  'implement',
  'import',
  'load',
  'log',
  'make',
  'merge',
  'monitor',
  'notify',
  'output',
  'parse',
  'plot',
  'print',
  'process',
  'provide',
  'read',
  'record',
  'render',
  'report',
  'return',
  'run',
  'save',
  'scrape',
  'search',
  'send',
  'serve',
  'show',
  'sort',
  'store',
  'summarise',
  'summarize',
  'support',
  'test',
  'track',
  'transform',
  'update',
  'upload',
  'validate',
  'verify',
  'visualise',
  'visualize',
  'write',
];
const VERB_FORMS = new Set(VERBS.flatMap((v) => [v, `${v}s`, v.endsWith('e') ? `${v}d` : `${v}ed`, v.replace(/e$/, '') + 'ing', `${v}es`]));

/** Keyword → external Python packages, in the order they are listed. */
const DEPENDENCIES: [RegExp, string[]][] = [
  [/\b(rest(ful)?|api|endpoints?|web ?server|http server|microservice)\b/i, ['fastapi', 'uvicorn']],
  [/\b(html|scrap(e|er|ing)|web ?pages?)\b/i, ['beautifulsoup4']],
  [/\b(https?|download|fetch(es|ing)?|requests?|urls?|webhooks?)\b/i, ['requests']],
  [/\b(csv|excel|xlsx|dataframes?|pandas|data ?sets?|data analysis|sales data)\b/i, ['pandas']],
  [/\b(plot|chart|graph|visuali[sz](e|ation)|histogram)s?\b/i, ['matplotlib']],
  [/\b(databases?|sql|postgres(ql)?|mysql|sqlite|orm)\b/i, ['sqlalchemy']],
  [/\b(ya?ml)\b/i, ['pyyaml']],
  [/\b(cli|command[- ]line|terminal)\b/i, ['click']],
  [/\b(machine learning|ml model|classif(y|ier|ication)|regression|predict(ion)?)\b/i, ['scikit-learn']],
  [/\b(tests?|testing|unit tests?|pytest)\b/i, ['pytest']],
];

/** Keyword weights for the time estimate of one step, in hours. */
const HEAVY = /\b(api|rest|database|sql|auth(entication|orization)?|server|ui|interface|machine learning|model|scrap\w*|deploy\w*|concurren\w*|async)\b/i;
const LIGHT = /\b(print|log|display|show|format|read|load|save|sort|count|return)(s|ed|ing)?\b/i;

const FILLER =
  /^(?:(?:i|we)\s+(?:want|need|would like)\s+(?:to\s+)?|please\s+|(?:the\s+)?(?:app|application|program|script|tool|system|service|it|code)\s+(?:should|must|will|can|shall)\s+(?:be able to\s+)?|(?:it\s+)?should\s+|must\s+|that\s+|which\s+|then\s+|also\s+|and\s+)+/i;

const MAX_CLAUSE_STEPS = 10;

export function createPlan(requirements: string): Plan {
  const text = requirements.replace(/\s+/g, ' ').trim();
  if (!text) throw new SkillError('requirements is empty: describe what to build');

  const clauses = splitClauses(text).slice(0, MAX_CLAUSE_STEPS);
  const steps: PlanStep[] = [
    { name: 'Set up project structure', description: 'Create the Python module, its entry point and configuration handling.', time: formatHours(0.5) },
  ];
  let hours = 0.5;
  for (const clause of clauses) {
    const h = estimate(clause);
    hours += h;
    steps.push({ name: stepName(clause), description: `${capitalise(clause)}.`, time: formatHours(h) });
  }
  if (!clauses.some((c) => /\btest/i.test(c))) {
    const h = Math.max(0.5, Math.round(clauses.length * 0.25 * 2) / 2);
    hours += h;
    steps.push({
      name: 'Write tests',
      description: `Cover ${clauses.length === 1 ? 'the feature' : `the ${clauses.length} features`} with unit tests and check error handling.`,
      time: formatHours(h),
    });
  }

  return {
    title: title(clauses[0] ?? text),
    steps,
    dependencies: dependenciesOf(text),
    estimated_total_time: formatHours(hours),
  };
}

/** Sentences, then clauses at ", <verb>" / "and <verb>" / "then <verb>". */
export function splitClauses(text: string): string[] {
  const out: string[] = [];
  for (const sentence of text.split(/(?<=[.!?;])\s+|\s*[\n•]\s*|(?<=\S):\s+/)) {
    const words = sentence.replace(/[.!?;:]+$/, '').split(' ');
    let current: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      const bare = word.toLowerCase().replace(/[^a-z]/g, '');
      const next = (words[i + 1] ?? '').toLowerCase().replace(/[^a-z]/g, '');
      // "and"/"then" followed by a verb starts a new clause; so does a verb after a comma.
      if ((bare === 'and' || bare === 'then') && VERB_FORMS.has(next) && current.length) {
        pushClause(out, current);
        current = [];
        continue;
      }
      if (current.length && current[current.length - 1].endsWith(',') && VERB_FORMS.has(bare)) {
        pushClause(out, current);
        current = [];
      }
      current.push(word);
    }
    pushClause(out, current);
  }
  return out;
}

function pushClause(out: string[], words: string[]): void {
  const clause = words
    .join(' ')
    .replace(/[,\s]+$/, '')
    .replace(FILLER, '')
    .trim();
  if (clause) out.push(clause);
}

function stepName(clause: string): string {
  const words = clause
    .replace(/[^\w\s/+-]/g, '')
    .split(/\s+/)
    .filter(Boolean);
  const first = (words[0] ?? '').toLowerCase();
  // Imperative names read best: "Parse CSV files", "Implement REST API for todos".
  const verb = VERB_FORMS.has(first) ? baseVerb(first) : undefined;
  const rest = (verb ? words.slice(1) : words).filter((w, i) => i > 0 || !/^(a|an|the)$/i.test(w));
  const name = [verb ? capitalise(verb) : 'Implement', ...rest].slice(0, 7).join(' ');
  return name;
}

function baseVerb(word: string): string {
  if (VERBS.includes(word)) return word;
  return VERBS.find((v) => [`${v}s`, `${v}es`, `${v}d`, `${v}ed`, v.replace(/e$/, '') + 'ing'].includes(word)) ?? word;
}

function estimate(clause: string): number {
  if (HEAVY.test(clause)) return 2;
  if (LIGHT.test(clause) && clause.split(' ').length <= 8) return 0.5;
  return 1;
}

function dependenciesOf(text: string): string[] {
  const deps: string[] = [];
  for (const [pattern, packages] of DEPENDENCIES) {
    if (pattern.test(text)) for (const p of packages) if (!deps.includes(p)) deps.push(p);
  }
  return deps;
}

function title(clause: string): string {
  const words = clause.split(' ');
  const short = words.length > 10 ? `${words.slice(0, 10).join(' ')}...` : clause;
  return `Implementation Plan: ${capitalise(short)}`;
}

export function formatHours(h: number): string {
  if (h < 1) return `${Math.round(h * 60)} minutes`;
  if (h === 1) return '1 hour';
  return `${Number.isInteger(h) ? h : h.toFixed(1)} hours`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
