// review_code without a model: static checks of the code, each finding an issue with a
// severity and line, and a score derived from them. For Python: syntax (python3 ast.parse
// when available, else the lexer's bracket/string/indentation checks), docstrings, bare
// except, long lines, TODOs, print debugging, the __main__ guard and a few common pitfalls.
import { defName, indentStyles, insideEntryPoint, isMainGuard, lexPython, opensBlock, type LogicalLine } from './python';
import { pythonSyntax } from './pysyntax';

export type Severity = 'error' | 'high' | 'medium' | 'low';

export interface ReviewIssue {
  type: string;
  severity: Severity;
  line: number | null;
  message: string;
}

export interface Review {
  quality_score: number;
  issues: ReviewIssue[];
  suggestions: string[];
  approved: boolean;
  summary: string;
  language: string;
  /** Which syntax check ran: "python3 ast.parse" or the built-in fallback. */
  syntax_check: string;
}

export const LONG_LINE = 120;
const PENALTY: Record<Severity, number> = { error: 5, high: 2, medium: 1, low: 0.5 };
/** A rule counts at most this many times, so one habit repeated cannot sink the score alone. */
const MAX_COUNTED_PER_RULE = 3;
const PASS_SCORE = 7;

const SUGGESTIONS: Record<string, string> = {
  syntax: 'Fix the syntax error first: the code cannot run as written.',
  structure: 'Balance the brackets and close every string literal.',
  indentation: 'Indent consistently (4 spaces per level, no tabs).',
  docstring: 'Add docstrings to public functions and classes saying what they do and return.',
  'bare-except': 'Catch specific exceptions (except ValueError:) instead of a bare except:, which also swallows KeyboardInterrupt and SystemExit.',
  'long-line': `Wrap lines longer than ${LONG_LINE} characters (a formatter such as black does it).`,
  todo: 'Resolve or track the TODO/FIXME comments before shipping.',
  print: 'Use the logging module instead of print() for diagnostics.',
  'main-guard': 'Put the script entry point under if __name__ == "__main__": so importing the module has no side effects.',
  'mutable-default': 'Use None as the default and create the list/dict inside the function.',
  'wildcard-import': 'Import names explicitly instead of from module import *.',
  'none-comparison': 'Compare with None using "is" / "is not".',
  empty: 'Provide the code to review.',
};

