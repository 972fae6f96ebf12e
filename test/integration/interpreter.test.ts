// The interpreter workflow on a real Temporal dev server, calling real HTTP agents on
// loopback: every step type, data flow, and every way an agent can fail.
import assert from 'node:assert/strict';
import { HttpReply, SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { freePort } from '../helpers/net';
import { runDefinition, withWorker } from '../helpers/worker';
import { def, failureMessage } from '../helpers/runs';

describe('interpreter workflow (real Temporal server, real HTTP agents)', function () {
  this.timeout(120_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent('echo-agent', {
      echo: (p) => ({ echoed: p }),
      make_plan: (p) => ({ title: `Plan for ${String(p.requirements)}`, steps: [{ name: 'parse' }, { name: 'render' }], meta: { lang: 'python', n: 2 } }),
      count: (p) => ({ count: (p.items as unknown[]).length }),
      fail: () => {
        throw new SkillError('the model refused: prompt too long');
      },
      classify: (p) => String(p.text).split(' ')[0],
      slow: async (p) => {
        await new Promise((r) => setTimeout(r, Number(p.ms)));
        return 'late';
      },
      teapot: () => {
        throw new HttpReply(418, '{"detail":"I am a teapot"}');
      },
      garbage: () => {
        throw new HttpReply(200, '<html>oops</html>');
      },
      huge: (p) => 'x'.repeat(Number(p.bytes)),
    });
  });
  after(() => agent.close());

  const opts = () => ({ agentUrls: [agent.url] });

  it('runs sequential steps, passing typed values and nested paths between them', async () => {
    const result = await runDefinition(
      opts(),
      def(`
metadata: { id: flow-v1, name: Flow, version: 1.2.0 }
steps:
  - id: plan
    skill: make_plan
    inputs: { requirements: "{{ workflow.input.requirements }}" }
    outputs: result
  - id: use
    skill: echo
    inputs:
      whole: "{{ steps.plan.outputs.result }}"
      lang: "{{ steps.plan.outputs.result.meta.lang }}"
      n: "{{ steps.plan.outputs.result.meta.n }}"
      first: "{{ steps.plan.outputs.result.steps.0.name }}"
      text: "Title: {{ steps.plan.outputs.result.title }} ({{ steps.plan.outputs.result.meta.n }} steps)"
      nested: { list: ["{{ workflow.input.requirements }}", { deep: "{{ steps.plan.outputs.result.meta }}" }] }
      missing: "{{ steps.plan.outputs.result.nope.nope }}"
`),
      { requirements: 'a CLI' },
    );
    assert.equal(result.workflow_id, 'flow-v1');
    assert.equal(result.workflow_name, 'Flow');
    assert.equal(result.workflow_version, '1.2.0');
    assert.deepEqual(result.initial_input, { requirements: 'a CLI' });
    const plan = (result.step_outputs.plan.outputs as { result: { title: string } }).result;
    assert.equal(plan.title, 'Plan for a CLI');
    const echoed = (result.final_output as { echoed: Record<string, unknown> }).echoed;
    assert.deepEqual(echoed.whole, plan);
    assert.equal(echoed.lang, 'python');
    assert.equal(echoed.n, 2);
    assert.equal(echoed.first, 'parse');
    assert.equal(echoed.text, 'Title: Plan for a CLI (2 steps)');
    assert.deepEqual(echoed.nested, { list: ['a CLI', { deep: { lang: 'python', n: 2 } }] });
    assert.equal(echoed.missing, null);
    assert.deepEqual(result.final_output, result.step_outputs.use.outputs);
  });

  it('runs parallel branches that see only what ran before them, and later steps read each branch', async () => {
    const result = await runDefinition(
      opts(),
      def(`
metadata: { id: par, name: Par, version: "1" }
steps:
  - id: fan
    step_type: parallel
    branches:
      steps:
        - { id: a, skill: echo, inputs: { v: "{{ workflow.input.x }}" }, outputs: ra }
        - { id: b, skill: count, inputs: { items: [1, 2, 3] }, outputs: rb }
  - id: join
    skill: echo
    inputs: { a: "{{ steps.a.outputs.ra.echoed.v }}", b: "{{ steps.b.outputs.rb.count }}" }
`),
      { x: 7 },
    );
    assert.deepEqual(result.final_output, { echoed: { a: 7, b: 3 } });
    // As Pallet: the branch steps in declaration order, no entry for the parallel step itself.
    assert.deepEqual(Object.keys(result.step_outputs), ['a', 'b', 'join']);
    assert.deepEqual(result.step_outputs.a.outputs, { ra: { echoed: { v: 7 } } });
  });

  const conditional = def(`
metadata: { id: cond, name: Cond, version: "1" }
steps:
  - id: check
    step_type: conditional
    condition: "{{ workflow.input.flag }}"
    branches:
      if_true: [{ id: "yes", skill: echo, inputs: { branch: "true" } }]
      if_false: [{ id: "no", skill: echo, inputs: { branch: "false" } }]
`);

  for (const [flag, branch] of [
    [true, 'true'],
    [1, 'true'],
    ['no', 'true'],
    [false, 'false'],
    [0, 'false'],
    ['', 'false'],
    [[], 'false'],
    [{}, 'false'],
    [null, 'false'],
  ] as const) {
    it(`conditional: ${JSON.stringify(flag)} runs if_${branch} (Python truthiness)`, async () => {
      const result = await runDefinition(opts(), conditional, { flag });
      assert.deepEqual(result.final_output, { echoed: { branch } });
      assert.ok(!((branch === 'true' ? 'no' : 'yes') in result.step_outputs), 'the other branch did not run');
    });
  }

  const switchDef = def(`
metadata: { id: sw, name: Switch, version: "1" }
steps:
  - id: kind
    skill: classify
    inputs: { text: "{{ workflow.input.text }}" }
    outputs: request_type
  - id: route
    step_type: switch
    condition: "{{ steps.kind.outputs.request_type }}"
    branches:
      code: [{ id: to_code, skill: echo, inputs: { went: code } }]
      "6": [{ id: to_six, skill: echo, inputs: { went: six } }]
      default: [{ id: to_default, skill: echo, inputs: { went: default } }]
`);

  it('switch: runs the branch named by the value', async () => {
    const result = await runDefinition(opts(), switchDef, { text: 'code please' });
    assert.deepEqual(result.final_output, { echoed: { went: 'code' } });
    assert.deepEqual(Object.keys(result.step_outputs), ['kind', 'to_code']);
  });

  it('switch: runs default when no branch matches', async () => {
    const result = await runDefinition(opts(), switchDef, { text: 'poetry please' });
    assert.deepEqual(result.final_output, { echoed: { went: 'default' } });
  });

  it('switch: a number selects the branch named by its text, as Python str() does', async () => {
    const result = await runDefinition(
      opts(),
      def(`
metadata: { id: sw6, name: Switch6, version: "1" }
steps:
  - id: route
    step_type: switch
    condition: "{{ workflow.input.n }}"
    branches:
      "6": [{ id: six, skill: echo, inputs: { went: six } }]
`),
      { n: 6 },
    );
    assert.deepEqual(result.final_output, { echoed: { went: 'six' } });
  });

  it('switch: with no match and no default does nothing', async () => {
    const result = await runDefinition(
      opts(),
      def(`
metadata: { id: sw0, name: Switch0, version: "1" }
steps:
  - id: route
    step_type: switch
    condition: "{{ workflow.input.kind }}"
    branches:
      a: [{ id: only_a, skill: echo, inputs: {} }]
`),
      { kind: 'b' },
    );
    // As Pallet: nothing ran, so there is no entry and the final output is {}.
    assert.deepEqual(result.step_outputs, {});
    assert.deepEqual(result.final_output, {});
  });

  it('a JSON-RPC error fails the step at once with the agent message and the step id', async () => {
    const before = agent.callsTo('fail').length;
    const message = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: f, name: F, version: "1" }
steps:
  - { id: ask, skill: fail, inputs: {} }
`),
      ),
    );
    assert.match(message, /Step "ask"/);
    assert.match(message, /the model refused: prompt too long/);
    assert.equal(agent.callsTo('fail').length - before, 1, 'a JSON-RPC error is not retried');
  });

  it('an HTTP 4xx fails at once; a reply that is not JSON-RPC fails with a clear message', async () => {
    const teapot = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: t, name: T, version: "1" }
steps: [{ id: brew, skill: teapot, inputs: {} }]
`),
      ),
    );
    assert.match(teapot, /Step "brew".*HTTP 418: I am a teapot/);
    const garbage = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: g, name: G, version: "1" }
