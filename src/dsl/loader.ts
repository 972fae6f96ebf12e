// Loads a workflow definition from YAML text: syntax, schema and static validation, with
// every problem located by file, line and column.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type Tags } from 'yaml';
import type { ZodError } from 'zod';
import { definitionSchema } from './schema';
import { isPlainObject } from './templates';
import type { WorkflowDefinition } from './types';
import { formatPath, validateDefinition, type FieldPath } from './validate';

export interface LintProblem {
  file: string;
  line?: number;
  col?: number;
  /** Dotted path of the field concerned, e.g. `steps[1].inputs`. */
  field?: string;
  message: string;
  /** A warning does not make the file invalid. */
  warning?: boolean;
}

export type LoadResult =
  /** `locate` gives the line and column of a field, for checks made after loading. */
  | { ok: true; definition: WorkflowDefinition; digest: string; locate(path: FieldPath): { line?: number; col?: number } }
  | { ok: false; problems: LintProblem[] };

export class DefinitionError extends Error {
  constructor(readonly problems: LintProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'DefinitionError';
  }
}

/** `FILE:LINE:COL: message`, the position left out where it is unknown. */
export function formatProblem(p: LintProblem): string {
  const pos = p.line ? `:${p.line}:${p.col ?? 1}` : '';
  return `${p.file}${pos}: ${p.warning ? 'warning: ' : ''}${p.message}`;
}

export function sha256Digest(text: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/**
 * Pallet reads its files with PyYAML, which speaks YAML 1.1: `yes`/`no`/`on`/`off` are
 * booleans, `010` is octal, `1:30` is base 60. So do we, with PyYAML's exact patterns where
 * the yaml package's 1.1 schema is wider (`y`/`n` stay text, `1e3` is text as it needs a dot
 * and a signed exponent), and dates kept as text (PyYAML's date objects are not JSON).
 */
const PYYAML_PATTERNS: Record<string, RegExp> = {
  'bool:true': /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/,
  'bool:false': /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
  'float:EXP': /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/,
  'float:': /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
};

const pyyamlTags = (tags: Tags): Tags =>
  tags
    .filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp')
    .map((t) => {
      if (typeof t === 'string' || !('test' in t) || !t.test) return t;
      const kind = t.tag.replace('tag:yaml.org,2002:', '');
      const variant = kind === 'bool' ? String(t.test.test('true')) : (t.format ?? '');
      const pattern = PYYAML_PATTERNS[`${kind}:${variant}`];
      // The yaml package's own nan/inf float tag has no format: keep it, PyYAML's plain float covers it too.
      return pattern && !String(t.test).includes('inf') ? { ...t, test: pattern } : t;
    });

export const YAML_OPTIONS = { version: '1.1', customTags: pyyamlTags, uniqueKeys: true } as const;

/** How deep maps and lists may nest in a definition (documented in docs/language.md). */
export const MAX_NESTING = 100;

/**
 * Parses and checks a definition. Never throws: whatever the text (alias bombs, unresolved
 * aliases, nesting past any stack, keys such as `constructor`), the answer is a definition or
 * a list of problems with file, line and column.
 */
export function parseDefinition(text: string, file: string): LoadResult {
  const lines = new LineCounter();
  const at = (offset: number | undefined, message: string): LintProblem => {
    const pos = offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
    return { file, line: pos.line, col: pos.col, message };
  };
  let doc: Document;
  try {
    doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines, prettyErrors: false });
  } catch (err) {
    // The YAML parser recurses per level: far past MAX_NESTING it runs out of stack.
    const deepest = deepestOffset(text);
    return {
      ok: false,
      problems: [at(deepest, `the file nests too deeply to read (${err instanceof RangeError ? `more than ${MAX_NESTING} levels` : (err as Error).message})`)],
    };
  }
  if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => at(e.pos[0], `YAML syntax error: ${firstLine(e.message)}`)) };
  const tooDeep = nestedPast(doc.contents, MAX_NESTING);
  if (tooDeep)
    return {
      ok: false,
      problems: [
        at(
          tooDeep.range?.[0],
          `maps and lists nest more than ${MAX_NESTING} levels deep here; flatten the definition (the limit keeps every check within bounds)`,
        ),
      ],
    };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, problems: [aliasProblem(doc, err as Error, at)] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: [{ file, line: 1, col: 1, message: 'a workflow file must be a YAML map with "metadata" and "steps"' }] };
  }
  keepVersionText(doc, text, data as { metadata?: Record<string, unknown> });
  const locate = (path: FieldPath) => locateField(doc, lines, path);
  const parsed = definitionSchema.safeParse(data);
  // Schema and reference problems together, in the order of the file, so that one lint
  // shows every problem at once.
  const problems = [
    ...(parsed.success ? [] : schemaProblems(parsed.error, data, file, locate)),
    ...validateDefinition(data).map((p) => ({ file, ...locate(p.path), field: formatPath(p.path), message: p.message })),
  ].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  return { ok: true, definition: parsed.data, digest: sha256Digest(text), locate };
}

