// Registry commands: `push` definitions, `publish-agent` cards, `list` workflows, `show` one.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatProblem, parseDefinition } from '../dsl/loader';
import { agentReference, formatReference, RegistryError, type PalletRegistry } from '../registry';
import { services } from '../services';
import { AgentDirectory, agentCardSchema, fetchAgentCard, sharedSkills, UrlAgentSource, type AgentCard, type AgentEntry, type AgentSource } from '../sources/agents';
import { DirectoryStore } from '../sources/definitions';
import { RegistryAgentSource } from '../sources/registry-agents';

const DEFAULT_DIR = 'pallet-workflows';

export function registerRegistryCommands(program: Command): void {
  program
    .command('push')
    .description(`validate and push definitions to the registry as workflows/<name>:<tag> (default: all of ${DEFAULT_DIR}/)`)
    .argument('[files...]')
    .option('-t, --tag <tag>', 'tag to push (default: the -vN suffix of the workflow id, else v1)')
    .action(async (files: string[], opts: { tag?: string }) => {
      process.exitCode = (await pushCommand(files, opts)) ? 0 : 1;
    });

  program
    .command('publish-agent')
    .description("push agent cards to the registry as agents/<agent>:v1: card JSON files, or agent URLs whose /agent-card is published")
    .argument('<cards...>', 'agent card JSON files or agent base URLs')
    .action(async (cards: string[]) => {
      const registry = services().registry;
      const pushedRepositories: string[] = [];
      for (const source of cards) {
        // A file is pushed byte for byte; a card fetched from a running agent is pushed as served.
        const { card, text } = /^https?:\/\//.test(source) ? await servedCard(source) : await readCard(source);
        const ref = formatReference(agentReference(card.name, registry.registry), false);
        const same = await unchangedDigest(registry, ref, text);
        if (same) {
          console.log(`${source} (${card.name}) = ${registry.registry}/${ref} ${same} (unchanged)`);
          continue;
        }
        const pushed = await registry.pushAgentCard(card.name, text);
        console.log(`${source} (${card.name}, ${card.skills.map((s) => s.id).join(', ')}) -> ${pushed.reference} ${pushed.digest}`);
        pushedRepositories.push(agentReference(card.name, registry.registry).repository);
      }
      // Warnings only: what was pushed stays pushed, and the exit code does not change.
      if (pushedRepositories.length > 0) for (const warning of await publishedCardWarnings(pushedRepositories)) console.error(`warning: ${warning}`);
    });

  program
    .command('list')
    .description("list the registry's workflows: id, name, version, tags, digest")
    .option('--json')
    .action(async (opts: { json?: boolean }) => {
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
      for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
    });

  program
    .command('show')
    .description('print a stored definition (id, name:tag or name@sha256:...)')
    .argument('<ref>')
    .action(async (ref: string) => {
      const fetched = await services().definitions.fetch(ref);
      console.error(`# ${fetched.file} ${fetched.source.digest}`);
      process.stdout.write(fetched.text);
    });
}

async function pushCommand(files: string[], opts: { tag?: string }): Promise<boolean> {
  const targets = files.length ? files : (await new DirectoryStore(DEFAULT_DIR).files());
  const registry = services().registry;
  let ok = true;
  for (const file of targets) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      // One unreadable file does not stop the others.
      console.error(`${file}: cannot read: ${(err as Error).message}`);
      ok = false;
      continue;
    }
    const parsed = parseDefinition(text, file);
    if (!parsed.ok) {
      parsed.problems.forEach((p) => console.error(formatProblem(p)));
      console.error(`${file}: not pushed (invalid)`);
      ok = false;
      continue;
    }
    const id = parsed.definition.metadata.id;
    // Named after the id, so that `--workflow <id>` finds it by Pallet's rule (strip -vN).
    const name = id.replace(/-v\d+$/, '');
    const tag = opts.tag ?? /-(v\d+)$/.exec(id)?.[1] ?? 'v1';
    const same = await unchangedDigest(registry, `workflows/${name}:${tag}`, text);
    if (same) {
      console.log(`${file} (${id}) = ${registry.registry}/workflows/${name}:${tag} ${same} (unchanged)`);
      continue;
    }
    const pushed = await registry.pushWorkflow(name, path.basename(file), text, tag);
    console.log(`${file} (${id}) -> ${pushed.reference} ${pushed.digest}`);
  }
  return ok;
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
      offering.find(mine) ?? offering.find((a) => !a.repository && agents.some((b) => mine(b) && b.card.name === a.card.name && b.card.skills.some((s) => s.id === skill)));
    if (!self) continue;
    const rest = offering.filter((a) => a !== self);
    warnings.push(`${who(self)} offers skill "${skill}", which ${rest.map(who).join(' and ')} already offer${rest.length === 1 ? 's' : ''}; after this push the worker calls ${who(chosen)} for it`);
  }
  return warnings;
}

async function servedCard(url: string): Promise<{ card: AgentCard; text: string }> {
  const card = await fetchAgentCard(url);
  return { card, text: JSON.stringify(card, null, 2) + '\n' };
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
  const card = agentCardSchema.safeParse(data);
  if (!card.success) throw new Error(`${file}: not an agent card: ${card.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { card: card.data, text };
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
