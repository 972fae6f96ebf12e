// Where definitions come from: a local folder of YAML files, or the OCI registry. Both
// return the exact text and its digest, so a run records what it executed.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { parseDefinition, sha256Digest, YAML_OPTIONS, type LintProblem } from '../dsl/loader';
import type { DefinitionSource, WorkflowDefinition } from '../dsl/types';
import { RegistryError, workflowReference, formatReference, type PalletRegistry } from '../registry';

export interface FetchedDefinition {
  text: string;
  /** Shown in error messages: the file path or the registry reference. */
  file: string;
  source: DefinitionSource;
}

export interface DefinitionStore {
  describe(): string;
  fetch(ref: string, digest?: string): Promise<FetchedDefinition>;
}

/** The definition was not found (unknown id, missing tag): retrying will not help. */
export class DefinitionNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionNotFoundError';
  }
}

/** The definition was found but is not valid: carries every lint problem. */
export class InvalidDefinitionError extends Error {
  constructor(
    readonly ref: string,
    readonly problems: LintProblem[],
  ) {
    super(`definition ${ref} is invalid:\n${problems.map((p) => `  ${p.file}${p.line ? `:${p.line}:${p.col ?? 1}` : ''}: ${p.message}`).join('\n')}`);
    this.name = 'InvalidDefinitionError';
  }
}

/** Fetches and checks a definition, optionally requiring an exact digest. */
export async function loadFromStore(
  store: DefinitionStore,
  ref: string,
  digest?: string,
): Promise<{ definition: WorkflowDefinition; source: DefinitionSource; text: string }> {
  const fetched = await store.fetch(ref, digest);
  const parsed = parseDefinition(fetched.text, fetched.file);
  if (!parsed.ok) throw new InvalidDefinitionError(ref, parsed.problems);
  return { definition: parsed.definition, source: fetched.source, text: fetched.text };
}

/**
 * A folder of definition files. A reference is a workflow id (`metadata.id`, e.g.
 * `code-generation-v1`) or a file name with or without `.yaml`.
 */
export class DirectoryStore implements DefinitionStore {
  constructor(readonly dir: string) {}

  describe(): string {
    return `folder ${this.dir}`;
  }

  async fetch(ref: string, digest?: string): Promise<FetchedDefinition> {
    const files = await this.files();
    const byName = files.find((f) => [path.basename(f), path.basename(f).replace(/\.ya?ml$/, '')].includes(ref));
    const candidates = byName ? [byName] : files;
    for (const file of candidates) {
      const text = await readFile(file, 'utf8');
      if (!byName && definitionId(text) !== ref) continue;
      const actual = sha256Digest(text);
      if (digest && digest !== actual) {
        throw new DefinitionNotFoundError(
          `workflow ${ref} in ${this.describe()} has digest ${actual}, not the pinned ${digest} (the file changed since the run started)`,
        );
      }
      return { text, file, source: { ref, digest: actual } };
    }
    const known = (await Promise.all(files.map(async (f) => definitionId(await readFile(f, 'utf8'))))).filter(Boolean);
    throw new DefinitionNotFoundError(`no workflow "${ref}" in ${this.describe()} (known: ${known.join(', ') || 'none'})`);
  }

  /** Every `*.yaml` / `*.yml` file in the folder. */
  async files(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      throw new DefinitionNotFoundError(`cannot read workflow folder ${this.dir}: ${(err as Error).message}`);
    }
    return names
      .filter((n) => /\.ya?ml$/.test(n))
      .sort()
      .map((n) => path.join(this.dir, n));
  }
}

/** `metadata.id` of a YAML text, read leniently: an invalid file still gets its lint report later. */
function definitionId(text: string): string | undefined {
  try {
    const id = (YAML.parse(text, YAML_OPTIONS) as { metadata?: { id?: unknown } } | null)?.metadata?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The OCI registry, in Pallet's layout: `workflows/<name>:<tag>`. */
export class RegistryStore implements DefinitionStore {
  constructor(
    private readonly registry: PalletRegistry,
    private readonly registryHost: string,
  ) {}

  describe(): string {
    return `registry ${this.registryHost}`;
  }

  async fetch(ref: string, digest?: string): Promise<FetchedDefinition> {
    const parsed = workflowReference(ref, this.registryHost);
    const pinned = digest ? { ...parsed, tag: undefined, digest } : parsed;
    const display = formatReference(pinned);
    try {
      const pulled = await this.registry.pullWorkflow(display);
      return {
        text: pulled.text,
        file: `${formatReference(parsed)} (${pulled.fileName})`,
        source: { ref, digest: pulled.digest, repository: pulled.repository, tag: parsed.tag },
      };
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'not_found') {
        throw new DefinitionNotFoundError(`workflow ${ref} not found in ${this.describe()}: ${err.message}`);
      }
      throw err;
    }
  }
}
