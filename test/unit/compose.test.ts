// docker-compose.yml and the Dockerfile, checked without Docker: the services are there,
// the published ports are the code's defaults, the worker is pointed at the compose
// services, dependencies exist, images are pinned, and the commands name real CLI
// subcommands and files.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadExampleAgents } from '../../examples/agents/main';
import { buildProgram } from '../../src/cli';
import { loadSettings } from '../../src/settings';
import { registryFromEnv } from '../../src/registry';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE_AGENTS = loadExampleAgents();

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: unknown;
  env_file?: string | string[];
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// Compose interpolates `${NAME}` from the `.env` beside the file (a link to deploy/cluster.env, which
// `npm run cluster` reads too), and `env_file: deploy/cluster.env` adds those variables to a service.
const clusterEnv: Record<string, string> = Object.fromEntries(
  readFileSync(path.join(ROOT, 'deploy', 'cluster.env'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8').replace(/(?<!\$)\$\{([A-Z_]+)\}/g, (_, name: string) => {
  assert.ok(name in clusterEnv, `docker-compose.yml uses \${${name}}, which deploy/cluster.env does not define`);
  return clusterEnv[name];
});
// Compose files use YAML merge keys (`<<: *anchor`), which the yaml package applies with `merge`.
const compose = YAML.parse(composeText, { merge: true }) as ComposeFile;
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

function service(name: string): Service {
  const svc = compose.services[name];
  assert.ok(svc, `docker-compose.yml has a service "${name}" (has: ${Object.keys(compose.services).join(', ')})`);
  return svc;
}

function env(svc: Service): Record<string, string> {
  const fromFile = svc.env_file ? clusterEnv : {};
  if (Array.isArray(svc.environment)) {
    return { ...fromFile, ...Object.fromEntries(svc.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) };
  }
  return { ...fromFile, ...Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)])) };
}

/** Published (host) port -> container port, from short ("8233:8080", "127.0.0.1:5000:5000", ranges) or long syntax. */
function publishedPorts(svc: Service): Map<number, number> {
  const map = new Map<number, number>();
  for (const p of svc.ports ?? []) {
    if (typeof p === 'object') {
      if (p.published !== undefined) map.set(Number(p.published), p.target);
      continue;
    }
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    if (parts.length < 2) continue; // container port only: published on a random host port
    const [host, target] = parts.slice(-2).map((r) => r.split('-').map(Number));
    for (let i = 0; i <= (host[1] ?? host[0]) - host[0]; i++) map.set(host[0] + i, target[0] + i);
  }
  return map;
}

function commandOf(svc: Service): string[] {
  const cmd = svc.command ?? [];
  return Array.isArray(cmd) ? cmd : cmd.split(/\s+/);
}

function dependsOn(svc: Service): Record<string, string | undefined> {
  const d = svc.depends_on ?? [];
  return Array.isArray(d) ? Object.fromEntries(d.map((n) => [n, undefined])) : Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v?.condition]));
}

/** The `pallet ...` arguments of a service that runs `node bin/pallet.js ...`, directly or through `sh -c`. */
function palletInvocations(svc: Service): string[][] {
  const cmd = commandOf(svc);
  const script = cmd[0] === 'sh' && cmd[1] === '-c' ? cmd.slice(2).join(' ') : cmd.join(' ');
  return script
    .split(/&&|;|\|\|/)
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words[0] === 'node' && words[1] === 'bin/pallet.js')
    .map((words) => words.slice(2));
}

function portOf(hostPort: string): number {
  return Number(new URL(`http://${hostPort}`).port);
}

