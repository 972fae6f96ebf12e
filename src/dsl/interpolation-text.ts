// How a value reads when interpolated into a longer string (`note: {{ steps.x.outputs }}`).
// A leaf: templates.ts (in the workflow) and claims.ts (in the activity and the CLI, which put
// large values back into such strings) both use it, and claims.ts must not load CEL with templates.

/** Text form of a value interpolated into a longer string. */
export function interpolationText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
