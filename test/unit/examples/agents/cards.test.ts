// The example agents' cards: agent-cards/*.json is their one source (read at start-up), so
// each agent serves its file (but for url), Pallet's three cards are Pallet's unchanged, every
// skill the workflows call is offered once, and a card and its handlers must agree.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PALLET_ORIGINALS } from '../../../helpers/pallet';
import net from 'node:net';
import YAML from 'yaml';
import { defaultCardsDir } from '../../../../examples/agents/cards';
import { loadExampleAgents, startExampleAgents, type ExampleAgents } from '../../../../examples/agents/main';
import { getCard } from './rpc';

const ROOT = path.resolve(__dirname, '../../../..');
const EXAMPLE_AGENTS = loadExampleAgents();
const cardFile = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'agent-cards', name), 'utf8')) as { name: string; url: string; skills: unknown[] };

describe('example agents: cards', () => {
  let running: ExampleAgents;
  before(async () => {
    running = await startExampleAgents({ basePort: 0, env: {} });
  });
  after(() => running.close());

  const files: Record<string, [string, string]> = {
    'plan-agent': ['plan_agent_card.json', 'http://localhost:8001'],
    'build-agent': ['build_agent_card.json', 'http://localhost:8002'],
    'test-agent': ['test_agent_card.json', 'http://localhost:8003'],
    'analysis-agent': ['analysis_agent_card.json', 'http://localhost:8004'],
    'router-agent': ['router_agent_card.json', 'http://localhost:8005'],
  };

  it('starts the five agents in port order', () => {
    assert.deepEqual(
      running.agents.map((a) => a.name),
      ['plan-agent', 'build-agent', 'test-agent', 'analysis-agent', 'router-agent'],
    );
    assert.deepEqual(
      EXAMPLE_AGENTS.map((a) => a.defaultPort),
      [8001, 8002, 8003, 8004, 8005],
    );
    assert.equal(running.llm, null);
  });

  for (const [name, [file, url]] of Object.entries(files)) {
    it(`serves ${name}'s card equal to agent-cards/${file} except for url`, async () => {
      const agent = running.agents.find((a) => a.name === name)!;
      const served = await getCard(agent.url);
      const expected = cardFile(file);
      assert.equal(expected.url, url);
      assert.equal(served.url, agent.url);
      assert.deepEqual({ ...served, url: expected.url }, expected);
    });
  }

  it("has Pallet's own cards unchanged in agent-cards/ (when Pallet's files are at hand)", function () {
    if (!PALLET_ORIGINALS) return this.skip();
    const pallet = path.join(PALLET_ORIGINALS, 'agent-cards');
    for (const file of ['plan_agent_card.json', 'build_agent_card.json', 'test_agent_card.json']) {
      assert.deepEqual(cardFile(file), JSON.parse(readFileSync(path.join(pallet, file), 'utf8')), file);
    }
  });

  it('offers every skill the workflows call, each on exactly one agent', () => {
    const called = new Set<string>();
    const walk = (steps: unknown[]): void => {
      for (const step of steps as { skill?: string; step_type?: string; branches?: Record<string, unknown> }[]) {
        const container = step.step_type === 'parallel' || step.step_type === 'switch' || step.step_type === 'conditional';
        // Containers never call their skill; execute_workflow is a nested run in this project.
        // A skill `server.tool` is an MCP tool (the examples' MCP server's), not an agent's.
        if (step.skill && !container && step.skill !== 'execute_workflow' && !step.skill.includes('.')) called.add(step.skill);
        for (const branch of Object.values(step.branches ?? {})) if (Array.isArray(branch)) walk(branch);
      }
    };
    const dir = path.join(ROOT, 'pallet-workflows');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml')))
      walk((YAML.parse(readFileSync(path.join(dir, f), 'utf8')) as { steps: unknown[] }).steps);

    const offered = EXAMPLE_AGENTS.flatMap((a) => a.skills.map((s) => s.id));
    assert.deepEqual([...called].sort(), [
      'aggregate_results',
      'analyze_data',
      'analyze_request',
      'compile_report',
      'create_plan',
      'generate_code',
      'performance_check',
      'review_code',
      'security_scan',
      'summarize_text',
    ]);
    for (const skill of called) assert.equal(offered.filter((s) => s === skill).length, 1, skill);
    assert.equal(new Set(offered).size, offered.length);
  });
});

