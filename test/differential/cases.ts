// The differential cases (see README.md beside this file): each workflow file, its input,
// the result Pallet's own engine gave for it (expected/, made by `npm run fixtures:pallet`)
// and, for a fixed Pallet bug, the result we give instead.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { formatProblem, parseDefinition } from '../../src/dsl/loader';
import type { RunResult, WorkflowDefinition } from '../../src/dsl/types';

export const DIFFERENTIAL_DIR = __dirname;
export const CASES_DIR = path.join(DIFFERENTIAL_DIR, 'cases');
export const CHILDREN_DIR = path.join(CASES_DIR, 'children');
export const FIXED_BUGS_DIR = path.join(DIFFERENTIAL_DIR, 'fixed-bugs');
export const EXPECTED_DIR = path.join(DIFFERENTIAL_DIR, 'expected');

/** Pallet raised, loading or running the file. */
export interface PalletError {
  error: string;
  error_type: string;
}

/** Pallet ran the file: its result dict, as its orchestrator builds it. */
export type PalletResult = RunResult & {
  /** Pallet's `execute_workflow_by_id` raised after the engine finished (its CLI would fail). */
  pallet_orchestrator_error?: string;
};

export type PalletFixture = PalletError | PalletResult;

/**
 * What we give where we deliberately differ from Pallet (docs/language.md lists each):
 * either a result, or the refusal of the file by our loader (`refused`: a pattern of the
 * problem it reports).
 */
export type OurExpectation = { fix: string } & (
  { step_outputs: Record<string, { outputs: unknown }>; final_output: unknown; refused?: undefined } | { refused: string }
);

export interface DiffCase {
  name: string;
  file: string;
  text: string;
  input: Record<string, unknown>;
  pallet: PalletFixture;
  /** Only for the cases in fixed-bugs/. */
  ours?: OurExpectation;
}

export function isPalletError(fixture: PalletFixture): fixture is PalletError {
  return 'error' in fixture;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => path.join(dir, name));
}

function loadCase(file: string, fixedBug: boolean): DiffCase {
  const name = path.basename(file, '.yaml');
  const inputFile = path.join(path.dirname(file), `${name}.input.json`);
  const expectedFile = path.join(EXPECTED_DIR, `${name}.json`);
  if (!existsSync(expectedFile)) throw new Error(`${expectedFile} is missing: run \`npm run fixtures:pallet\``);
  const oursFile = path.join(path.dirname(file), `${name}.ours.json`);
  if (fixedBug && !existsSync(oursFile)) throw new Error(`${oursFile} is missing: a fixed-bug case states the result we give`);
  return {
    name,
    file,
    text: readFileSync(file, 'utf8'),
    input: existsSync(inputFile) ? readJson<Record<string, unknown>>(inputFile) : {},
    pallet: readJson<PalletFixture>(expectedFile),
    ours: fixedBug ? readJson<OurExpectation>(oursFile) : undefined,
  };
}

/** cases/*.yaml then fixed-bugs/*.yaml. */
export function loadCases(): DiffCase[] {
  return [...yamlFiles(CASES_DIR).map((f) => loadCase(f, false)), ...yamlFiles(FIXED_BUGS_DIR).map((f) => loadCase(f, true))];
}

/** The child workflows of execute_workflow, by metadata.id, loaded by our loader. */
export function loadChildren(): Map<string, WorkflowDefinition> {
  const children = new Map<string, WorkflowDefinition>();
  for (const file of yamlFiles(CHILDREN_DIR)) {
    const parsed = parseDefinition(readFileSync(file, 'utf8'), file);
    if (!parsed.ok) throw new Error(`child workflow does not load:\n${parsed.problems.map(formatProblem).join('\n')}`);
    children.set(parsed.definition.metadata.id, parsed.definition);
  }
  return children;
}

/** Every `skill` named anywhere in the cases and children (containers' included). */
export function skillsUsed(): string[] {
  const skills = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      const map = value as Record<string, unknown>;
      if (typeof map.skill === 'string') skills.add(map.skill);
      Object.values(map).forEach(walk);
    }
  };
  for (const dir of [CASES_DIR, CHILDREN_DIR, FIXED_BUGS_DIR]) {
    for (const file of yamlFiles(dir)) walk(YAML.parse(readFileSync(file, 'utf8')));
  }
  return [...skills].sort();
}

/** The part of a result the differential test compares. */
export function outcome(result: { step_outputs: unknown; final_output: unknown }): { step_outputs: unknown; final_output: unknown } {
  return { step_outputs: result.step_outputs, final_output: result.final_output };
}

/** The key order of every map in a value, one line per map: `$.a.b: k1, k2`. */
export function keyOrder(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyOrder(v, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const keys = Object.keys(value);
  return [`${at}: ${keys.join(', ')}`, ...keys.flatMap((k) => keyOrder((value as Record<string, unknown>)[k], `${at}.${k}`))];
}
