// Which agent a skill goes to: configured URLs first, in their order, then the registry's
// cards by repository name, whatever order the cards arrive in; and the report of a skill
// that agents of different names offer; cards refused for their address.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentCard } from '../../../src/agents/card';
import type { AgentProtocol } from '../../../src/agents/protocol';
import type { PalletRegistry } from '../../../src/registry';
import { parseAgentHosts } from '../../../src/sources/agent-hosts';
import { AgentDirectory, sharedSkills, UnknownSkillError, UrlAgentSource, type AgentEntry, type AgentSource } from '../../../src/sources/agents';
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
      assert.deepEqual(
        agents.map((a) => a.card.name),
        ['slow-agent', 'fast-agent'],
      );
      assert.equal(problems.length, 1);
      const found = await new AgentDirectory([new UrlAgentSource([slow.url, fast.url])]).find('review_code');
      assert.equal(found.card.name, 'slow-agent');
      assert.equal(found.url, slow.url);
    } finally {
      await Promise.all([slow.close(), fast.close()]);
    }
  });

  it('registry cards are taken in the order of their repository names, whatever order the registry lists them in', async () => {
    const reg = registry([
      { repository: 'agents/zeta', card: card('zeta-agent', ['shared', 'z_only']) },
      { repository: 'agents/alpha', card: card('alpha-agent', ['shared']) },
      { repository: 'agents/mid', card: card('mid-agent', ['shared']) },
    ]);
    const loaded = await new RegistryAgentSource(reg, 'reg:5000').load();
    assert.deepEqual(
      loaded.agents.map((a) => a.origin),
      ['registry reg:5000 agents/alpha:v1', 'registry reg:5000 agents/mid:v1', 'registry reg:5000 agents/zeta:v1'],
    );
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
    assert.deepEqual(
      heard.map((w) => w.slice(0, 12)),
      ['skill "x" is', 'skill "y" is'],
    );
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

  it('sharedSkills: two registry cards of the same name in different repositories are two agents, and reported', async () => {
    const reg = registry([
      { repository: 'agents/plan', card: card('plan-agent', ['create_plan'], 'http://localhost:8001') },
      { repository: 'agents/aaa', card: card('plan-agent', ['create_plan'], 'http://impostor:1') },
    ]);
    const listing = await new AgentDirectory([new RegistryAgentSource(reg, 'r')]).agents();
    assert.deepEqual(listing.warnings, [
      'skill "create_plan" is offered by 2 agents: plan-agent at http://impostor:1 (registry r agents/aaa:v1) is called; not plan-agent at http://localhost:8001 (registry r agents/plan:v1)',
    ]);
  });
});

