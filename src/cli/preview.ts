// A value as one short line of the CLI's output.

/** A value's JSON, cut after 160 characters. */
export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
}
