// Durations (of retry settings, sleep and wait steps) and points in time, as written in a definition: read by
// the schema (literal values, at load time) and by the step runners (values that templates or
// expressions give, at run time). Pure and sandbox-safe: no clock, no imports.

/**
 * A duration's text: a number of seconds ("90", as a YAML number is read) or one or more parts
 * such as "90s", "2h", "1h30m", "500ms", "2d". The one grammar of every duration the language
 * accepts (retry settings, sleep, wait); the schema puts it in the JSON Schema too.
 */
export const DURATION_TEXT = /^\s*\d+(?:\.\d+)?\s*$|^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** What a duration may look like, for messages. */
export const DURATION_HELP = 'a number of seconds or text such as "90s", "2h", "1h30m", "2d"';

/** A duration in milliseconds: a number of seconds or text as DURATION_TEXT; undefined when it is neither. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  if (!DURATION_TEXT.test(value)) return undefined;
  // A number written as text ("90") is seconds, as a YAML number is.
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  let ms = 0;
  for (const [, n, unit] of value.matchAll(DURATION_PART)) ms += Number(n) * UNIT_MS[unit];
  return Math.round(ms);
}

/** RFC 3339: a date, `T` (or a space), a time and a zone (`Z` or `+02:00`). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** What a point in time may look like, for messages. */
export const TIME_HELP = 'an RFC 3339 time such as "2030-01-31T09:00:00Z" or "2030-01-31T09:00:00+01:00"';

/** An RFC 3339 time as milliseconds since the epoch; undefined when it is not one. */
export function timeMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether a string holds a template or is an expression: its value is known only when the step runs. */
export function isTemplated(value: unknown): boolean {
  return typeof value === 'string' && (value.includes('{{') || value.trimStart().startsWith('${{'));
}

/** A duration for people: "2 h", "90 s", "1 h 30 min". */
export function showDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (rest) parts.push(`${rest} s`);
  return parts.join(' ');
}
