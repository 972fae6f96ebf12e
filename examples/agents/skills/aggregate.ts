// aggregate_results: one verdict from the quality review, the security scan and the
// performance check (parallel-analysis's last step). Reads the fields those skills return
// and tolerates other agents' variants (a missing score is derived from the findings).
import { SkillError } from '../types';

export interface Aggregate {
  overall_score: number;
  approved: boolean;
  summary: string;
  highlights: string[];
  scores: { quality: number; security: number; performance: number };
}

/** Security weighs as much as quality: a clean but exploitable program is not approved. */
const WEIGHTS = { quality: 0.4, security: 0.4, performance: 0.2 };
const PASS = 7;
const SEVERITY_RANK: Record<string, number> = { error: 0, critical: 0, high: 1, medium: 2, low: 3 };
const MAX_HIGHLIGHTS = 8;

interface Item {
  rule?: string;
  type?: string;
  severity?: string;
  line?: number | null;
  message?: string;
}

export function aggregateResults(params: { quality: unknown; security: unknown; performance: unknown }): Aggregate {
  const quality = asObject(params.quality, 'quality');
  const security = asObject(params.security, 'security');
  const performance = asObject(params.performance, 'performance');

  const issues = items(quality.issues);
  const secFindings = items(security.findings);
  const perfFindings = items(performance.findings);
  const scores = {
    quality: clampScore(num(quality.quality_score) ?? num(quality.score) ?? fromItems(issues)),
    security: clampScore(num(security.score) ?? fromRisk(security.risk_level) ?? fromItems(secFindings)),
    performance: clampScore(num(performance.score) ?? fromItems(perfFindings)),
  };
  const overall = Math.round((scores.quality * WEIGHTS.quality + scores.security * WEIGHTS.security + scores.performance * WEIGHTS.performance) * 10) / 10;

  const risk = typeof security.risk_level === 'string' ? security.risk_level.toLowerCase() : secFindings.some((f) => rank(f) <= 1) ? 'high' : 'unknown';
  const blockers: string[] = [];
  if (quality.approved === false) blockers.push('the quality review did not approve the code');
  if (risk === 'high' || risk === 'critical') blockers.push(`security risk is ${risk}`);
  if (overall < PASS) blockers.push(`overall score ${overall} is below ${PASS}`);
  const approved = blockers.length === 0;

  const highlights = [
    ...secFindings.map((f) => ({ rank: rank(f), text: `Security: ${describe(f)}` })),
    ...issues.map((f) => ({ rank: rank(f), text: `Quality: ${describe(f)}` })),
    ...perfFindings.map((f) => ({ rank: rank(f), text: `Performance: ${describe(f)}` })),
  ]
    .sort((a, b) => a.rank - b.rank) // stable: security first within a severity
    .slice(0, MAX_HIGHLIGHTS)
    .map((h) => h.text);
  if (!highlights.length) highlights.push('No issues found by the quality, security and performance checks.');

  const summary =
    `Overall ${overall}/10 (quality ${scores.quality}, security ${scores.security}, performance ${scores.performance}); ` +
    `${plural(issues.length, 'quality issue')}, ${plural(secFindings.length, 'security finding')}, ${plural(perfFindings.length, 'performance finding')}. ` +
    (approved ? 'Approved.' : `Not approved: ${blockers.join('; ')}.`);
  return { overall_score: overall, approved, summary, highlights, scores };
}

function asObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SkillError(`${name} must be the result object of the ${name} check, got ${value === null ? 'null' : typeof value}`);
  return value as Record<string, unknown>;
}

function items(value: unknown): Item[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) => (typeof v === 'string' ? { message: v } : typeof v === 'object' && v !== null ? (v as Item) : { message: String(v) }));
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function clampScore(n: number): number {
  return Math.round(Math.min(10, Math.max(0, n)) * 10) / 10;
}

function rank(i: Item): number {
  return SEVERITY_RANK[(i.severity ?? '').toLowerCase()] ?? 3;
}

function fromItems(list: Item[]): number {
  const penalty = list.reduce((sum, i) => sum + [5, 3, 1, 0.5][rank(i)], 0);
  return Math.max(1, 10 - penalty);
}

function fromRisk(risk: unknown): number | undefined {
  const table: Record<string, number> = { none: 10, low: 8, medium: 6, high: 3, critical: 1 };
  return typeof risk === 'string' ? table[risk.toLowerCase()] : undefined;
}

function describe(i: Item): string {
  const where = typeof i.line === 'number' ? ` on line ${i.line}` : '';
  const what = i.rule ?? i.type;
  const sev = i.severity ? ` (${i.severity})` : '';
  return `${what ? `${what}${where}${sev}: ` : where ? `${where.trim()}${sev}: ` : ''}${i.message ?? ''}`.trim();
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