steps: [{ id: parse, skill: garbage, inputs: {} }]
`),
      ),
    );
    assert.match(garbage, /Step "parse".*not JSON: <html>oops<\/html>/);
  });

  it('an unknown skill fails the step at once, listing the known skills', async () => {
    const message = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: u, name: U, version: "1" }
steps: [{ id: mystery, skill: no_such_skill, inputs: {} }]
`),
      ),
    );
    assert.match(message, /Step "mystery".*no agent offers skill "no_such_skill"/);
    assert.match(message, /known skills: .*classify.*echo/);
  });

  it('an agent that does not answer within the step timeout fails the step after its third failure', async () => {
    const before = agent.callsTo('slow').length;
    const message = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: s, name: S, version: "1" }
steps: [{ id: sleepy, skill: slow, inputs: { ms: 5000 }, timeout: 1 }]
`),
      ),
    );
    assert.match(message, /Step "sleepy".*did not answer within the step's timeout of 1 s \(the agent's failure 3 of 3\)/);
    assert.equal(agent.callsTo('slow').length - before, 3, "the agent's own failures end the step after 3");
  });

  it('an agent answering HTTP 500 fails the step after its third failure, saying so', async () => {
    let calls = 0;
    const broken = await startTestAgent('broken-agent', {
      explode: () => {
        calls++;
        throw new HttpReply(500, '{"detail":"boom"}');
      },
    });
    try {
      const message = await failureMessage(
        runDefinition(
          { agentUrls: [broken.url] },
          def(`
metadata: { id: e, name: E, version: "1" }
steps: [{ id: boom, skill: explode, inputs: {}, timeout: 5 }]
`),
        ),
      );
      assert.match(message, /Step "boom".*answered HTTP 500.*\(the agent's failure 3 of 3\)/);
      assert.equal(calls, 3);
    } finally {
      await broken.close();
    }
  });

  it('an agent that is down for a while is waited for: the run completes when it is back', async () => {
    const port = await freePort();
    const definition = def(`
metadata: { id: d, name: D, version: "1" }
steps: [{ id: call_down, skill: vanish, inputs: {}, timeout: 2 }]
`);
    let flaky = await startTestAgent('flaky-agent', { vanish: () => 'here' }, { port });
    const result = await withWorker({ agentUrls: [flaky.url] }, async ({ start }) => {
      // First run: the agent is up, its card is cached by the worker.
      assert.equal(await (await start({ definition, input: {} })).result().then((r) => r.final_output), 'here');
      await flaky.close();
      // Second run: the agent is gone for 6 s (more than 3 failed attempts), then back.
      const handle = await start({ definition, input: {} });
      await new Promise((r) => setTimeout(r, 6_000));
      flaky = await startTestAgent('flaky-agent', { vanish: () => 'back' }, { port });
      return handle.result();
    });
    await flaky.close();
    assert.equal(result.final_output, 'back');
  });

  it('an agent that stays down fails the step at its deadline, with the last failure', async () => {
    const port = await freePort();
    const definition = def(`
metadata: { id: d2, name: D2, version: "1" }
steps: [{ id: call_gone, skill: vanish, inputs: {}, timeout: 1 }]
`);
    const gone = await startTestAgent('gone-agent', { vanish: () => 'here' }, { port });
    const message = await withWorker({ agentUrls: [gone.url] }, async ({ start }) => {
      await (await start({ definition, input: {} })).result();
      await gone.close();
      const started = Date.now();
      const msg = await failureMessage((await start({ definition, input: {} })).result());
      assert.ok(Date.now() - started >= 12_000, `retried towards the deadline (30 s), not ${Date.now() - started} ms: ${msg}`);
      return msg;
    });
    assert.match(message, /Step "call_gone".*gave up before the step's deadline of 30 s .*; last failure: .*unreachable \(ECONNREFUSED\)/);
    assert.ok(message.includes(gone.url), message);
  });

  it('one failing parallel branch cancels its running siblings and the error names the branch', async () => {
    const before = agent.callsTo('slow').length;
    const started = Date.now();
    const message = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: p, name: P, version: "1" }
steps:
  - id: fan
    step_type: parallel
    branches:
      steps:
        - { id: long_branch, skill: slow, inputs: { ms: 20000 }, timeout: 60 }
        - { id: bad_branch, skill: fail, inputs: {} }
  - { id: never, skill: echo, inputs: {} }
`),
      ),
    );
    assert.match(message, /Step "bad_branch" \(in "fan"\) failed.*the model refused/);
    assert.ok(Date.now() - started < 15_000, 'the run fails without waiting for the slow sibling');
    assert.equal(agent.callsTo('slow').length - before, 1);
  });

  it('a run whose outputs add up past the payload limit fails with a clear message instead of wedging', async () => {
    const message = await failureMessage(
      runDefinition(
        opts(),
        def(`
metadata: { id: bigrun, name: BigRun, version: "1" }
steps:
  - { id: part1, skill: huge, inputs: { bytes: 1000000 } }
  - { id: part2, skill: huge, inputs: { bytes: 1000000 } }
`),
      ),
    );
    assert.match(message, /the run's result \(all step outputs\) is \d+ bytes, over the 1900000-byte limit/);
  });

  it('an agent result too large for a Temporal payload fails its step with a clear message', async () => {
    const message = await failureMessage(
      runDefinition(
        { agentUrls: [agent.url], maxResultBytes: 100_000 },
        def(`
metadata: { id: big, name: Big, version: "1" }
steps: [{ id: bulky, skill: huge, inputs: { bytes: 200000 } }]
`),
      ),
    );
    assert.match(message, /Step "bulky".*returned 200002 bytes.*over the 100000-byte limit/);
  });
});
