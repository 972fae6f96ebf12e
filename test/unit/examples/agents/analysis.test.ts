// parallel-analysis's agents over HTTP: security_scan, performance_check, aggregate_results;
// smart-router's analyze_request, and analyze_data for its data_analysis branch.
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
      assert.equal(await route('analyze this sales data: 3, 5, 8'), 'data_analysis', 'the README example reaches data-analysis-v1');
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

  describe('analyze_data', () => {
    const analyze = (params: Record<string, unknown>) => call<Record<string, unknown>>(analysis, 'analyze_data', params);

    it('summarises the numbers after the last colon of the request', async () => {
      const result = await analyze({ requirements: 'Q3 2024 report. Analyze this sales data: 3, 5, 8' });
      assertMatchesCard(card, 'analyze_data', result);
      assert.deepEqual(result, {
        count: 3,
        sum: 16,
        min: 3,
        max: 8,
        mean: 5.333333,
        median: 5,
        stdev: 2.054805,
        trend: 'increasing',
        values: [3, 5, 8],
        source: 'requirements',
        summary: '3 values from 3 to 8: mean 5.33, median 5, sum 16, standard deviation 2.05; steadily increasing.',
      });
    });

    it('takes every free-standing number without a colon: decimals, negatives, percentages; not Q3 or v2', async () => {
      const result = await analyze({ requirements: 'In Q3 of v2 the growth was 12.5% then -3 and 0.5, and 12.5 again' });
      assert.deepEqual(result.values, [12.5, -3, 0.5, 12.5]);
      assert.equal(result.trend, 'mixed');
      assert.equal(result.median, 6.5);
    });

    it('uses input data instead of the text: a list (numbers or numeric strings) or a text', async () => {
      const list = await analyze({ requirements: 'ignored: 1, 2', data: [10, '20', 30.5] });
      assert.deepEqual([list.values, list.source, list.sum], [[10, 20, 30.5], 'data', 60.5]);
      const text = await analyze({ data: 'jan 7, feb 7, mar 7' });
      assert.deepEqual([text.values, text.trend], [[7, 7, 7], 'flat']);
      assert.match(String(text.summary), /all equal/);
      const one = await analyze({ data: [4] });
      assert.equal(one.summary, '1 value: 4.');
      // Pallet resolves a missing template path to null: null data means "not given".
      assert.deepEqual((await analyze({ requirements: 'sales: 9, 1', data: null })).values, [9, 1]);
    });

    it('fails with a message that says how to give the numbers', async () => {
      assert.match(
        await callFails(analysis, 'analyze_data', { requirements: 'Analyze this sales data CSV and find trends' }),
        /no numbers found in the request "Analyze this sales data CSV and find trends": give them in the text \(e\.g\. "analyze this sales data: 3, 5, 8"\) or as input "data"/,
      );
      assert.match(await callFails(analysis, 'analyze_data', {}), /no numbers found in the request: give them/);
      assert.match(await callFails(analysis, 'analyze_data', { data: [1, 'two'] }), /data\[1\] is "two", not a number/);
      assert.match(await callFails(analysis, 'analyze_data', { data: 'none here' }), /data has no numbers in it/);
    });
  });
});
