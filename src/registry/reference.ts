// References to artifacts in an OCI registry, in the syntax `docker`/`oras` use:
// `[host[:port]/]repo/path[:tag][@sha256:<hex>]`, plus Pallet's short workflow ids.
//
// Unlike Docker there is no Docker Hub normalisation: a reference without a host is on
// the default registry (PALLET_REGISTRY), never `docker.io/library/…`.
import { RegistryError } from './errors';

export interface Reference {
  /** `host[:port]`, e.g. `localhost:5000` or `ghcr.io`. */
  registry: string;
  /** Repository path, e.g. `workflows/code-generation`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`; when set it wins over the tag for pulls. */
  digest?: string;
}

// Grammar from the OCI distribution spec.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Pallet's tag for everything it pushes, and the tag discovery prefers. */
export const DEFAULT_PALLET_TAG = 'v1';

function invalid(ref: string, why: string): RegistryError {
  return new RegistryError(`invalid registry reference "${ref}": ${why}`, 'invalid_reference', ref);
}

/** Whether the first path component names a registry host (Docker's rule). */
function splitHost(ref: string): { host?: string; rest: string } {
  const slash = ref.indexOf('/');
  if (slash < 0) return { rest: ref };
  const first = ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
    return { host: first.toLowerCase(), rest: ref.slice(slash + 1) };
  }
  return { rest: ref };
}

export function hasRegistryHost(ref: string): boolean {
  return splitHost(ref.trim()).host !== undefined;
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/**
 * Parses `host:port/repo/path:tag`, `repo:tag`, `repo@sha256:…`, `repo:tag@sha256:…` or
 * `repo`. The tag defaults to `latest` (as with oras and docker) only when there is no digest.
 */
export function parseReference(ref: string, defaultRegistry: string): Reference {
  const input = ref.trim();
  if (!input) throw invalid(ref, 'it is empty');
  if (input.includes('://')) throw invalid(ref, 'leave out the scheme (use PALLET_REGISTRY_PLAIN_HTTP=1 for plain HTTP)');

  const at = input.indexOf('@');
  const digest = at >= 0 ? input.slice(at + 1) : undefined;
  const named = at >= 0 ? input.slice(0, at) : input;
  if (digest !== undefined && !DIGEST.test(digest)) throw invalid(ref, `"${digest}" is not a sha256:<64 hex> digest`);

  const { host, rest } = splitHost(named);
  const colon = rest.lastIndexOf(':');
  const repository = colon >= 0 ? rest.slice(0, colon) : rest;
  const tag = colon >= 0 ? rest.slice(colon + 1) : undefined;

  if (!repository) throw invalid(ref, 'the repository name is missing');
  for (const part of repository.split('/')) {
    if (!COMPONENT.test(part))
      throw invalid(ref, `"${repository}" is not a valid repository name (lowercase letters, digits, '.', '_', '-', separated by '/')`);
  }
  if (tag !== undefined && !TAG.test(tag)) throw invalid(ref, `"${tag}" is not a valid tag`);

  const registry = host ?? defaultRegistry;
  if (!registry) throw invalid(ref, 'no registry host given and no default registry');
  const effectiveTag = tag ?? (digest ? undefined : 'latest');
  return { registry, repository, ...(effectiveTag ? { tag: effectiveTag } : {}), ...(digest ? { digest } : {}) };
}

/** `host/repo:tag@digest`; `withRegistry: false` leaves out the host (for messages). */
export function formatReference(ref: Reference, withRegistry = true): string {
  const name = withRegistry && ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * Where a workflow lives, following Pallet's rule:
 * - `code-generation-v1` → `workflows/code-generation:v1` (a trailing `-vN` becomes tag `vN`);
 * - `code-generation` (no `-vN`) → `workflows/code-generation:v1`. Pallet pushes everything as
 *   `:v1` and nothing as `:latest`, so `v1` is the tag that exists; an explicit `:latest` still works;
 * - `code-generation:v2` → `workflows/code-generation:v2`; `code-generation@sha256:…` → pinned;
 * - a reference starting with `workflows/` or with a registry host is a full reference and is
 *   taken as is, with OCI's defaults (no tag → `latest`), so it means what it means to `oras`.
 * Other paths (`team/flow`) are put under `workflows/` too.
 */
export function workflowReference(idOrRef: string, defaultRegistry: string): Reference {
  const input = idOrRef.trim();
  if (hasRegistryHost(input) || input.startsWith('workflows/')) return parseReference(input, defaultRegistry);
  if (input.includes('@') || input.includes(':')) return parseReference(`workflows/${input}`, defaultRegistry);
  const versioned = /^(.+)-(v\d+)$/.exec(input);
  const [name, tag] = versioned ? [versioned[1], versioned[2]] : [input, DEFAULT_PALLET_TAG];
  return parseReference(`workflows/${name}:${tag}`, defaultRegistry);
}

/** Pallet's short agent name: the card's `name` without a trailing `-agent` (`plan-agent` → `plan`). */
export function agentShortName(name: string): string {
  return name.trim().replace(/-agent$/, '');
}

/** Where an agent card lives: `agents/<agent>:v1` (`plan` or `plan-agent` → `agents/plan:v1`). */
export function agentReference(name: string, registry: string, tag = DEFAULT_PALLET_TAG): Reference {
  return parseReference(`agents/${agentShortName(name)}:${tag}`, registry);
}
