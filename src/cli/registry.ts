// Registry commands: `push` definitions, `publish-agent` cards, `list` workflows, `show` one.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatProblem, parseDefinition } from '../dsl/loader';
import type { WorkflowDefinition } from '../dsl/types';
import type { PushedWorkflow } from '../schedules/publish';
import { problemJson, type LintProblemJson } from './lint';
import { agentReference, formatReference, RegistryError, type PalletRegistry } from '../registry';
import { services } from '../services';
import { a2aCardToPallet, fetchA2aCardJson, isA2aCard } from '../agents/a2a';
import { agentCardSchema, type AgentCard } from '../agents/card';
import { AgentDirectory, fetchAgentCard, sharedSkills, UrlAgentSource, type AgentEntry, type AgentSource } from '../sources/agents';
import { DirectoryStore } from '../sources/definitions';
import { RegistryAgentSource } from '../sources/registry-agents';

/** What `push` pushes without files (verbs/registry.ts says so in its help). */
const DEFAULT_DIR = 'pallet-workflows';

/** `pallet push`: exit code 1 when a file was not pushed. */
export async function pushAction(files: string[], opts: { tag?: string; json?: boolean }): Promise<void> {
  process.exitCode = (await pushCommand(files, opts)) ? 0 : 1;
}

/** `pallet publish-agent`. */
export async function publishAgentCommand(cards: string[], opts: { json?: boolean }): Promise<void> {
  const registry = services().registry;
  const pushedRepositories: string[] = [];
  const rows: PublishedCard[] = [];
  for (const source of cards) {
    // A file is pushed byte for byte; a card fetched from a running agent is pushed as served.
    const { card, text } = /^https?:\/\//.test(source) ? await servedCard(source) : await readCard(source);
    const ref = formatReference(agentReference(card.name, registry.registry), false);
    const skills = card.skills.map((s) => s.id);
    const same = await unchangedDigest(registry, ref, text);
    if (same) {
      rows.push({ source, agent: card.name, skills, status: 'unchanged', ref: `${registry.registry}/${ref}`, digest: same });
      if (!opts.json) console.log(`${source} (${card.name}) = ${registry.registry}/${ref} ${same} (unchanged)`);
      continue;
    }
    const pushed = await registry.pushAgentCard(card.name, text);
    rows.push({ source, agent: card.name, skills, status: 'pushed', ref: pushed.reference, digest: pushed.digest });
    if (!opts.json) console.log(`${source} (${card.name}, ${skills.join(', ')}) -> ${pushed.reference} ${pushed.digest}`);
    pushedRepositories.push(agentReference(card.name, registry.registry).repository);
  }
  if (opts.json) console.log(JSON.stringify(rows, null, 2));
  // Warnings only: what was pushed stays pushed, and the exit code does not change.
  if (pushedRepositories.length > 0) for (const warning of await publishedCardWarnings(pushedRepositories)) console.error(`warning: ${warning}`);
}

/** `pallet list`. */
export async function listCommand(opts: { json?: boolean }): Promise<void> {
  const registry = services().registry;
  const rows = [];
  for (const wf of await registry.listWorkflows()) {
    const parsed = wf.problem ? undefined : parseDefinition(wf.text, wf.repository);
    const meta = parsed?.ok ? parsed.definition.metadata : undefined;
    // Why a row is invalid: the artifact could not be read, or the definition's first problem.
    const problem = wf.problem ?? (parsed && !parsed.ok ? parsed.problems.map(formatProblem)[0] : undefined);
    rows.push({
      repository: wf.repository,
      id: meta?.id ?? '(invalid)',
      name: meta?.name ?? wf.repository,
      version: meta?.version ?? '',
      tags: wf.tags,
      digest: wf.digest,
      ...(problem ? { problem } : {}),
    });
  }
  if (opts.json) return console.log(JSON.stringify(rows, null, 2));
  for (const r of rows) if (r.problem) console.error(`warning: ${r.repository}${r.tags.length ? `:${r.tags.join(',')}` : ''} is invalid: ${r.problem}`);
  if (rows.length === 0) return console.log(`no workflows in registry ${registry.registry}; push some with \`npx pallet push\``);
  const table = [['ID', 'NAME', 'VERSION', 'TAGS', 'DIGEST'], ...rows.map((r) => [r.id, r.name, r.version, r.tags.join(','), r.digest.slice(0, 19)])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table)
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}

