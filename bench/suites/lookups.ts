// Lookups: resolving `code-generation-v1` (pinned to its digest, then pulled and checked) and
// finding the agents of its three skills in the registry's cards, as `pallet run` and the worker
// do it (src/client.ts resolveTarget, src/sources/definitions.ts, src/sources/registry-agents.ts
// over src/registry), against a process per pull as Pallet does it: the `oras` CLI (`manifest
// fetch`, `repo ls`, one `pull` into a temp folder per artifact). Both sides read and parse the
// same files with the same code; only how the bytes arrive differs.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveTarget } from '../../src/client';
import { parseDefinition } from '../../src/dsl/loader';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';
import { loadFromStore } from '../../src/sources/definitions';
import { ROOT } from '../../test/helpers/temporal';
import { orasPath, requireOras } from '../../test/helpers/registry';
import { alternate, ratio, stats } from '../stats';
import type { BenchEnv, Suite } from '../suite';

const WORKFLOW = 'code-generation-v1';
const SKILLS = ['create_plan', 'generate_code', 'review_code'];

function elapsedMs(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function servicesFor(env: BenchEnv): Services {
  return new Services(loadSettings({ PALLET_REGISTRY: `http://${env.registry}`, PALLET_DISCOVERY_TTL: '30' }), () => undefined);
}

/** Ours: pin the definition, pull and check it, find an agent for each skill. */
async function ourLookup(services: Services): Promise<void> {
  const target = await resolveTarget({ workflow: WORKFLOW }, services);
  await loadFromStore(services.definitions, target.source.ref, target.source.digest);
  const found = await Promise.all(SKILLS.map((skill) => services.agents.find(skill)));
  if (found.length !== SKILLS.length) throw new Error('an agent is missing');
}

/** Ours in a new Node process, on the compiled code (lib/) as `pallet run` runs: whole-process time. */
function ourLookupProcess(env: BenchEnv, loadOnly = false): Promise<void> {
  const lib = (p: string) => JSON.stringify(path.join(ROOT, 'lib', 'src', p));
  const script = `
    const { Services } = require(${lib('services.js')});
    const { loadSettings } = require(${lib('settings.js')});
    const { resolveTarget } = require(${lib('client.js')});
    const { loadFromStore } = require(${lib('sources/definitions.js')});
    if (!${loadOnly}) (async () => {
      const services = new Services(loadSettings({ PALLET_REGISTRY: ${JSON.stringify(`http://${env.registry}`)} }), () => undefined);
      const target = await resolveTarget({ workflow: ${JSON.stringify(WORKFLOW)} }, services);
      await loadFromStore(services.definitions, target.source.ref, target.source.digest);
      await Promise.all(${JSON.stringify(SKILLS)}.map((s) => services.agents.find(s)));
    })().catch((err) => { console.error(err.message); process.exit(1); });`;
  return run(process.execPath, ['-e', script]).then(() => undefined);
}

function run(file: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(file)} ${args[0]} failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/** `oras pull` of one artifact into a fresh temp folder: the text of its one file. */
async function orasPull(reference: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-bench-oras-'));
  try {
    await run(orasPath(), ['pull', '--plain-http', '-o', dir, reference]);
    const [file] = await readdir(dir);
    return await readFile(path.join(dir, file), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pallet's way: a process per registry request, one card after another. */
async function orasLookup(env: BenchEnv): Promise<void> {
  const repo = `${env.registry}/workflows/code-generation`;
  const digest = JSON.parse(await run(orasPath(), ['manifest', 'fetch', '--plain-http', '--descriptor', `${repo}:v1`])) as { digest: string };
  const parsed = parseDefinition(await orasPull(`${repo}@${digest.digest}`), 'code-generation.yaml');
  if (!parsed.ok) throw new Error('oras pulled an invalid definition');
  const agents = (await run(orasPath(), ['repo', 'ls', '--plain-http', env.registry])).split('\n').filter((r) => r.startsWith('agents/'));
  const skills = new Set<string>();
  for (const agent of agents) {
    const card = JSON.parse(await orasPull(`${env.registry}/${agent}:v1`)) as { skills: { id: string }[] };
    for (const s of card.skills) skills.add(s.id);
  }
  if (!SKILLS.every((s) => skills.has(s))) throw new Error(`oras found no agent for some of ${SKILLS.join(', ')}`);
}

export const lookups: Suite = {
  name: 'lookups',
  description: `${WORKFLOW}: resolve the definition and find its three agents, cold and warm, ours against oras (a process per pull)`,
  async run(env, report) {
    requireOras();
    const times = env.quick ? 3 : 9;
    const row = (kase: string, m: Awaited<ReturnType<typeof alternate>>, note: string) =>
      report({
        suite: 'lookups',
        case: kase,
        unit: 'ms',
        ours: m.ours,
        reference: m.reference,
        referenceName: 'oras CLI',
        ratio: ratio(m.ours, m.reference),
        note,
      });
    // A first pass of each, not measured: files in the page cache, the registry's too.
    await ourLookupProcess(env);
    await orasLookup(env);

    const timed = (fn: () => Promise<void>) => async () => {
      const started = process.hrtime.bigint();
      await fn();
      return elapsedMs(started);
    };
    row(
      'cold: new process',
      await alternate(
        times,
        timed(() => ourLookupProcess(env)),
        timed(() => orasLookup(env)),
      ),
      'ours: a new `node` loading lib/ (as `pallet run` does) per lookup; oras: its processes, one per request',
    );
    row(
      'cold: new client, same process',
      await alternate(
        times,
        timed(async () => {
          const services = servicesFor(env);
          await ourLookup(services);
          await services.close();
        }),
        timed(() => orasLookup(env)),
      ),
      "ours: new Services (registry client, agent directory) in the bench's process (Node may keep its connections alive)",
    );
    // How much of the new process is Node starting and loading those modules, not looking up.
    const loading: number[] = [];
    for (let i = 0; i < times; i++) loading.push(await timed(() => ourLookupProcess(env, true))());
    report({
      suite: 'lookups',
      case: 'cold: new process, loading only (no lookup)',
      unit: 'ms',
      ours: stats(loading),
      note: 'the same `node -e` requiring the same lib/ modules, then exiting',
    });

    const warm = servicesFor(env);
    await ourLookup(warm);
    row(
      'warm: second lookup, same process',
      await alternate(
        times,
        timed(() => ourLookup(warm)),
        timed(() => orasLookup(env)),
      ),
      'ours: the same Services again (the definition pulled again, the skill index cached for PALLET_DISCOVERY_TTL); oras has nothing to keep: every lookup is new processes',
    );
    await warm.close();
  },
};

export default lookups;
