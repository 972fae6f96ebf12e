// performance_check: patterns that cost time in Python loops, found on logical lines with
// their enclosing loops (from indentation), with string contents blanked.
import { countBySeverity, lineMatching, scoreFindings, snippet, tidy, type Finding, type FindingSeverity } from './findings';
import { enclosingLoops, isLoop, lexPython, type LogicalLine } from './python';

export interface PerformanceReport {
  findings: Finding[];
  score: number;
  summary: string;
}

/** Rules for statements inside a loop body: work that is repeated on every iteration. */
const IN_LOOP: { rule: string; severity: FindingSeverity; pattern: RegExp; message: string }[] = [
  {
    rule: 'file-io-in-loop',
    severity: 'medium',
    pattern: /(?:^|[^\w.])open\s*\(|\.(read_text|read_bytes|read_csv|read_json|read_excel)\s*\(|\bjson\.load\s*\(/,
    message: 'file opened/read inside a loop: read it once before the loop',
  },
  {
    rule: 'query-in-loop',
    severity: 'medium',
    pattern: /\.(execute|query)\s*\(/,
    message: 'database query inside a loop (N+1 queries): fetch in one query or use executemany()',
  },
  {
    rule: 'network-call-in-loop',
    severity: 'medium',
    pattern: /\b(?:requests|httpx|session|client)\.(get|post|put|delete|request)\s*\(|\burlopen\s*\(/,
    message: 'network request inside a loop: batch the calls or run them concurrently',
  },
  {
    rule: 'regex-in-loop',
    severity: 'low',
    pattern: /\bre\.(match|search|findall|finditer|sub|split|fullmatch)\s*\(\s*[rRbB]?["']/,
    message: 'regular expression re-parsed on every iteration: compile it once with re.compile() outside the loop',
  },
  {
    rule: 'copy-in-loop',
    severity: 'low',
    pattern: /\b(copy\.deepcopy|deepcopy)\s*\(/,
    message: 'deepcopy inside a loop is slow: copy once, or copy only what changes',
  },
  {
    rule: 'sort-in-loop',
    severity: 'low',
    pattern: /(?:^|[^\w])sorted\s*\(|\.sort\s*\(/,
    message: 'sorting inside a loop: sort once outside, or keep the data in a heap/bisect-ed list',
  },
];

export function performanceCheck(code: string): PerformanceReport {
  const src = lexPython(code);
  const findings: Finding[] = [];
  const add = (rule: string, severity: FindingSeverity, line: number, message: string) =>
    findings.push({ rule, severity, line, message, code: snippet(src, line) });
  const stringVars = new Set<string>();
  const logical = src.logical;

  logical.forEach((l, i) => {
    const loops = enclosingLoops(l);
    const assigned = /^([A-Za-z_]\w*)\s*(?::\s*str\s*)?=\s*(?:[rRuU]?["']|str\()/.exec(l.code);
    if (assigned && !loops.length) stringVars.add(assigned[1]);

    if (isLoop(l) && loops.length) {
      const depth = loops.length + 1;
      add(
        'nested-loop',
        depth >= 3 ? 'high' : 'medium',
        l.start,
        `loop nested ${depth} deep (line${loops.length > 1 ? 's' : ''} ${loops.map((x) => x.start).join(', ')}): O(n^${depth}) work; index one side with a dict/set or restructure`,
      );
    }
    if (/^for\s+\w+\s+in\s+range\s*\(\s*len\s*\(/.test(l.code)) {
      add('range-len', 'low', l.start, 'for i in range(len(x)): iterate over x directly, or use enumerate(x) when the index is needed');
    }
    if (/^while\b.*\blen\s*\(/.test(l.code)) {
      add(
        'len-in-loop-condition',
        'low',
        l.start,
        'len() is re-evaluated on every iteration of the while condition: keep the length in a variable, or iterate directly',
      );
    }
    if (/^for\b/.test(l.code) && /\bin\s+[\w.]+\.keys\(\)\s*:/.test(l.code)) {
      add('keys-iteration', 'low', l.start, 'iterating over dict.keys(): iterate over the dict itself (or .items() when values are used)');
    }
    if (/^for\b/.test(l.code)) appendLoop(l, logical.slice(i + 1), add);
    if (!loops.length) return;

    const concat = /^([A-Za-z_][\w.]*)\s*\+=\s*(.*)$/.exec(l.code) ?? /^([A-Za-z_][\w.]*)\s*=\s*\1\s*\+\s*(.*)$/.exec(l.code);
    if (concat && (stringVars.has(concat[1]) || /^(?:[fFrRuU]{0,2}["']|str\()/.test(concat[2]))) {
      add(
        'string-concat-in-loop',
        'medium',
        l.start,
        `string "${concat[1]}" built with + inside a loop (quadratic copying): collect the parts in a list and "".join() them`,
      );
    }
    if (/\bin\s+(?:list|sorted)\s*\(/.test(l.code) && /^(?:if|elif|while)\b/.test(l.code)) {
      add('list-membership-in-loop', 'low', l.start, 'membership test against a freshly built list in a loop: build a set once before the loop');
    }
    for (const r of IN_LOOP) {
      if (r.pattern.test(l.code)) add(r.rule, r.severity, lineMatching(src, l, r.pattern), r.message);
    }
  });

  const all = tidy(findings);
  return {
    findings: all,
    score: scoreFindings(all, { high: 2.5, medium: 1, low: 0.5 }),
    summary: all.length
      ? `${all.length} performance finding${all.length === 1 ? '' : 's'} (${countBySeverity(all)}): ${[...new Set(all.map((f) => f.rule))].join(', ')}.`
      : 'No known performance anti-patterns found.',
  };
}

/**
 * `for x in xs: [if cond:] out.append(expr)` and nothing else: a list comprehension says
 * the same and runs faster (no method lookup and call per item).
 */
function appendLoop(header: LogicalLine, after: LogicalLine[], add: (rule: string, severity: FindingSeverity, line: number, message: string) => void): void {
  const body: LogicalLine[] = [];
  for (const l of after) {
    if (l.indent <= header.indent) break;
    body.push(l);
  }
  const isAppend = (l: LogicalLine | undefined) => !!l && /^[A-Za-z_][\w.]*\.append\s*\(.*\)$/.test(l.code);
  const single = body.length === 1 && isAppend(body[0]);
  const filtered = body.length === 2 && /^if\b.*:$/.test(body[0].code) && body[1].indent > body[0].indent && isAppend(body[1]);
  if (single || filtered) {
    const target = /^([A-Za-z_][\w.]*)\.append/.exec(body[body.length - 1].code)![1];
    add('append-in-loop', 'low', header.start, `loop only appends to ${target}: a list comprehension is clearer and faster`);
  }
}