/** The first collection node nested deeper than `limit`, found without recursion. */
function nestedPast(root: unknown, limit: number): Node | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= limit) return node;
    for (const item of node.items) {
      if (isPair(item)) stack.push([item.key, depth + 1], [item.value, depth + 1]);
      else stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

/** Where the text is most deeply indented or bracketed: a place to point at when it cannot be parsed. */
function deepestOffset(text: string): number {
  let depth = 0;
  let best = 0;
  let bestAt = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === '\n') {
      let j = i + 1;
      while (text[j] === ' ' || text[j] === '-') j++;
      if (j - i > best) [best, bestAt] = [j - i, j];
      continue;
    }
    if (depth > best) [best, bestAt] = [depth, i];
  }
  return bestAt;
}

/** An alias that cannot be expanded: unknown anchor, or too many expansions (an alias bomb). */
function aliasProblem(doc: Document, err: Error, at: (offset: number | undefined, message: string) => LintProblem): LintProblem {
  let first: Alias | undefined;
  let unresolved: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      first ??= node;
      if (!unresolved && node.resolve(doc) === undefined) unresolved = node;
    },
  });
  if (unresolved) return at(unresolved.range?.[0], `alias *${unresolved.source} refers to no anchor &${unresolved.source} defined before it`);
  if (/alias count/i.test(err.message)) return at(first?.range?.[0], 'aliases expand to too much data (an alias bomb?): expand them by hand or use fewer');
  return at(first?.range?.[0], `cannot expand YAML aliases: ${err.message}`);
}

/** Reads and checks a definition file; throws DefinitionError listing every problem. */
export async function loadDefinitionFile(file: string): Promise<{ definition: WorkflowDefinition; digest: string; text: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DefinitionError([{ file, message: `cannot read file: ${(err as Error).message}` }]);
  }
  const result = parseDefinition(text, file);
  if (!result.ok) throw new DefinitionError(result.problems);
  return { definition: result.definition, digest: result.digest, text };
}

function schemaProblems(error: ZodError, data: unknown, file: string, locate: (p: FieldPath) => { line?: number; col?: number }): LintProblem[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // One problem per unknown key, located at that key.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const at = key === undefined ? path : [...path, key];
      const field = formatPath(at);
      const where = locate(at);
      if (issue.message.includes('{step}')) return { file, ...where, field, message: stepMessage(issue.message, data, at, key) };
      const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
      return { file, ...where, field, message: missing ? `${field} is required` : `${field || 'file'}: ${issue.message}` };
    });
  });
}

/** Fills in the schema's `{step}` (`step "id"`), `{type}` and `{key}` from the step the path is in. */
function stepMessage(template: string, data: unknown, path: FieldPath, key?: string): string {
  let node = data;
  let step: Record<string, unknown> = {};
  for (const segment of path) {
    node = (node as Record<string | number, unknown> | undefined)?.[segment];
    if (typeof segment === 'number' && isPlainObject(node)) step = node;
  }
  return template
    .replace('{step}', `step ${JSON.stringify(step.id ?? null)}`)
    .replace('{type}', String(step.step_type ?? 'sequential'))
    .replace('{key}', JSON.stringify(key ?? ''));
}

/** Line and column of the YAML node at a field path, or of its nearest existing parent. */
function locateField(doc: Document, lines: LineCounter, path: FieldPath): { line?: number; col?: number } {
  let node: unknown = doc.contents;
  let found = node as Node | undefined;
  for (const segment of path) {
    node = childOf(node, segment);
    if (!node) break;
    found = node as Node;
  }
  const range = found?.range;
  if (!range) return {};
  const pos = lines.linePos(range[0]);
  return { line: pos.line, col: pos.col };
}

/** A map entry by key (compared as text: YAML may read a key `6` as a number) or a list item. */
function childOf(node: unknown, segment: string | number): unknown {
  if (isSeq(node) && typeof segment === 'number') return node.items[segment];
  if (isMap(node)) {
    const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
    return pair?.value ?? undefined;
  }
  return undefined;
}

/** `version: 1.10` is a float to YAML; keep the text as written so 1.10 stays "1.10". */
function keepVersionText(doc: Document, text: string, data: { metadata?: Record<string, unknown> }): void {
  const node = doc.getIn(['metadata', 'version'], true);
  if (data.metadata && isScalar(node) && typeof node.value === 'number' && node.range) {
    data.metadata.version = text.slice(node.range[0], node.range[1]);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
