// A command-line option that holds a JSON object (`--input`): parsed, or refused naming the option.
import { isPlainObject } from '../dsl/plain-object';

export function jsonObjectOption(text: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new Error(`${name} must be a JSON object`);
  return parsed;
}