describe('example agents: the card files are the one source', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pallet-cards-'));
    cpSync(path.join(ROOT, 'agent-cards'), dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const edit = (file: string, change: (card: { name: string; url: string; skills: { id: string }[] }) => void) => {
    const card = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    change(card);
    writeFileSync(path.join(dir, file), JSON.stringify(card));
  };

  it('finds agent-cards/ of the checkout, from source and from lib/', () => {
    assert.equal(defaultCardsDir(), path.join(ROOT, 'agent-cards'));
    assert.equal(defaultCardsDir(path.join(ROOT, 'lib', 'examples', 'agents')), path.join(ROOT, 'agent-cards'));
  });

  it('takes names, skills and ports from the files', async () => {
    edit('router_agent_card.json', (c) => {
      c.name = 'renamed-router';
      c.url = 'http://localhost:8105';
    });
    const agents = loadExampleAgents(dir);
    assert.equal(agents[4].name, 'renamed-router');
    assert.equal(agents[4].defaultPort, 8105);
    const running = await startExampleAgents({ basePort: 0, only: ['renamed-router'], cardsDir: dir, env: {} });
    try {
      assert.equal((await getCard(running.agents[0].url)).name, 'renamed-router');
    } finally {
      await running.close();
    }
  });

  it('refuses a card that lists a skill no handler serves, a handler whose skill is not on the card, and a card without a port', () => {
    edit('plan_agent_card.json', (c) => c.skills.push({ ...c.skills[0], id: 'fly_to_moon' }));
    assert.throws(() => loadExampleAgents(dir), /plan_agent_card\.json lists skill "fly_to_moon", which plan-agent has no handler for/);
    cpSync(path.join(ROOT, 'agent-cards', 'plan_agent_card.json'), path.join(dir, 'plan_agent_card.json'));
    edit('analysis_agent_card.json', (c) => (c.skills = c.skills.filter((s) => s.id !== 'analyze_data')));
    assert.throws(() => loadExampleAgents(dir), /analysis-agent has handlers for analyze_data, which its card .*analysis_agent_card\.json does not list/);
    cpSync(path.join(ROOT, 'agent-cards', 'analysis_agent_card.json'), path.join(dir, 'analysis_agent_card.json'));
    edit('build_agent_card.json', (c) => (c.url = 'http://localhost'));
    assert.throws(() => loadExampleAgents(dir), /build_agent_card\.json: "url" must be an http URL with a port/);
    writeFileSync(path.join(dir, 'build_agent_card.json'), '{ nope');
    assert.throws(() => loadExampleAgents(dir), /cannot read agent card .*build_agent_card\.json/);
  });
});

describe('example agents: startExampleAgents', () => {
  it('starts only the agents asked for, on their fixed offsets from basePort', async () => {
    const base = await freePortRun(5);
    const running = await startExampleAgents({ basePort: base, only: ['build', 'router-agent'], env: {} });
    try {
      assert.deepEqual(running.agents, [
        { name: 'build-agent', url: `http://127.0.0.1:${base + 1}`, skills: ['generate_code'] },
        { name: 'router-agent', url: `http://127.0.0.1:${base + 4}`, skills: ['analyze_request'] },
      ]);
      assert.equal((await getCard(running.agents[1].url)).name, 'router-agent');
    } finally {
      await running.close();
    }
  });

  it('rejects unknown agent names and half-configured LLM settings', async () => {
    await assert.rejects(startExampleAgents({ basePort: 0, only: ['plan', 'nope'], env: {} }), /unknown agent\(s\) nope; known: plan-agent/);
    await assert.rejects(startExampleAgents({ basePort: 0, env: { PALLET_LLM_URL: 'http://localhost:1/v1' } }), /PALLET_LLM_MODEL is not set/);
  });

  it('closes the agents it started when a later port is taken', async () => {
    const base = await freePortRun(5);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(base + 2, '127.0.0.1', resolve));
    try {
      await assert.rejects(startExampleAgents({ basePort: base, env: {} }), /test-agent: port \d+ is already in use/);
      // plan-agent and build-agent were closed again: their ports are free.
      const again = await startExampleAgents({ basePort: base, only: ['plan', 'build'], env: {} });
      await again.close();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

/** The first port of `n` consecutive free ports (probed, so collisions are unlikely, not impossible). */
async function freePortRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const servers: net.Server[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(base + i, '127.0.0.1', resolve);
        });
        servers.push(s);
      }
      return base;
    } catch {
      // try another range
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  }
  throw new Error('no run of free ports found');
}
