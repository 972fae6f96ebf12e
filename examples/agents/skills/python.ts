// A small Python lexer for the review, security and performance checks: it separates code
// from string literals and comments (so `eval(` inside a string is not a finding), tracks
// brackets and unterminated strings, and groups physical lines into logical lines with
// their enclosing blocks. Not a parser: the checks are heuristics on top of it.

export interface PhysicalLine {
  /** 1-based line number. */
  no: number;
  /** The line as written. */
  text: string;
  /** The line with string contents blanked (quotes kept) and the comment removed. */
  code: string;
  /** Comment text after `#`, or ''. */
  comment: string;
  /** True when the line continues a statement (open bracket, triple string or backslash). */
  continued: boolean;
}

export interface LogicalLine {
  /** First and last physical line numbers. */
  start: number;
  end: number;
  /** Indentation width of the first line (tabs to the next multiple of 8, as Python does). */
  indent: number;
  indentText: string;
  /** Code of all its physical lines joined with a space, trimmed. */
  code: string;
  /** Original text of all its physical lines joined with newlines. */
  text: string;
  /** Headers of the enclosing blocks, outermost first (`def f():`, `for x in y:`...). */
  parents: LogicalLine[];
}

export interface LexProblem {
  line: number;
  kind: 'bracket' | 'string' | 'indentation';
  message: string;
}

export interface PythonSource {
  lines: PhysicalLine[];
  logical: LogicalLine[];
  /** Structural problems found without a real parser: brackets, strings, indentation. */
  problems: LexProblem[];
}

const PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])$/;
const CLOSER: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

export function lexPython(source: string): PythonSource {
  const text = source.replace(/\r\n?/g, '\n');
  const raw = text.split('\n');
  const code: string[] = raw.map(() => '');
  const comment: string[] = raw.map(() => '');
  const continued: boolean[] = raw.map(() => false);
  const problems: LexProblem[] = [];
  const brackets: { ch: string; line: number }[] = [];

  let line = 0;
  let i = 0;
  let string: { quote: string; start: number } | undefined;
  const emit = (s: string) => (code[line] += s);

  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      if (string && string.quote.length === 1) {
        problems.push({ line: string.start + 1, kind: 'string', message: `unterminated string literal on line ${string.start + 1}` });
        string = undefined;
      }
      const backslash = !string && /\\\s*$/.test(code[line]);
      line++;
      i++;
      continued[line] = Boolean(string) || brackets.length > 0 || backslash;
      continue;
    }
    if (string) {
      if (ch === '\\') {
        emit(text[i + 1] === '\n' ? ' ' : '  ');
        if (text[i + 1] === '\n') {
          // An escaped newline inside a one-quote string continues it on the next line.
          line++;
          continued[line] = true;
        }
        i += 2;
        continue;
      }
      if (text.startsWith(string.quote, i)) {
        emit(string.quote);
        i += string.quote.length;
        string = undefined;
        continue;
      }
      emit(' ');
      i++;
      continue;
    }
    if (ch === '#') {
      const end = text.indexOf('\n', i);
      comment[line] = text.slice(i + 1, end === -1 ? undefined : end);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 200))![0];
      emit(word);
      i += word.length;
      if (PREFIX.test(word) && (text[i] === '"' || text[i] === "'")) string = openString(text, i, line, emit);
      if (string) i += string.quote.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      string = openString(text, i, line, emit);
      i += string.quote.length;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') brackets.push({ ch, line: line + 1 });
    if (ch === ')' || ch === ']' || ch === '}') {
      const open = brackets.pop();
      if (!open) problems.push({ line: line + 1, kind: 'bracket', message: `unmatched '${ch}' on line ${line + 1}` });
      else if (open.ch !== CLOSER[ch]) {
        problems.push({ line: line + 1, kind: 'bracket', message: `'${open.ch}' opened on line ${open.line} is closed by '${ch}' on line ${line + 1}` });
      }
    }
    emit(ch);
    i++;
  }
  if (string)
    problems.push({
      line: string.start + 1,
      kind: 'string',
      message: `unterminated ${string.quote.length === 3 ? 'triple-quoted ' : ''}string starting on line ${string.start + 1}`,
    });
  for (const open of brackets) problems.push({ line: open.line, kind: 'bracket', message: `'${open.ch}' opened on line ${open.line} is never closed` });

  const lines: PhysicalLine[] = raw.map((t, n) => ({ no: n + 1, text: t, code: code[n], comment: comment[n], continued: continued[n] }));
  const logical = groupLogical(lines);
  problems.push(...indentationProblems(logical));
  problems.sort((a, b) => a.line - b.line);
  return { lines, logical, problems };
}

