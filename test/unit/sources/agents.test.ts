// Which agent a skill goes to: configured URLs first, in their order, then the registry's
// cards by repository name, whatever order the cards arrive in; and the report of a skill
// that agents of different names offer.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PalletRegistry } from '../../../src/registry';
import { AgentDirectory, sharedSkills, UrlAgentSource, type AgentEntry, type AgentSource } from '../../../src/sources/agents';
import { RegistryAgentSource } from '../../../src/sources/registry-agents';

const card = (name: string, skills: string[], url = `http://${name}:1`) => ({ name, url, skills: skills.map((id) => ({ id })) });
const entry = (name: string, skills: string[], origin: string, url = `http://${name}:1`): AgentEntry => ({ url, card: card(name, skills, url), origin });

/** A source whose load resolves after `delayMs`, to make arrival order differ from source order. */
function source(agents: AgentEntry[], delayMs = 0, problems: string[] = []): AgentSource {
  return { describe: () => 'test', load: () => new Promise((resolve) => setTimeout(() => resolve({ agents, problems }), delayMs)) };
}

/** A registry whose catalog lists the cards in the order given (not sorted). */
function registry(cards: { repository: string; card: unknown }[]): PalletRegistry {
  return { listAgentCards: async () => ({ cards: cards.map((c) => ({ ...c, tag: 'v1', digest: 'sha256:0' })), problems: [] }) } as unknown as PalletRegistry;
}

/** An agent serving `card` at /agent-card after `delayMs`. */
async function slowAgent(name: string, skills: string[], delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(card(name, skills)));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('agent choice', () => {
  it('PALLET_AGENT_URLS: agents are listed in the configured order, not in the order their cards arrive', async () => {
    const slow = await slowAgent('slow-agent', ['review_code'], 150);
    const fast = await slowAgent('fast-agent', ['review_code'], 0);
    try {
      const { agents, problems } = await new UrlAgentSource([slow.url, 'http://127.0.0.1:1', fast.url]).load();
      assert.deepEqual(agents.map((a) => a.card.name), ['slow-agent', 'fast-agent']);
      assert.equal(problems.length, 1);
      const found = await new AgentDirectory([new UrlAgentSource([slow.url, fast.url])]).find('review_code');
      assert.equal(found.card.name, 'slow-agent');
      assert.equal(found.url, slow.url);
    } finally {
      await Promise.all([slow.close(), fast.close()]);
    }
  });

  it("registry cards are taken in the order of their repository names, whatever order the registry lists them in", async () => {
    const reg = registry([
      { repository: 'agents/zeta', card: card('zeta-agent', ['shared', 'z_only']) },
      { repository: 'agents/alpha', card: card('alpha-agent', ['shared']) },
      { repository: 'agents/mid', card: card('mid-agent', ['shared']) },
    ]);
    const loaded = await new RegistryAgentSource(reg, 'reg:5000').load();
    assert.deepEqual(loaded.agents.map((a) => a.origin), ['registry reg:5000 agents/alpha:v1', 'registry reg:5000 agents/mid:v1', 'registry reg:5000 agents/zeta:v1']);
    const directory = new AgentDirectory([new RegistryAgentSource(reg, 'reg:5000')]);
    assert.equal((await directory.find('shared')).card.name, 'alpha-agent');
    assert.equal((await directory.find('z_only')).card.name, 'zeta-agent');
  });

  it('configured URLs come before the registry even when the registry answers first', async () => {
    const urls = source([entry('configured-agent', ['review_code'], 'PALLET_AGENT_URLS')], 50);
    const reg = source([entry('registered-agent', ['review_code', 'other'], 'registry r agents/registered:v1')], 0);
    const directory = new AgentDirectory([urls, reg]);
    assert.equal((await directory.find('review_code')).card.name, 'configured-agent');
    assert.equal((await directory.find('other')).card.name, 'registered-agent');
  });

  it('reports a skill offered by agents of different names: the skill, the agent called and the others', async () => {
    const directory = new AgentDirectory([
      source([entry('test-agent', ['review_code'], 'PALLET_AGENT_URLS', 'http://localhost:8003')]),
      source([
        entry('lint-agent', ['review_code', 'lint'], 'registry r agents/lint:v1', 'http://lint:9'),
        entry('qa-agent', ['review_code'], 'registry r agents/qa:v1', 'http://qa:9'),
      ]),
    ]);
    const listing = await directory.agents();
    assert.deepEqual(listing.warnings, [
      'skill "review_code" is offered by 3 agents: test-agent at http://localhost:8003 (PALLET_AGENT_URLS) is called; ' +
        'not lint-agent at http://lint:9 (registry r agents/lint:v1), nor qa-agent at http://qa:9 (registry r agents/qa:v1)',
    ]);
    assert.deepEqual(listing.problems, []);
  });

  it('does not report one agent reached at two addresses (a configured URL and its registry card): the configured one is called', async () => {
    const directory = new AgentDirectory([
      source([entry('plan-agent', ['create_plan'], 'PALLET_AGENT_URLS', 'http://agents:8001')]),
      source([entry('plan-agent', ['create_plan'], 'registry r agents/plan:v1', 'http://localhost:8001')]),
    ]);
    assert.deepEqual((await directory.agents()).warnings, []);
    assert.equal((await directory.find('create_plan')).url, 'http://agents:8001');
  });

  it('tells onWarning each warning once, however often the index is rebuilt', async () => {
    const heard: string[] = [];
    const agents = [entry('a-agent', ['x', 'y'], 'o'), entry('b-agent', ['x'], 'o'), entry('c-agent', ['y'], 'o')];
    const directory = new AgentDirectory([source(agents)], 30_000, Date.now, (w) => heard.push(w));
    await directory.agents();
    directory.invalidate();
    await directory.agents();
    assert.deepEqual(heard.map((w) => w.slice(0, 12)), ['skill "x" is', 'skill "y" is']);
  });

  it('sharedSkills lists skills in the order they first appear', () => {
    const shared = sharedSkills([entry('a', ['p', 'q'], 'o'), entry('b', ['q', 'p'], 'o'), entry('c', ['r'], 'o')]);
    assert.deepEqual(
      shared.map((s) => [s.skill, s.chosen.card.name, s.others.map((o) => o.card.name)]),
      [
        ['p', 'a', ['b']],
        ['q', 'a', ['b']],
      ],
    );
  });
});