function hostOf(address: string): string {
  return new URL(/^[a-z]+:\/\//.test(address) ? address : `http://${address}`).hostname;
}

const pallet = (name: string) => Object.values(compose.services).filter((s) => palletInvocations(s).some((args) => args[0] === name));

describe('docker-compose.yml and Dockerfile (static checks; no Docker engine needed)', () => {
  // The defaults the code uses when nothing is configured.
  const defaults = loadSettings({ TEMPORAL_CONFIG_FILE: path.join(ROOT, 'no-such-temporal.toml') });
  const temporalDefault = defaults.temporal;
  const registryDefault = registryFromEnv({}).registry;

  it('has the services: database, Temporal (+ its setup jobs), Web UI, registry, agents, worker', () => {
    for (const name of ['postgresql', 'temporal', 'ui', 'registry', 'agents', 'worker']) service(name);
    assert.match(service('postgresql').image ?? '', /^postgres:/);
    assert.match(service('temporal').image ?? '', /^temporalio\/(server|auto-setup):/);
    assert.match(service('ui').image ?? '', /^temporalio\/ui:/);
    assert.match(service('registry').image ?? '', /^registry:2(\.|$)/);
    assert.equal(env(service('temporal')).DB, 'postgres12', 'Temporal persists to PostgreSQL');
    assert.equal(env(service('temporal')).POSTGRES_SEEDS, 'postgresql');
  });

  it("publishes the code's default ports: Temporal, Web UI, registry, agents 8001-8005", () => {
    const temporalPort = portOf(temporalDefault.connection.address ?? '');
    assert.equal(temporalPort, 7233);
    assert.equal(publishedPorts(service('temporal')).get(temporalPort), 7233);

    const uiPort = Number(new URL(defaults.uiUrl).port);
    assert.equal(uiPort, 8233);
    assert.equal(publishedPorts(service('ui')).get(uiPort), 8080, 'temporalio/ui listens on 8080 in the container');

    const registryPort = portOf(registryDefault);
    assert.equal(registryPort, 5000);
    assert.equal(publishedPorts(service('registry')).get(registryPort), 5000);

    const agentPorts = EXAMPLE_AGENTS.map((a) => a.defaultPort);
    assert.deepEqual(agentPorts, [8001, 8002, 8003, 8004, 8005]);
    const published = publishedPorts(service('agents'));
    for (const port of agentPorts) assert.equal(published.get(port), port, `agents publish ${port}`);
  });

  it('runs the agents on all interfaces and the worker with the default task queue', () => {
    const [agentsArgs] = palletInvocations(service('agents'));
    assert.deepEqual(agentsArgs?.slice(0, 1), ['agents']);
    assert.equal(agentsArgs[agentsArgs.indexOf('--host') + 1], '0.0.0.0', 'agents listen on 0.0.0.0 so other containers reach them');
    assert.deepEqual(palletInvocations(service('worker')), [['worker']]);
    assert.equal(env(service('worker')).PALLET_TASK_QUEUE ?? defaults.taskQueue, defaults.taskQueue);
  });

  it("points the worker's environment at the compose services", () => {
    const w = env(service('worker'));
    const services = Object.keys(compose.services);

    assert.ok(w.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS is set');
    assert.equal(hostOf(w.TEMPORAL_ADDRESS), 'temporal');
    assert.equal(portOf(w.TEMPORAL_ADDRESS), 7233);
    assert.equal(w.TEMPORAL_NAMESPACE ?? temporalDefault.namespace, 'default');

    const registry = registryFromEnv(w);
    assert.equal(hostOf(registry.registry), 'registry');
    assert.ok(services.includes(hostOf(registry.registry)));
    assert.equal(registry.plainHttp, true, 'the compose registry speaks plain HTTP');

    // Cards in the registry say http://localhost:800N; the worker reaches the agents by service name.
    const urls = loadSettings(w).agentUrls;
    assert.deepEqual(
      urls.map((u) => new URL(u).host),
      EXAMPLE_AGENTS.map((a) => `agents:${a.defaultPort}`),
    );
    assert.equal(loadSettings(w).registryDiscovery, true, 'registry discovery stays on; PALLET_AGENT_URLS come first');
    assert.equal(loadSettings(w).uiUrl, defaults.uiUrl, "run links point at the host's Web UI port");

    const ui = env(service('ui'));
    assert.equal(hostOf(ui.TEMPORAL_ADDRESS), 'temporal');
  });

  it('publishes the agent cards and workflows to the compose registry before the worker starts', () => {
    const [publisher, ...others] = pallet('publish-agent');
    assert.ok(publisher && others.length === 0, 'one service runs `pallet publish-agent`');
    assert.ok(pallet('push').includes(publisher), 'the same service runs `pallet push`');
    assert.equal(hostOf(registryFromEnv(env(publisher)).registry), 'registry');
    assert.equal(registryFromEnv(env(publisher)).plainHttp, true);
    const name = Object.entries(compose.services).find(([, s]) => s === publisher)?.[0] ?? '';
    assert.equal(dependsOn(service('worker'))[name], 'service_completed_successfully');
  });

  it('depends only on services that exist, with conditions the targets can satisfy', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [target, condition] of Object.entries(dependsOn(svc))) {
        assert.ok(compose.services[target], `${name} depends on ${target}, which is not a service`);
        if (condition === 'service_healthy')
          assert.ok(compose.services[target].healthcheck, `${name} waits for ${target} to be healthy, but ${target} has no healthcheck`);
        if (condition) assert.match(condition, /^service_(started|healthy|completed_successfully)$/);
      }
    }
    const worker = dependsOn(service('worker'));
    assert.ok(Object.keys(worker).includes('agents'), 'the worker waits for the agents');
    const temporalChain = (name: string, seen = new Set<string>()): Set<string> => {
      for (const t of Object.keys(dependsOn(service(name)))) if (!seen.has(t)) temporalChain(t, seen.add(t));
      return seen;
    };
    assert.ok(temporalChain('worker').has('temporal'), 'the worker (transitively) waits for Temporal');
    assert.ok(temporalChain('temporal').has('postgresql'), 'Temporal waits for its database');
  });

  it('pins every image (no `latest`, no missing tag) and builds the Pallet services from the Dockerfile', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.build !== undefined) {
        assert.ok(svc.build === '.' || (svc.build as { context?: string }).context === '.', `${name} builds from the repo root`);
        continue;
      }
      const image = svc.image ?? '';
      const tag = /^[^@]+:([^/:@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      assert.ok(tag, `${name}: image "${image}" has a tag`);
      assert.notEqual(tag, 'latest', `${name}: image "${image}" is pinned`);
    }
    for (const name of ['agents', 'worker']) assert.ok(service(name).build !== undefined, `${name} is built from the Dockerfile`);
  });

  it('gives the Temporal server the dynamic-config file it needs to start, from this repository', () => {
    const temporal = service('temporal');
    const file = env(temporal).DYNAMIC_CONFIG_FILE_PATH;
    assert.ok(file, 'DYNAMIC_CONFIG_FILE_PATH is set (without it the server exits at start)');
    const mount = ((temporal as Service & { volumes?: string[] }).volumes ?? [])
      .map((v) => v.split(':'))
      .find(([, target]) => path.posix.join('/etc/temporal', file).startsWith(target));
    assert.ok(mount, `a volume provides ${file}`);
    const [source, target] = mount;
    assert.ok(existsSync(path.join(ROOT, source, path.posix.relative(target, path.posix.join('/etc/temporal', file)))), `${source} holds the file`);
  });

  it('runs only CLI subcommands and options that exist, on files that exist', () => {
    const program = buildProgram();
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const args of palletInvocations(svc)) {
        const sub = program.commands.find((c) => c.name() === args[0]);
        assert.ok(sub, `${name} runs \`pallet ${args[0]}\`, which is not a command`);
        for (const opt of args.filter((a) => a.startsWith('--'))) {
          assert.ok(
            sub.options.some((o) => o.long === opt),
            `${name}: \`pallet ${args[0]}\` has no option ${opt}`,
          );
        }
        for (const file of args.slice(1).filter((a) => /[/*]/.test(a))) {
          const dir = path.join(ROOT, path.dirname(file));
          assert.ok(existsSync(dir), `${name}: ${file} refers to ${dir}, which is missing`);
        }
      }
    }
  });

  it('Dockerfile: node:20 slim base, npm ci + build, non-root, default command runs bin/pallet.js', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length > 0 && froms.every((f) => /^node:20[.\d]*-slim$/.test(f)), `base images: ${froms.join(', ')}`);
    assert.match(dockerfile, /^RUN npm ci\b/m);
    assert.match(dockerfile, /npm run build/);
    const user = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `the image runs as a non-root user (USER ${user})`);

    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
    assert.ok(cmd, 'the Dockerfile has an exec-form CMD');
    const argv = JSON.parse(cmd) as string[];
    assert.deepEqual(argv.slice(0, 2), ['node', 'bin/pallet.js']);
    assert.ok(existsSync(path.join(ROOT, 'bin', 'pallet.js')), 'bin/pallet.js exists');
    assert.ok(
      buildProgram().commands.some((c) => c.name() === argv[2]),
      `pallet ${argv[2]} is a command`,
    );

    // Everything the runtime needs is copied in, and nothing the build needs is ignored.
    for (const needed of ['bin', 'pallet-workflows', 'agent-cards', 'src', 'examples', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      assert.match(dockerfile, new RegExp(`^COPY .*\\b${needed.replace('.', '\\.')}\\b`, 'm'), `the Dockerfile copies ${needed}`);
      assert.ok(existsSync(path.join(ROOT, needed)), `${needed} exists`);
    }
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'lib', '.tools', '.pallet'])
      assert.ok(ignored.includes(entry), `.dockerignore keeps ${entry} out of the build context`);
    for (const needed of ['bin', 'src', 'examples', 'pallet-workflows', 'agent-cards', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      assert.ok(!ignored.includes(needed), `.dockerignore must not exclude ${needed}`);
    }
  });
});
