// parallel-analysis's agents over HTTP: security_scan, performance_check, aggregate_results;
// and smart-router's analyze_request.
import assert from 'node:assert/strict';
import { startExampleAgents, type ExampleAgents } from '../../../../examples/agents/main';
import type { AgentCard } from '../../../../examples/agents/types';
import { assertMatchesCard, call, callFails, getCard, rpc } from './rpc';

interface Finding {
  rule: string;
  severity: string;
  line: number;
  message: string;
  code: string;
}
interface Security {
  findings: Finding[];
  risk_level: string;
  score: number;
  summary: string;
}
interface Performance {
  findings: Finding[];
  score: number;
  summary: string;
}
interface Aggregate {
  overall_score: number;
  approved: boolean;
  summary: string;
  highlights: string[];
  scores: { quality: number; security: number; performance: number };
}

const INSECURE = `import hashlib, os, pickle, subprocess, yaml
import requests

API_KEY = "sk-live0123456789abcdefghijklmn"
DB_URL = "postgres://admin:hunter2@db.internal/prod"
HELP = "never call eval( on input"  # a string and a comment: eval( here is no finding


def handle(user_input, name, password):
    """Handle a request."""
    value = eval(user_input)
    subprocess.run("grep " + name + " /var/log/app.log",
                   shell=True)
    os.system("rm -rf " + name)
    obj = pickle.loads(user_input)
    cfg = yaml.load(user_input)
    safe = yaml.load(user_input, Loader=yaml.SafeLoader)
    cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
    cursor.execute("SELECT * FROM users WHERE name = %s", (name,))
    requests.get("https://example.com", verify=False)
    digest = hashlib.md5(password.encode()).hexdigest()
    checksum = hashlib.sha256(obj).hexdigest()
    out = open("/tmp/report.txt", "w")
    return value, cfg, safe, digest, checksum, out
`;

const SLOW = `def report(rows, names, path):
    """Build a report."""
    text = ""
    for i in range(len(rows)):
        for name in names:
            if name in rows[i]:
                text += "match " + name
    selected = []
    for row in rows:
        if row:
            selected.append(row)
    i = 0
    while i < len(rows):
        with open(path) as f:
            f.read()
        i += 1
    return text, selected
`;