describe('agent addresses the directory refuses', () => {
  const cards = [
    { repository: 'agents/a-query', card: card('query-agent', ['review_code'], 'http://127.0.0.1:9/?x=') },
    { repository: 'agents/b-metadata', card: card('metadata-agent', ['review_code', 'steal'], 'http://169.254.169.254') },
    { repository: 'agents/c-user', card: card('user-agent', ['review_code'], 'http://user:pw@agents.example.com') },
    { repository: 'agents/d-fragment', card: card('fragment-agent', ['review_code'], 'http://agents.example.com/#') },
    { repository: 'agents/e-scheme', card: card('file-agent', ['review_code'], 'file:///etc/passwd') },
    { repository: 'agents/f-link-local', card: card('link-agent', ['review_code'], 'http://[fe80::1]:8000') },
    { repository: 'agents/g-google', card: card('google-agent', ['review_code'], 'http://Metadata.Google.Internal.') },
    { repository: 'agents/test', card: card('test-agent', ['review_code'], 'http://agents.example.com:8003/') },
  ];

  it('refuses cards whose url is not a plain base URL or names a protected host, each with a problem naming its repository and why; the skill goes to the good card', async () => {
    const directory = new AgentDirectory([new RegistryAgentSource(registry(cards), 'reg:5000')]);
    const listing = await directory.agents();
    assert.deepEqual(
      listing.agents.map((a) => [a.origin, a.url]),
      [['registry reg:5000 agents/test:v1', 'http://agents.example.com:8003']],
    );
    assert.deepEqual(listing.problems, [
      'registry reg:5000 agents/a-query:v1: card of query-agent refused, not used: url "http://127.0.0.1:9/?x=": not a plain base URL: it has a query string ("?...")',
      'registry reg:5000 agents/b-metadata:v1: card of metadata-agent refused, not used: url "http://169.254.169.254": 169.254.169.254:80 is the cloud metadata address 169.254.169.254, refused unless PALLET_AGENT_HOSTS lists it exactly',
      'registry reg:5000 agents/c-user:v1: card of user-agent refused, not used: url "http://user:pw@agents.example.com": not a plain base URL: it has user info ("user:password@")',
      'registry reg:5000 agents/d-fragment:v1: card of fragment-agent refused, not used: url "http://agents.example.com/#": not a plain base URL: it has a fragment ("#...")',
      'registry reg:5000 agents/e-scheme:v1: card of file-agent refused, not used: url "file:///etc/passwd": not a plain base URL: its scheme is "file", not http or https',
      'registry reg:5000 agents/f-link-local:v1: card of link-agent refused, not used: url "http://[fe80::1]:8000": [fe80::1]:8000 is a link-local address (fe80::/10), refused unless PALLET_AGENT_HOSTS lists it exactly',
      'registry reg:5000 agents/g-google:v1: card of google-agent refused, not used: url "http://Metadata.Google.Internal.": metadata.google.internal:80 is a cloud metadata address (Google Cloud), refused unless PALLET_AGENT_HOSTS lists it exactly',
    ]);
    assert.deepEqual(
      listing.refused.map((r) => r.repository),
      ['agents/a-query', 'agents/b-metadata', 'agents/c-user', 'agents/d-fragment', 'agents/e-scheme', 'agents/f-link-local', 'agents/g-google'],
    );
    assert.deepEqual(listing.warnings, [], 'refused cards share no skill');
    const found = await directory.find('review_code');
    assert.equal(found.card.name, 'test-agent');
    assert.equal(found.url, 'http://agents.example.com:8003');
  });

  it('a skill only a refused card offers is unknown, with that refusal as the reason; refusals of cards without the skill are left out', async () => {
    const directory = new AgentDirectory([new RegistryAgentSource(registry(cards), 'reg:5000')]);
    await assert.rejects(directory.find('steal'), (err: UnknownSkillError) => {
      assert.ok(err instanceof UnknownSkillError);
      assert.equal(err.problems.length, 1, err.message);
      assert.ok(err.problems[0].startsWith('registry reg:5000 agents/b-metadata:v1: '), err.problems[0]);
      assert.match(
        err.message,
        /^no agent offers skill "steal" \(known skills: review_code\); discovery problems: registry reg:5000 agents\/b-metadata:v1: card of metadata-agent refused/,
      );
      return true;
    });
    await assert.rejects(directory.find('fly'), (err: UnknownSkillError) => {
      assert.deepEqual(err.problems, [], 'no refused card offers it: unknown, not an outage');
      return true;
    });
  });

  it('PALLET_AGENT_HOSTS: registry cards on other hosts are refused; a protected host listed exactly is used', async () => {
    const reg = registry([
      { repository: 'agents/inside', card: card('inside-agent', ['a'], 'http://plan.agents.example:8001') },
      { repository: 'agents/outside', card: card('outside-agent', ['b'], 'https://evil.example') },
      { repository: 'agents/port', card: card('port-agent', ['c'], 'http://localhost:9999') },
      { repository: 'agents/local', card: card('local-agent', ['d'], 'http://LOCALHOST:8001/') },
      { repository: 'agents/meta', card: card('meta-agent', ['e'], 'http://169.254.169.254') },
    ]);
    const allowed = parseAgentHosts('*.agents.example, localhost:8001, 169.254.169.254');
    const listing = await new AgentDirectory([new RegistryAgentSource(reg, 'r', allowed)]).agents();
    assert.deepEqual(
      listing.agents.map((a) => [a.card.name, a.url]),
      [
        ['inside-agent', 'http://plan.agents.example:8001'],
        ['local-agent', 'http://localhost:8001'],
        ['meta-agent', 'http://169.254.169.254'],
      ],
    );
    assert.deepEqual(listing.problems, [
      'registry r agents/outside:v1: card of outside-agent refused, not used: url "https://evil.example": evil.example:443 is not allowed by PALLET_AGENT_HOSTS (*.agents.example, localhost:8001, 169.254.169.254)',
      'registry r agents/port:v1: card of port-agent refused, not used: url "http://localhost:9999": localhost:9999 is not allowed by PALLET_AGENT_HOSTS (*.agents.example, localhost:8001, 169.254.169.254)',
    ]);
  });

  it('PALLET_AGENT_URLS are trusted as to their host, but must be plain base URLs; the normalised URL is the one called', async () => {
    const agent = await slowAgent('local-agent', ['x'], 0);
    try {
      const port = new URL(agent.url).port;
      const { agents, problems } = await new UrlAgentSource([`${agent.url}/?x=`, `http://u:p@127.0.0.1:${port}`, `HTTP://LOCALHOST:${port}/`]).load();
      assert.deepEqual(
        agents.map((a) => [a.url, a.origin]),
        [[`http://localhost:${port}`, 'PALLET_AGENT_URLS']],
      );
      assert.deepEqual(problems, [
        `PALLET_AGENT_URLS "${agent.url}/?x=": not used: not a plain base URL: it has a query string ("?...")`,
        `PALLET_AGENT_URLS "http://u:p@127.0.0.1:${port}": not used: not a plain base URL: it has user info ("user:password@")`,
      ]);
    } finally {
      await agent.close();
    }
  });
});

