// CEL's `matches`, with the RE2 semantics the CEL spec gives it: linear time in the text,
// whatever the pattern, so no pattern stalls a workflow task (JavaScript's RegExp backtracks:
// `^(a+)+$` over 100 KB of "a"s never ends). re2js is a pure-JavaScript port of RE2 with no
// Node API, clock or randomness: sandbox code, like the rest of the expression language.
import { RE2JS } from 're2js';

/** A compiled pattern and its size (instructions of its program), or why RE2 refuses it (one line). */
export type CompiledPattern = { ok: true; re: RE2JS; size: number } | { ok: false; reason: string };

const CACHE_LIMIT = 200;
const cache = new Map<string, CompiledPattern>();

/** Compiles a pattern once; the answer is cached (bounded: which entries stay never changes a result). */
export function compilePattern(pattern: string): CompiledPattern {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let compiled: CompiledPattern;
  try {
    const re = RE2JS.compile(pattern);
    compiled = { ok: true, re, size: (re.re2().prog as { numInst(): number }).numInst() };
  } catch (err) {
    compiled = { ok: false, reason: patternProblem(pattern, err) };
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** The message for a pattern RE2 cannot compile: the pattern, RE2's reason, and what RE2 lacks. */
function patternProblem(pattern: string, err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const reason = raw.replace(/^error parsing regexp: /, '');
  const shown = JSON.stringify(pattern.length > 100 ? `${pattern.slice(0, 99)}…` : pattern);
  return `invalid regular expression ${shown}: ${reason} (matches uses RE2 syntax: no backreferences or lookaround)`;
}