function openString(text: string, i: number, line: number, emit: (s: string) => void) {
  const q = text[i];
  const quote = text.startsWith(q.repeat(3), i) ? q.repeat(3) : q;
  emit(quote);
  return { quote, start: line };
}

function indentWidth(ws: string): number {
  let width = 0;
  for (const c of ws) width = c === '\t' ? width + 8 - (width % 8) : width + 1;
  return width;
}

function groupLogical(lines: PhysicalLine[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let current: LogicalLine | undefined;
  for (const l of lines) {
    if (l.continued && current) {
      current.end = l.no;
      current.code = `${current.code} ${l.code.trim()}`.trim();
      current.text += `\n${l.text}`;
      continue;
    }
    if (!l.code.trim()) {
      current = undefined; // blank or comment-only: not a statement
      continue;
    }
    const indentText = /^[ \t]*/.exec(l.text)![0];
    current = { start: l.no, end: l.no, indent: indentWidth(indentText), indentText, code: l.code.trim(), text: l.text, parents: [] };
    out.push(current);
  }
  // Parents need whole logical lines: only a line ending in ':' opens a block.
  const blocks: LogicalLine[] = [];
  for (const l of out) {
    while (blocks.length && blocks[blocks.length - 1].indent >= l.indent) blocks.pop();
    l.parents = [...blocks];
    if (opensBlock(l)) blocks.push(l);
  }
  return out;
}

/** A logical line ending in ':' (outside brackets) opens an indented block. */
export function opensBlock(l: LogicalLine): boolean {
  return /:\s*$/.test(l.code.replace(/\\\s*$/, ''));
}

function indentationProblems(logical: LogicalLine[]): LexProblem[] {
  const problems: LexProblem[] = [];
  const levels = [0];
  let previous: LogicalLine | undefined;
  for (const l of logical) {
    const top = levels[levels.length - 1];
    if (previous && opensBlock(previous)) {
      if (l.indent <= top) {
        problems.push({ line: l.start, kind: 'indentation', message: `expected an indented block after line ${previous.start}` });
      } else levels.push(l.indent);
    } else if (l.indent > top) {
      problems.push({ line: l.start, kind: 'indentation', message: `unexpected indent on line ${l.start}` });
      levels.push(l.indent);
    } else if (l.indent < top) {
      while (levels.length > 1 && levels[levels.length - 1] > l.indent) levels.pop();
      if (levels[levels.length - 1] !== l.indent) {
        problems.push({ line: l.start, kind: 'indentation', message: `unindent on line ${l.start} does not match any outer indentation level` });
        levels.push(l.indent);
      }
    }
    previous = l;
  }
  if (previous && opensBlock(previous))
    problems.push({ line: previous.start, kind: 'indentation', message: `expected an indented block after line ${previous.start}` });
  return problems;
}

/** Lines indented with tabs and lines indented with spaces, for the consistency check. */
export function indentStyles(src: PythonSource): { tabs: number[]; spaces: number[] } {
  const tabs: number[] = [];
  const spaces: number[] = [];
  for (const l of src.logical) {
    if (l.indentText.includes('\t')) tabs.push(l.start);
    else if (l.indentText.length) spaces.push(l.start);
  }
  return { tabs, spaces };
}

/** Is the line inside a `def` named one of `names`, or inside the `if __name__ == "__main__":` block? */
export function insideEntryPoint(l: LogicalLine, names: string[] = ['main']): boolean {
  return l.parents.some((p) => isMainGuard(p) || names.includes(defName(p) ?? ''));
}

export function defName(l: LogicalLine): string | undefined {
  return /^(?:async\s+)?def\s+([A-Za-z_]\w*)/.exec(l.code)?.[1];
}

export function isMainGuard(l: LogicalLine): boolean {
  return /^if\s+(?:__name__\s*==\s*["']__main__["']|["']__main__["']\s*==\s*__name__)\s*:/.test(l.text.trim());
}

/** Loop headers enclosing the line, innermost function only (a nested def starts afresh). */
export function enclosingLoops(l: LogicalLine): LogicalLine[] {
  const loops: LogicalLine[] = [];
  for (const p of l.parents) {
    if (/^(?:async\s+)?(?:def|class)\b/.test(p.code)) loops.length = 0;
    else if (isLoop(p)) loops.push(p);
  }
  return loops;
}

export function isLoop(l: LogicalLine): boolean {
  return /^(?:async\s+)?(?:for|while)\b/.test(l.code);
}

/** The physical line number, within a logical line, of the first part matching a pattern. */
export function lineOf(l: LogicalLine, pattern: RegExp): number {
  const parts = l.text.split('\n');
  const at = parts.findIndex((p) => pattern.test(p));
  return l.start + Math.max(at, 0);
}
