// Shared by security_scan and performance_check: a finding, severity order, and a score
// that drops with each finding (a rule counts at most three times).
import type { LogicalLine, PythonSource } from './python';

export type FindingSeverity = 'high' | 'medium' | 'low';

export interface Finding {
  rule: string;
  severity: FindingSeverity;
  line: number;
  message: string;
  /** The offending line, trimmed (secrets masked). */
  code: string;
}

export const SEVERITIES: FindingSeverity[] = ['high', 'medium', 'low'];

export function scoreFindings(findings: Finding[], penalty: Record<FindingSeverity, number>): number {
  const seen = new Map<string, number>();
  let total = 0;
  for (const f of findings) {
    const n = (seen.get(f.rule) ?? 0) + 1;
    seen.set(f.rule, n);
    if (n <= 3) total += penalty[f.severity];
  }
  return Math.round(Math.min(10, Math.max(1, 10 - total)) * 10) / 10;
}

export function countBySeverity(findings: Finding[]): string {
  return SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
}

/** Sorted by line, one finding per rule and line. */
export function tidy(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings
    .filter((f) => {
      const key = `${f.rule}@${f.line}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
}

/** The physical line within `l` whose code (strings blanked) or text matches `pattern`; else its first line. */
export function lineMatching(src: PythonSource, l: LogicalLine, pattern: RegExp, on: 'code' | 'text' = 'code'): number {
  for (let n = l.start; n <= l.end; n++) if (pattern.test(src.lines[n - 1][on])) return n;
  return l.start;
}

export function snippet(src: PythonSource, line: number): string {
  const text = src.lines[line - 1]?.text.trim() ?? '';
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
}
