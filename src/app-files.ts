// The files `pallet run` writes after a completed run (without --json): always
// `result.json` (the whole result) and `metadata.json` (which workflow ran, where, with what
// input), plus whatever an *app writer* adds. An app writer is a module named with
// `--app-writer MODULE` or PALLET_APP_WRITER that knows one workflow's results, e.g.
// examples/code-generation/app-files, which writes Pallet's plan.json, main.py and
// review.json. The engine itself knows no step ids.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult } from './dsl/types';

export interface AppWriterContext {
  /** The folder to write into (exists). */
  dir: string;
  /** What metadata.json holds. */
  metadata: Record<string, unknown>;
  /** Writes `name` (relative to `dir`) and records it as written; returns its path. */
  write(name: string, content: string): Promise<string>;
}

/**
 * An app writer: writes files for a result through `ctx.write`. A module provides it as its
 * export `writeAppFiles` or as its default export.
 */
export type AppWriter = (result: RunResult, ctx: AppWriterContext) => void | Promise<void>;

/**
 * Loads an app writer module: a path (absolute, or relative to `cwd`: when it starts with
 * `.`, contains a `/` or names a file there) or else a package name. CommonJS: compiled JavaScript, or TypeScript when
 * ts-node is registered. Called before a run starts, so a wrong name fails at once.
 */
export async function loadAppWriter(spec: string, cwd = process.cwd()): Promise<AppWriter> {
  const local = path.resolve(cwd, spec);
  const target = path.isAbsolute(spec) || spec.startsWith('.') || spec.includes('/') || existsSync(local) ? local : spec;
  let mod: { writeAppFiles?: unknown; default?: unknown };
  try {
    mod = (await import(target)) as typeof mod;
  } catch (err) {
    throw new Error(`cannot load the app writer ${spec}: ${(err as Error).message.split('\n')[0]}`);
  }
  // `export default` compiles to exports.default; `module.exports = fn` arrives as the default.
  const fallback = mod.default as { default?: unknown; writeAppFiles?: unknown } | undefined;
  const writer = [mod.writeAppFiles, mod.default, fallback?.writeAppFiles, fallback?.default].find((f) => typeof f === 'function');
  if (!writer) throw new Error(`the app writer ${spec} exports no function writeAppFiles (nor a default function)`);
  return writer as AppWriter;
}

/** Writes result.json and metadata.json, then the writer's files; returns the paths written. */
export async function writeRunFiles(result: RunResult, dir: string, meta: Record<string, unknown>, writer?: AppWriter): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, content: string) => {
    const file = path.resolve(dir, name);
    if (path.relative(dir, file).startsWith('..')) throw new Error(`the app writer may only write inside ${dir}, not ${name}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    if (!written.includes(file)) written.push(file);
    return file;
  };
  const metadata = {
    ...meta,
    workflow_id: result.workflow_id,
    workflow_name: result.workflow_name,
    workflow_version: result.workflow_version,
    initial_input: result.initial_input,
  };
  await write('metadata.json', json(metadata));
  await write('result.json', json(result));
  if (writer) await writer(result, { dir, metadata, write });
  return written;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