/** `pallet show`. */
export async function showCommand(ref: string, opts: { json?: boolean }): Promise<void> {
  const fetched = await services().definitions.fetch(ref);
  if (opts.json) {
    console.log(JSON.stringify({ ...fetched.source, file: fetched.file, text: fetched.text }, null, 2));
    return;
  }
  console.error(`# ${fetched.file} ${fetched.source.digest}`);
  process.stdout.write(fetched.text);
}

/** One card of `publish-agent --json`. */
interface PublishedCard {
  source: string;
  agent: string;
  skills: string[];
  status: 'pushed' | 'unchanged';
  ref: string;
  digest: string;
}

/** One file of `push --json`. */
interface PushedFile {
  file: string;
  id: string | null;
  status: 'pushed' | 'unchanged' | 'invalid' | 'unreadable';
  ref: string | null;
  digest: string | null;
  problems?: LintProblemJson[];
  error?: string;
  /** What became of its `metadata.schedule` block (docs/schedules.md). */
  schedule?: string;
}

async function pushCommand(files: string[], opts: { tag?: string; json?: boolean }): Promise<boolean> {
  const rows: PushedFile[] = [];
  const ok = await pushFiles(files, opts, rows);
  if (opts.json) console.log(JSON.stringify(rows, null, 2));
  return ok;
}

async function pushFiles(files: string[], opts: { tag?: string; json?: boolean }, rows: PushedFile[]): Promise<boolean> {
  const targets = files.length ? files : await new DirectoryStore(DEFAULT_DIR).files();
  const registry = services().registry;
  const out = (line: string) => {
    if (!opts.json) console.log(line);
  };
  let ok = true;
  for (const file of targets) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      // One unreadable file does not stop the others.
      console.error(`${file}: cannot read: ${(err as Error).message}`);
      rows.push({ file, id: null, status: 'unreadable', ref: null, digest: null, error: (err as Error).message });
      ok = false;
      continue;
    }
    const parsed = parseDefinition(text, file);
    if (!parsed.ok) {
      parsed.problems.forEach((p) => console.error(formatProblem(p)));
      console.error(`${file}: not pushed (invalid)`);
      rows.push({ file, id: null, status: 'invalid', ref: null, digest: null, problems: parsed.problems.map(problemJson) });
      ok = false;
      continue;
    }
    const id = parsed.definition.metadata.id;
    // Named after the id, so that `--workflow <id>` finds it by Pallet's rule (strip -vN).
    const name = id.replace(/-v\d+$/, '');
    const tag = opts.tag ?? /-(v\d+)$/.exec(id)?.[1] ?? 'v1';
    const same = await unchangedDigest(registry, `workflows/${name}:${tag}`, text);
    if (same) {
      rows.push({ file, id, status: 'unchanged', ref: `${registry.registry}/workflows/${name}:${tag}`, digest: same });
      out(`${file} (${id}) = ${registry.registry}/workflows/${name}:${tag} ${same} (unchanged)`);
      ok = (await pushSchedule(parsed.definition, { repository: `workflows/${name}`, tag, digest: same }, rows.at(-1)!, out)) && ok;
      continue;
    }
    const pushed = await registry.pushWorkflow(name, path.basename(file), text, tag);
    rows.push({ file, id, status: 'pushed', ref: pushed.reference, digest: pushed.digest });
    out(`${file} (${id}) -> ${pushed.reference} ${pushed.digest}`);
    ok = (await pushSchedule(parsed.definition, { repository: `workflows/${name}`, tag, digest: pushed.digest }, rows.at(-1)!, out)) && ok;
  }
  return ok;
}

/** A pushed definition's `metadata.schedule` block, created or updated as a Temporal schedule: its own line (a failure on stderr). */
async function pushSchedule(definition: WorkflowDefinition, pushed: PushedWorkflow, row: PushedFile, out: (line: string) => void): Promise<boolean> {
  if (!definition.metadata.schedule) return true;
  const done = (await (await import('../schedules/publish')).publishSchedule(definition, pushed))!;
  row.schedule = done.line.trim();
  if (done.ok) out(done.line);
  else console.error(done.line.trim());
  return done.ok;
}

/**
 * What the worker will make of the cards just pushed (their repositories), read back as the
 * directory reads them — PALLET_AGENT_URLS first, then the registry's cards by repository,
 * with PALLET_AGENT_HOSTS applied: a card it refuses, and each skill a pushed card shares with
 * an agent of another name, saying which agent the worker calls for that skill.
 */
