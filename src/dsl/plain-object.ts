// A leaf module (no imports): the one test for "a map" that the schema, the checks, the
// templates and the CLI share.

/** A map (not null, not a list): what JSON and YAML objects become. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