describe('example agents: analysis and router', () => {
  let running: ExampleAgents;
  let analysis: string;
  let router: string;
  let testAgent: string;
  let card: AgentCard;
  before(async () => {
    running = await startExampleAgents({ basePort: 0, only: ['analysis', 'router', 'test'], env: {} });
    const at = (name: string) => running.agents.find((a) => a.name === name)!.url;
    [analysis, router, testAgent] = [at('analysis-agent'), at('router-agent'), at('test-agent')];
    card = await getCard(analysis);
  });
  after(() => running.close());

  describe('security_scan', () => {
    it('finds each insecure pattern on its line, and nothing in strings, comments or safe variants', async () => {
      const r = await call<Security>(analysis, 'security_scan', { code: INSECURE });
      assertMatchesCard(card, 'security_scan', r);
      assert.deepEqual(
        r.findings.map((f) => `${f.line} ${f.rule} ${f.severity}`),
        [
          '4 hardcoded-secret high',
          '5 hardcoded-secret high',
          '11 eval-exec high',
          '12 subprocess-shell high',
          '14 os-system high',
          '15 insecure-deserialization high',
          '16 yaml-load high',
          '18 sql-injection high',
          '20 tls-verify-disabled high',
          '21 weak-password-hash high',
          '23 insecure-temp-file medium',
        ],
      );
      assert.equal(r.risk_level, 'high');
      assert.match(r.summary, /11 security findings \(10 high, 1 medium\)/);
      assert.ok(r.score < 5);
    });

    it('masks secrets in the reported line', async () => {
      const r = await call<Security>(analysis, 'security_scan', { code: INSECURE });
      const secrets = r.findings.filter((f) => f.rule === 'hardcoded-secret').map((f) => f.code);
      assert.deepEqual(secrets, ['API_KEY = "sk-*****"', 'DB_URL = "postgres://admin:*****@db.internal/prod"']);
      assert.ok(!JSON.stringify(r).includes('hunter2'));
    });

    it('finds eval( on the right line', async () => {
      const r = await call<Security>(analysis, 'security_scan', { code: 'import ast\n\n\ndef calc(expr):\n    """Evaluate."""\n    return eval(expr)\n' });
      assert.deepEqual(
        r.findings.map((f) => [f.rule, f.line, f.code]),
        [['eval-exec', 6, 'return eval(expr)']],
      );
    });

    it('reports risk "none" for clean code, and low-risk md5 checksums as low', async () => {
      const clean = await call<Security>(analysis, 'security_scan', { code: 'def add(a, b):\n    """Add."""\n    return a + b\n' });
      assert.deepEqual(clean.findings, []);
      assert.equal(clean.risk_level, 'none');
      assert.equal(clean.score, 10);
      const md5 = await call<Security>(analysis, 'security_scan', { code: 'import hashlib\netag = hashlib.md5(body).hexdigest()\n' });
      assert.deepEqual(
        md5.findings.map((f) => `${f.rule} ${f.severity}`),
        ['weak-hash low'],
      );
      assert.equal(md5.risk_level, 'low');
    });
  });

  describe('performance_check', () => {
    it('finds loop anti-patterns on their lines', async () => {
      const r = await call<Performance>(analysis, 'performance_check', { code: SLOW });
      assertMatchesCard(card, 'performance_check', r);
      assert.deepEqual(
        r.findings.map((f) => `${f.line} ${f.rule}`),
        ['4 range-len', '5 nested-loop', '7 string-concat-in-loop', '9 append-in-loop', '13 len-in-loop-condition', '14 file-io-in-loop'],
      );
      assert.ok(r.score < 8);
    });

    it('finds nothing in straight-line code and rates it 10', async () => {
      const r = await call<Performance>(analysis, 'performance_check', { code: 'def f(xs):\n    """Squares."""\n    return [x * x for x in xs]\n' });
      assert.deepEqual(r.findings, []);
      assert.equal(r.score, 10);
    });
  });

  describe('aggregate_results', () => {
    const analyse = async (code: string) => ({
      quality: await call(testAgent, 'review_code', { code }),
      security: await call(analysis, 'security_scan', { code }),
      performance: await call(analysis, 'performance_check', { code }),
    });

    it('approves clean code', async () => {
      const r = await call<Aggregate>(analysis, 'aggregate_results', await analyse('def add(a, b):\n    """Add."""\n    return a + b\n'));
      assertMatchesCard(card, 'aggregate_results', r);
      assert.equal(r.approved, true);
      assert.equal(r.overall_score, 10);
      assert.deepEqual(r.highlights, ['No issues found by the quality, security and performance checks.']);
    });

    it('rejects code with a high security risk, whatever its other scores, and lists the worst findings first', async () => {
      const inputs = await analyse(INSECURE);
      const r = await call<Aggregate>(analysis, 'aggregate_results', inputs);
      assert.equal(r.approved, false);
      assert.match(r.summary, /Not approved: .*security risk is high/);
      assert.equal(r.scores.security, (inputs.security as unknown as Security).score);
      assert.match(r.highlights[0], /^Security: hardcoded-secret on line 4 \(high\)/);
      assert.ok(r.highlights.length <= 8);
      assert.equal(r.overall_score, Math.round((r.scores.quality * 0.4 + r.scores.security * 0.4 + r.scores.performance * 0.2) * 10) / 10);
    });

    it("derives missing scores from other agents' findings and fails on missing results", async () => {
      const r = await call<Aggregate>(analysis, 'aggregate_results', {
        quality: { quality_score: 9, approved: true, issues: ['minor naming issue'] },
        security: { risk_level: 'low', findings: [{ severity: 'low', message: 'binds 0.0.0.0' }] },
        performance: { findings: [{ severity: 'medium', message: 'nested loop', line: 3 }] },
      });
      assert.deepEqual(r.scores, { quality: 9, security: 8, performance: 9 });
      assert.equal(r.approved, true);
      assert.ok(r.highlights.includes('Performance: on line 3 (medium): nested loop'));
      assert.match(await callFails(analysis, 'aggregate_results', { quality: {}, security: {} }), /missing required field "performance"/);
    });
  });

  describe('analyze_request', () => {
    const route = async (request: string) => {
      const reply = await rpc(router, 'analyze_request', { request });
      assert.equal(reply.status, 200);
      return reply.body.result;
    };

    it('returns a bare branch name for the switch step', async () => {
      assert.equal(await route('build a REST API'), 'code_generation');
      assert.equal(await route('analyze sales data csv'), 'data_analysis');
      assert.equal(await route('What is the capital of France?'), 'general');
      assert.equal(await route(''), 'general');
    });

    it('weighs the words of the request', async () => {
      assert.equal(await route('Write a Python script with a CLI to convert images'), 'code_generation');
      assert.equal(await route('Visualize the correlation between revenue and ad spend in this dataset'), 'data_analysis');
      assert.equal(await route('write a script to analyze the sales CSV'), 'data_analysis');
      const routerCard = await getCard(router);
      assertMatchesCard(routerCard, 'analyze_request', await route('implement a function'));
    });
  });
});
