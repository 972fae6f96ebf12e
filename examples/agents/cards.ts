// The example agents' cards are the JSON files in agent-cards/ — the same files that are
// published to the registry — read when the agents start: there is no other copy. plan,
// build and test are Pallet's own cards (unchanged), analysis and router are this project's.
// An agent's default port is the port of its card's `url`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentCard, SkillCard } from './types';

/** agent-cards/ of this checkout: the nearest one above this file (examples/agents/ from source, lib/examples/agents/ compiled). */
export function defaultCardsDir(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'agent-cards');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no agent-cards/ folder above ${from}; pass cardsDir`);
  }
}

/** Reads and checks one card file: a name, a url with a port, and skills with ids and schemas. */
export function readCardFile(file: string): AgentCard {
  let card: unknown;
  try {
    card = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read agent card ${file}: ${(err as Error).message}`);
  }
  const c = card as Partial<AgentCard>;
  const bad = (why: string) => new Error(`agent card ${file}: ${why}`);
  if (typeof c?.name !== 'string' || !c.name) throw bad('"name" must be a non-empty string');
  if (typeof c.url !== 'string' || !portOf(c.url)) throw bad('"url" must be an http URL with a port, e.g. http://localhost:8001');
  if (!Array.isArray(c.skills) || c.skills.length === 0) throw bad('"skills" must be a non-empty list');
  for (const s of c.skills as Partial<SkillCard>[]) {
    if (typeof s?.id !== 'string' || !s.id) throw bad('every skill needs an "id"');
    for (const field of ['input_schema', 'output_schema'] as const) {
      if (typeof s[field] !== 'object' || s[field] === null) throw bad(`skill "${s.id}" has no ${field}`);
    }
  }
  return c as AgentCard;
}

/** The port of a card's url, or 0 when it has none. */
export function portOf(url: string): number {
  try {
    return Number(new URL(url).port) || 0;
  } catch {
    return 0;
  }
}