export async function reviewCode(code: string, language: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<Review> {
  const lang = normaliseLanguage(language);
  let issues: ReviewIssue[];
  let syntaxCheck: string;
  if (!code.trim()) {
    issues = [{ type: 'empty', severity: 'error', line: null, message: 'the code is empty' }];
    syntaxCheck = 'none (empty code)';
  } else if (lang === 'python') {
    ({ issues, syntaxCheck } = await reviewPython(code, env.PALLET_PYTHON));
  } else {
    issues = genericIssues(code);
    syntaxCheck = `none (Python-specific checks skipped for ${lang})`;
  }
  return scoreReview(issues, lang, syntaxCheck);
}

export function normaliseLanguage(language: string | undefined): string {
  const l = (language ?? '').trim().toLowerCase();
  return !l || l === 'py' || l === 'python3' || l === 'python' ? 'python' : l;
}

async function reviewPython(code: string, python: string | undefined): Promise<{ issues: ReviewIssue[]; syntaxCheck: string }> {
  const src = lexPython(code);
  const issues: ReviewIssue[] = [];
  const syntax = await pythonSyntax(code, python);
  if (syntax.verdict) {
    if (!syntax.verdict.ok) issues.push({ type: 'syntax', severity: 'error', line: syntax.verdict.line, message: syntax.verdict.message });
  } else {
    // No interpreter: the lexer's structural checks stand in for the parser.
    for (const p of src.problems)
      issues.push({ type: p.kind === 'indentation' ? 'indentation' : 'structure', severity: 'error', line: p.line, message: p.message });
  }

  const { tabs, spaces } = indentStyles(src);
  if (tabs.length && spaces.length) {
    issues.push({
      type: 'indentation',
      severity: 'medium',
      line: tabs[0],
      message: `inconsistent indentation: tabs on line(s) ${list(tabs)}, spaces on line(s) ${list(spaces)}`,
    });
  } else if (tabs.length) {
    issues.push({ type: 'indentation', severity: 'low', line: tabs[0], message: `indentation uses tabs (line(s) ${list(tabs)}); PEP 8 asks for 4 spaces` });
  }

  const lines = src.logical;
  lines.forEach((l, i) => {
    const def = /^(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)/.exec(l.code);
    if (def && !def[2].startsWith('_') && !hasDocstring(l, lines[i + 1])) {
      issues.push({
        type: 'docstring',
        severity: 'low',
        line: l.start,
        message: `${def[1] === 'def' ? `function ${def[2]}()` : `class ${def[2]}`} has no docstring`,
      });
    }
    if (/^except\s*:/.test(l.code))
      issues.push({
        type: 'bare-except',
        severity: 'medium',
        line: l.start,
        message: 'bare except: catches every exception, including KeyboardInterrupt and SystemExit',
      });
    if (/(^|[^\w.])print\s*\(/.test(l.code) && !insideEntryPoint(l)) {
      issues.push({ type: 'print', severity: 'low', line: l.start, message: 'print() call outside main(): debugging output left in?' });
    }
    if (def?.[1] === 'def' && /=\s*(\[\s*\]|\{\s*\}|list\(\)|dict\(\)|set\(\))\s*[,)]/.test(l.code)) {
      issues.push({
        type: 'mutable-default',
        severity: 'medium',
        line: l.start,
        message: `function ${def[2]}() has a mutable default argument, shared between calls`,
      });
    }
    if (/^from\s+\S+\s+import\s+\*/.test(l.code))
      issues.push({ type: 'wildcard-import', severity: 'low', line: l.start, message: 'wildcard import hides where names come from' });
    if (/[!=]=\s*None\b/.test(l.code))
      issues.push({ type: 'none-comparison', severity: 'low', line: l.start, message: 'comparison to None with ==/!=; use is / is not' });
  });

  for (const l of src.lines) {
    if (l.text.length > LONG_LINE)
      issues.push({ type: 'long-line', severity: 'low', line: l.no, message: `line is ${l.text.length} characters long (limit ${LONG_LINE})` });
    const todo = /\b(TODO|FIXME|XXX|HACK)\b/.exec(l.comment);
    if (todo) issues.push({ type: 'todo', severity: 'low', line: l.no, message: `${todo[1]} comment: ${l.comment.trim().slice(0, 80)}` });
  }

  if (!lines.some(isMainGuard)) {
    const sideEffects = lines.filter((l) => l.indent === 0 && /^[A-Za-z_][\w.]*\s*\(/.test(l.code));
    const hasMain = lines.some((l) => defName(l) === 'main');
    if (sideEffects.length) {
      issues.push({
        type: 'main-guard',
        severity: 'medium',
        line: sideEffects[0].start,
        message: `no if __name__ == "__main__": guard; line ${sideEffects[0].start} runs code when the module is imported`,
      });
    } else if (hasMain) {
      issues.push({
        type: 'main-guard',
        severity: 'low',
        line: null,
        message: 'main() is defined but nothing calls it: add an if __name__ == "__main__": guard',
      });
    }
  }
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { issues, syntaxCheck: syntax.checker };
}

/** The first statement of the body is a string literal (after the header's colon for one-liners). */
function hasDocstring(header: LogicalLine, next: LogicalLine | undefined): boolean {
  const stringStart = /^[rRuUbB]{0,2}("""|'''|"|')/;
  if (opensBlock(header)) return !!next && next.indent > header.indent && stringStart.test(next.text.trim());
  // One-liner (def f(): return 1): the body follows the first ':' outside brackets.
  let depth = 0;
  for (let i = 0; i < header.code.length; i++) {
    const c = header.code[i];
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ':' && depth === 0) return stringStart.test(header.code.slice(i + 1).trim());
  }
  return false;
}

function genericIssues(code: string): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  code.split(/\r?\n/).forEach((text, i) => {
    if (text.length > LONG_LINE)
      issues.push({ type: 'long-line', severity: 'low', line: i + 1, message: `line is ${text.length} characters long (limit ${LONG_LINE})` });
    const todo = /\b(TODO|FIXME|XXX|HACK)\b/.exec(text);
    if (todo) issues.push({ type: 'todo', severity: 'low', line: i + 1, message: `${todo[1]} marker: ${text.trim().slice(0, 80)}` });
  });
  return issues;
}

export function scoreReview(issues: ReviewIssue[], language: string, syntaxCheck: string): Review {
  const counted = new Map<string, number>();
  let penalty = 0;
  for (const issue of issues) {
    const n = (counted.get(issue.type) ?? 0) + 1;
    counted.set(issue.type, n);
    if (n <= MAX_COUNTED_PER_RULE) penalty += PENALTY[issue.severity];
  }
  const score = Math.round(Math.min(10, Math.max(1, 10 - penalty)) * 10) / 10;
  const blocking = issues.filter((i) => i.severity === 'error' || i.severity === 'high');
  const approved = !blocking.length && score >= PASS_SCORE;
  const suggestions = [...counted.keys()].map((t) => SUGGESTIONS[t]).filter((s): s is string => !!s);
  if (!issues.length) suggestions.push('No problems found by the static checks; add unit tests for the behaviour.');

  const bySeverity = (['error', 'high', 'medium', 'low'] as Severity[])
    .map((s) => [s, issues.filter((i) => i.severity === s).length] as const)
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${s}`);
  const summary =
    `${capitalise(language)} review (syntax: ${syntaxCheck}): ` +
    (issues.length ? `${issues.length} issue${issues.length === 1 ? '' : 's'} (${bySeverity.join(', ')})` : 'no issues') +
    `; score ${score}/10; ${approved ? 'approved' : blocking.length ? `not approved: ${blocking[0].message}` : `not approved: score below ${PASS_SCORE}`}.`;
  return { quality_score: score, issues, suggestions, approved, summary, language, syntax_check: syntaxCheck };
}

function list(lines: number[]): string {
  return lines.length > 5 ? `${lines.slice(0, 5).join(', ')}...` : lines.join(', ');
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
