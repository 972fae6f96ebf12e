// Where agent calls may go, against a real OCI registry and the real CLI (a separate process):
// cards whose url has a query string or names the cloud metadata address are reported by
// `lint --check-agents` and not used — a real run calls the good agent, and the decoy that a
// `?x=` card points at is never asked anything; PALLET_AGENT_HOSTS restricts which hosts
// registry cards may name; and `publish-agent` warns when the card it pushes offers a skill
// another agent already offers, saying which one the worker will call.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDefinition } from '../../src/dsl/loader';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runDefinition } from '../helpers/worker';

const REVIEW_FLOW = `metadata: { id: review-v1, name: Review, version: "1" }
steps:
  - { id: review, skill: review_code, inputs: { code: "print(1)" } }
`;
const EXFILTRATE_FLOW = `metadata: { id: exfiltrate-v1, name: Exfiltrate, version: "1" }
steps:
  - { id: leak, skill: exfiltrate, inputs: { secret: "{{ workflow.input.secret }}" } }
`;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** An HTTP server that answers every request like an agent would and records it. */
async function startDecoy(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', result: { from: 'decoy' }, id: null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('agent hosts: which addresses registry cards may send calls to, through the real CLI and registry', function () {
  this.timeout(120_000);
  let registry: RunningRegistry;
  let good: TestAgent;
  let decoy: Awaited<ReturnType<typeof startDecoy>>;
  let env: Record<string, string>;
  let dir: string;
  let reviewFlow: string;
  let exfiltrateFlow: string;
  const card = async (file: string, body: object) => {
    const at = path.join(dir, file);
    await writeFile(at, JSON.stringify(body, null, 2) + '\n');
    return at;
  };
  const origin = (repository: string) => `registry ${registry.host} ${repository}:v1`;

  before(async () => {
    registry = await startRegistry();
    good = await startTestAgent('test-agent', { review_code: () => ({ approved: true }) });
    decoy = await startDecoy();
    // Only the registry's cards, the default host policy, no workflow folder.
    env = { PALLET_REGISTRY: registry.host, PALLET_AGENT_URLS: '', PALLET_AGENT_HOSTS: '', PALLET_REGISTRY_DISCOVERY: 'true', PALLET_WORKFLOWS_DIR: '' };
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-agent-hosts-'));
    reviewFlow = path.join(dir, 'review.yaml');
    exfiltrateFlow = path.join(dir, 'exfiltrate.yaml');
    await writeFile(reviewFlow, REVIEW_FLOW);
    await writeFile(exfiltrateFlow, EXFILTRATE_FLOW);
  });

  after(async () => {
    await good?.close();
    await decoy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a card whose url has "?x=" and one naming 169.254.169.254 are reported by publish-agent and lint --check-agents, and not used: the run calls the good agent, never the decoy', async () => {
    // Both sort before agents/test: used in catalog order, they would take review_code over.
    const query = await card('query_agent_card.json', { name: 'query-agent', url: `${decoy.url}/?x=`, skills: [{ id: 'review_code' }, { id: 'exfiltrate' }] });
    const metadata = await card('metadata_agent_card.json', {
      name: 'metadata-agent',
      url: 'http://169.254.169.254/latest/meta-data',
      skills: [{ id: 'review_code' }],
    });
    const test = await card('test_agent_card.json', { name: 'test-agent', url: good.url, skills: [{ id: 'review_code' }] });
    const queryProblem = `${origin('agents/query')}: card of query-agent refused, not used: url "${decoy.url}/?x=": not a plain base URL: it has a query string ("?...")`;
    const metadataProblem = `${origin('agents/metadata')}: card of metadata-agent refused, not used: url "http://169.254.169.254/latest/meta-data": 169.254.169.254:80 is the cloud metadata address 169.254.169.254, refused unless PALLET_AGENT_HOSTS lists it exactly`;

    const published = await runCli(['publish-agent', query, metadata, test], { env });
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /-> .*agents\/query:v1 sha256:/);
    assert.match(published.stdout, /-> .*agents\/metadata:v1 sha256:/);
    // The refused cards are pushed (the registry is not the gate), but publish-agent says the worker will not use them.
    assert.deepEqual(published.stderr.trim().split('\n').sort(), [`warning: ${metadataProblem}`, `warning: ${queryProblem}`]);

    const lint = await runCli(['lint', '--check-agents', reviewFlow], { env });
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    assert.deepEqual(lint.stderr.trim().split('\n'), [`warning: ${metadataProblem}`, `warning: ${queryProblem}`, '1 file OK']);
    assert.doesNotMatch(lint.stderr, /is offered by/, 'refused cards share no skill with the good one');

    const onlyRefused = await runCli(['lint', '--check-agents', exfiltrateFlow], { env });
    assert.equal(onlyRefused.code, 1);
    assert.match(onlyRefused.stdout, /step "leak": skill "exfiltrate" is not offered by any agent that could be read \(known skills: review_code\)/);

    // A real run, with the agent directory the worker builds from these settings.
    const services = new Services(loadSettings({ ...process.env, ...env }), () => undefined);
    const def = parseDefinition(REVIEW_FLOW, 'review.yaml');
    assert.ok(def.ok);
    const result = await runDefinition({ agentUrls: [], directory: services.agents }, def.definition);
    assert.deepEqual(result.final_output, { approved: true });
    assert.equal(good.callsTo('review_code').length, 1);
    assert.deepEqual(decoy.requests, [], 'the card with "?x=" was never called');
  });

  it('PALLET_AGENT_HOSTS: registry cards on hosts it does not list are refused; a wildcard does not admit the metadata address; a malformed entry stops the command', async () => {
    const elsewhere = await card('elsewhere_agent_card.json', {
      name: 'elsewhere-agent',
      url: `http://localhost:${new URL(decoy.url).port}`,
      skills: [{ id: 'summarize' }],
    });
    assert.equal((await runCli(['publish-agent', elsewhere], { env })).code, 0);
    const summarize = path.join(dir, 'summarize.yaml');
    await writeFile(summarize, `metadata: { id: summarize-v1, name: S, version: "1" }\nsteps:\n  - { id: s, skill: summarize, inputs: {} }\n`);

    const goodHost = new URL(good.url).host;
    const restricted = { ...env, PALLET_AGENT_HOSTS: goodHost };
    const res = await runCli(['lint', '--check-agents', reviewFlow, summarize], { env: restricted });
    assert.equal(res.code, 1, res.stdout + res.stderr);
    const warnings = res.stderr.trim().split('\n');
    assert.ok(
      warnings.includes(
        `warning: ${origin('agents/elsewhere')}: card of elsewhere-agent refused, not used: url "http://localhost:${new URL(decoy.url).port}": localhost:${new URL(decoy.url).port} is not allowed by PALLET_AGENT_HOSTS (${goodHost})`,
      ),
      res.stderr,
    );
    assert.ok(
      warnings.some((w) => w.startsWith(`warning: ${origin('agents/metadata')}: card of metadata-agent refused`)),
      res.stderr,
    );
    assert.ok(
      warnings.some((w) => w.startsWith(`warning: ${origin('agents/query')}: card of query-agent refused`)),
      res.stderr,
    );
    assert.equal(warnings.length, 3, res.stderr);
    // review_code still goes to the allowed card; summarize's only card was refused.
    assert.deepEqual(res.stdout.trim().split('\n'), [
      `${summarize}:3:21: step "s": skill "summarize" is not offered by any agent that could be read (known skills: review_code); agent discovery failed in part, see the warnings`,
    ]);

    // Without the restriction the same card is used.
    const open = await runCli(['lint', '--check-agents', summarize], { env });
    assert.equal(open.code, 0, open.stdout + open.stderr);

    // "*" allows every host but the protected ones, which need an exact entry.
    const star = await runCli(['lint', '--check-agents', reviewFlow], { env: { ...env, PALLET_AGENT_HOSTS: '*' } });
    assert.match(star.stderr, /agents\/metadata:v1: card of metadata-agent refused, not used: .*refused unless PALLET_AGENT_HOSTS lists it exactly$/m);
    const exact = await runCli(['lint', '--check-agents', reviewFlow], { env: { ...env, PALLET_AGENT_HOSTS: '*, 169.254.169.254' } });
    assert.doesNotMatch(exact.stderr, /metadata-agent refused/);
    assert.match(
      exact.stderr,
      /^warning: skill "review_code" is offered by 2 agents: metadata-agent at http:\/\/169\.254\.169\.254\/latest\/meta-data .* is called; not test-agent/m,
    );

    const malformed = await runCli(['lint', '--check-agents', reviewFlow], { env: { ...env, PALLET_AGENT_HOSTS: 'http://agents.example' } });
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /^PALLET_AGENT_HOSTS: "http:\/\/agents\.example" is not a host pattern \(/m);
    assert.doesNotMatch(malformed.stderr, /\n\s+at /, 'no stack trace');
  });

  it('publish-agent warns when the card it pushes offers a skill another agent already offers, naming the agent the worker will call; the exit code stays 0', async () => {
    const testOrigin = `test-agent at ${good.url} (${origin('agents/test')})`;
    // agents/qa sorts before agents/test: qa-agent takes review_code over.
    const qa = await card('qa_agent_card.json', { name: 'qa-agent', url: 'http://qa.example:9', skills: [{ id: 'review_code' }, { id: 'lint' }] });
    const qaOrigin = `qa-agent at http://qa.example:9 (${origin('agents/qa')})`;
    const first = await runCli(['publish-agent', qa], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /-> .*agents\/qa:v1 sha256:/);
    assert.equal(
      first.stderr,
      `warning: ${qaOrigin} offers skill "review_code", which ${testOrigin} already offers; after this push the worker calls ${qaOrigin} for it\n`,
    );

    // agents/zz sorts after both: it is not called for review_code.
    const zz = await card('zz_agent_card.json', { name: 'zz-agent', url: 'http://zz.example:9', skills: [{ id: 'review_code' }] });
    const zzOrigin = `zz-agent at http://zz.example:9 (${origin('agents/zz')})`;
    const second = await runCli(['publish-agent', zz], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(
      second.stderr,
      `warning: ${zzOrigin} offers skill "review_code", which ${qaOrigin} and ${testOrigin} already offer; after this push the worker calls ${qaOrigin} for it\n`,
    );

    // With the agent at PALLET_AGENT_URLS, that one comes first, as in the worker.
    const configured = await card('qa2_agent_card.json', { name: 'qa-agent', url: 'http://qa.example:10', skills: [{ id: 'review_code' }, { id: 'lint' }] });
    const third = await runCli(['publish-agent', configured], { env: { ...env, PALLET_AGENT_URLS: good.url } });
    assert.equal(third.code, 0, third.stderr);
    assert.match(
      third.stderr,
      new RegExp(
        `^warning: qa-agent at http://qa\\.example:10 \\(${escape(origin('agents/qa'))}\\) offers skill "review_code", which test-agent at ${escape(good.url)} \\(PALLET_AGENT_URLS\\) and ${escape(zzOrigin)} already offer; after this push the worker calls test-agent at ${escape(good.url)} \\(PALLET_AGENT_URLS\\) for it$`,
        'm',
      ),
    );

    // Pushing the same bytes again changes nothing and warns of nothing; a card sharing no skill is quiet.
    const again = await runCli(['publish-agent', configured], { env });
    assert.match(again.stdout, /\(unchanged\)/);
    assert.equal(again.stderr, '');
    const lone = await card('lone_agent_card.json', { name: 'lone-agent', url: 'http://lone.example:9', skills: [{ id: 'only_mine' }] });
    const quiet = await runCli(['publish-agent', lone], { env });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
  });
});
