// The files `pallet run` writes after a completed run (without --json), one folder per run:
// `<app dir>/<workflow id>/` holds `result.json` (the whole result) and `metadata.json` (which
// workflow ran, where, with what input), plus whatever an *app writer* adds; `<app
// dir>/latest` is a symlink to the folder written last (`latest.txt` naming it where
// symlinks cannot be made). An app writer is a module named with
// `--app-writer MODULE` or PALLET_APP_WRITER that knows one workflow's results, e.g.
// examples/code-generation/app-files, which writes Pallet's plan.json, main.py and
// review.json. The engine itself knows no step ids.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
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

/** Writes result.json and metadata.json into `dir`, then the writer's files; returns the paths written. */
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
  await write('result.json', json(result));
  await write('metadata.json', json(metadata));
  if (writer) await writer(result, { dir, metadata, write });
  return written;
}

/** The name of `latest`, and of its fallback file, in the app dir. */
export const LATEST = 'latest';
export const LATEST_FILE = 'latest.txt';

/** Where one run's files went. */
export interface RunFolder {
  /** The run's folder, `<app dir>/<folder name>`. */
  dir: string;
  /** The files written, in order. */
  files: string[];
  /** How `latest` was updated: a symlink, `latest.txt` (symlinks failed), or not at all. */
  latest: 'symlink' | 'file' | 'none';
}

/**
 * The folder name of a workflow id: the id itself when it is a plain file name, else with
 * every character other than letters, digits, `.`, `_` and `-` replaced by `_` (and a leading
 * `_` where it would be hidden, `.`/`..`, or the name of `latest`).
 */
export function runFolderName(workflowId: string): string {
  const name = workflowId.replace(/[^A-Za-z0-9._-]/g, '_');
  return !name || name.startsWith('.') || name === LATEST || name === LATEST_FILE ? `_${name}` : name;
}

/**
 * Writes a completed run's files into `<appDir>/<workflow id>/`, a fresh folder (an earlier
 * one for the same id, say from an earlier `pallet result`, is cleared first), then points
 * `<appDir>/latest` at it. With `latest: false` the pointer is left as it is.
 */
export async function writeRunFolder(
  result: RunResult,
  appDir: string,
  workflowId: string,
  meta: Record<string, unknown>,
  writer?: AppWriter,
  opts: { latest?: boolean } = {},
): Promise<RunFolder> {
  const name = runFolderName(workflowId);
  const dir = path.join(appDir, name);
  await mkdir(appDir, { recursive: true });
  await rm(dir, { recursive: true, force: true });
  const files = await writeRunFiles(result, dir, meta, writer);
  const latest = opts.latest === false ? 'none' : await pointLatest(appDir, name);
  return { dir, files, latest };
}

/**
 * Makes `<appDir>/latest` a symlink to `name` (relative, so the app dir can be moved),
 * replaced atomically: a temporary symlink renamed over the old one. Where symlinks cannot be
 * made (Windows without the right, some file systems), writes `latest.txt` holding `name`.
 */
export async function pointLatest(appDir: string, name: string): Promise<'symlink' | 'file'> {
  const link = path.join(appDir, LATEST);
  const tmp = path.join(appDir, `.${LATEST}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await symlink(name, tmp, 'dir');
  } catch {
    await replaceFile(path.join(appDir, LATEST_FILE), `${name}\n`);
    return 'file';
  }
  try {
    const existing = await lstat(link).catch(() => undefined);
    // rename() replaces a symlink or a file, never a real folder: say so rather than fail obscurely.
    if (existing?.isDirectory()) throw new Error(`${link} is a folder, not the symlink pallet keeps there; move it away`);
    await rename(tmp, link);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // A latest.txt from a time symlinks failed would now be stale.
  await rm(path.join(appDir, LATEST_FILE), { force: true });
  return 'symlink';
}

async function replaceFile(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