async function publishedCardWarnings(repositories: string[]): Promise<string[]> {
  const { settings, registry } = services();
  const host = settings.registry.registry;
  const sources: AgentSource[] = [];
  if (settings.agentUrls.length > 0) sources.push(new UrlAgentSource(settings.agentUrls));
  sources.push(new RegistryAgentSource(registry, host, settings.agentHosts));
  // A directory of its own: the process's one would also log every other shared skill.
  const { agents, refused, problems } = await new AgentDirectory(sources).agents();
  const warnings: string[] = [];
  const mine = (a: AgentEntry) => !!a.repository && repositories.includes(a.repository);
  for (const repository of repositories) {
    if (agents.some((a) => a.repository === repository)) continue;
    // Not among the cards the worker uses: refused (say why), or not readable (say what failed).
    const refusal = refused.find((r) => r.repository === repository);
    const unread = problems.filter((p) => p.startsWith(`registry ${host}: `) || p.includes(`${repository}:`));
    warnings.push(...(refusal ? [refusal.problem] : unread.map((p) => `cannot check the card of ${repository}: ${p}`)));
  }
  const who = (a: AgentEntry) => `${a.card.name} at ${a.url} (${a.origin})`;
  for (const { skill, chosen, others } of sharedSkills(agents)) {
    const offering = [chosen, ...others];
    // The same name without a repository is this agent at a configured URL, which stands for its card.
    const self =
      offering.find(mine) ??
      offering.find((a) => !a.repository && agents.some((b) => mine(b) && b.card.name === a.card.name && b.card.skills.some((s) => s.id === skill)));
    if (!self) continue;
    const rest = offering.filter((a) => a !== self);
    warnings.push(
      `${who(self)} offers skill "${skill}", which ${rest.map(who).join(' and ')} already offer${rest.length === 1 ? 's' : ''}; after this push the worker calls ${who(chosen)} for it`,
    );
  }
  return warnings;
}

/** The card a running agent serves: Pallet's `/agent-card`, else its A2A card, pushed as the agent serves it. */
async function servedCard(url: string): Promise<{ card: AgentCard; text: string }> {
  try {
    const card = await fetchAgentCard(url);
    return { card, text: JSON.stringify(card, null, 2) + '\n' };
  } catch (palletError) {
    let data: unknown;
    try {
      data = await fetchA2aCardJson(url, AbortSignal.timeout(5_000));
    } catch (a2aError) {
      throw new Error(`${(palletError as Error).message}; nor as ${(a2aError as Error).message}`);
    }
    return { card: parseCardFile(url, data), text: JSON.stringify(data, null, 2) + '\n' };
  }
}

async function readCard(file: string): Promise<{ card: AgentCard; text: string }> {
  let data: unknown;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: cannot read an agent card: ${(err as Error).message}`);
  }
  return { card: parseCardFile(file, data), text };
}

/** A card file's JSON as a card (Pallet's, or an A2A card told by its shape), or an error naming the file and each wrong field. */
export function parseCardFile(file: string, data: unknown): AgentCard {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${file}: the card must be a JSON object, not ${Array.isArray(data) ? 'an array' : data === null ? 'null' : `a ${typeof data}`}`);
  }
  if (isA2aCard(data)) {
    try {
      return a2aCardToPallet(data);
    } catch (err) {
      throw new Error(`${file}: not a valid A2A agent card: ${(err as Error).message}`);
    }
  }
  const card = agentCardSchema.safeParse(data);
  if (!card.success)
    throw new Error(
      `${file}: not an agent card: ${card.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`,
    );
  return card.data;
}

/**
 * The digest at `ref` when it already holds exactly `text`. Re-pushing the same bytes would
 * still move the tag (oras stamps a creation time), so identical content is left in place.
 */
async function unchangedDigest(registry: PalletRegistry, ref: string, text: string): Promise<string | undefined> {
  try {
    const current = await registry.client.pullArtifact(ref);
    const only = current.files.length === 1 ? current.files[0] : undefined;
    return only && only.data.toString('utf8') === text ? current.digest : undefined;
  } catch (err) {
    if (err instanceof RegistryError && (err.code === 'not_found' || err.code === 'invalid_manifest')) return undefined;
    throw err;
  }
}