describe('agent cards through the protocol', () => {
  /** A protocol of another name that serves `card` or fails, recording the addresses it was asked for. */
  function protocol(answer: () => Promise<AgentCard>): AgentProtocol & { asked: string[] } {
    const asked: string[] = [];
    return {
      name: 'other',
      asked,
      fetchCard: async (baseUrl, signal) => {
        assert.equal(signal.aborted, false);
        asked.push(baseUrl);
        return answer();
      },
      call: () => Promise.reject(new Error('not called here')),
    };
  }

  it('UrlAgentSource asks its protocol for each card, at the checked URL; the entries name the protocol, and its errors are problems', async () => {
    const other = protocol(async () => card('other-agent', ['translate']));
    const { agents, problems } = await new UrlAgentSource(['HTTP://Other.Example:7/a2a/', 'ftp://nope'], other).load();
    assert.deepEqual(other.asked, ['http://other.example:7/a2a'], 'only the plain base URL is asked, normalised');
    assert.deepEqual(
      agents.map((a) => [a.url, a.card.name, a.protocol]),
      [['http://other.example:7/a2a', 'other-agent', 'other']],
    );
    assert.equal(problems.length, 1);

    const failing = protocol(() => Promise.reject(new Error('agent at http://down.example is unreachable (ECONNREFUSED)')));
    const listing = await new UrlAgentSource(['http://down.example'], failing).load();
    assert.deepEqual(listing, { agents: [], problems: ['agent at http://down.example is unreachable (ECONNREFUSED)'] });
  });

  it("agents found by Pallet's protocol name none: the activity calls them by Pallet's", async () => {
    const agent = await slowAgent('pallet-agent', ['x'], 0);
    try {
      const { agents } = await new UrlAgentSource([agent.url]).load();
      assert.equal(agents.length, 1);
      assert.equal(agents[0].protocol, undefined);
    } finally {
      await agent.close();
    }
  });
});
