// The registry side of the `pallet` command as a user meets it, against a real OCI registry,
// the real CLI (a separate process), the shared Temporal dev server and a worker that pulls
// definitions from the registry: push / publish-agent / list / show, lint --check-agents
// against published cards and stored workflows, runs by tag and by digest (pinned even after
// the tag moves), an invalid definition in the registry, and a registry that is down or
// lacks the tag.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { RunResult } from '../../src/dsl/types';
import { createRegistry, type PalletRegistry } from '../../src/registry';
import { RegistryStore } from '../../src/sources/definitions';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli, type CliResult } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { PALLET_AGENT_CARDS, PALLET_ORIGINALS, PALLET_TEST_WORKFLOWS, PALLET_WORKFLOWS } from '../helpers/pallet';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';

/** Pallet's own fixture of a definition without metadata.name (its original when at hand). */
const MISSING_REQUIRED = [
  PALLET_ORIGINALS && path.join(PALLET_ORIGINALS, 'test-workflows', 'missing_required.yaml'),
  path.join(PALLET_TEST_WORKFLOWS, 'missing_required.yaml'),
].find((f): f is string => !!f && existsSync(f))!;

/**
 * pallet-workflows/: Pallet's three, data-analysis that smart-router routes to, review-gate (expressions), approval-gate (waiting),
 * batch-review (for_each, error handling) and mixed-protocols (Pallet, A2A and MCP), sorted as list shows them.
 */
const PALLET_FILES = [
  'approval-gate',
  'batch-review',
  'code-generation',
  'data-analysis',
  'mixed-protocols',
  'parallel-analysis',
  'review-gate',
  'smart-router',
];

/** Two versions pushed to the same tag: each has a step the other does not. */
const PINNED_OLD = `metadata: { id: pinned-v1, name: Pinned (old), version: "1.0.0" }
steps:
  - { id: old_only, skill: echo, inputs: { text: "from the old definition" } }
  - { id: greet, skill: echo, inputs: { text: "{{ workflow.input.requirements }}" } }
`;
const PINNED_NEW = `metadata: { id: pinned-v1, name: Pinned (new), version: "2.0.0" }
steps:
  - { id: greet, skill: echo, inputs: { text: "{{ workflow.input.requirements }}" } }
  - { id: new_only, skill: echo, inputs: { text: "from the new definition" } }
`;

/** A valid-looking definition whose id is an existing workflow's, with a template to a missing step. */
const BAD_TEMPLATE = `metadata: { id: code-generation-v1, name: Bad, version: "1" }
steps:
  - { id: a, skill: echo, inputs: { x: "{{ steps.nope.outputs }}" } }
`;

const DIGEST = /sha256:[0-9a-f]{64}/;
const STACK = /\n\s+at /;

/** What the registry holds: every repository with its tags and the digest of each tag. */
async function snapshot(pallet: PalletRegistry, host: string): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const repo of (await pallet.client.catalog()).sort()) {
    out[repo] = {};
    for (const tag of (await pallet.client.tags(repo)).sort()) out[repo][tag] = (await pallet.client.resolve(`${host}/${repo}:${tag}`)).digest;
  }
  return out;
}

/** The digest `pallet push` printed for a pushed file. */
function pushedDigest(stdout: string, file: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`${file} (`));
  assert.ok(line, `no line for ${file} in:\n${stdout}`);
  const digest = DIGEST.exec(line)?.[0];
  assert.ok(digest, line);
  return digest;
}

/** One line on stderr, and no stack trace: what a user should see for a refused command. */
function oneClearLine(res: CliResult, what: string): string {
  assert.equal(res.code, 1, `${what}: exit code\n${res.stdout}${res.stderr}`);
  assert.doesNotMatch(res.stderr, STACK, `${what}: no stack trace`);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: one line\n${res.stderr}`);
  return lines[0];
}

/** Events of the `load-definition` activity in a run's history. */
async function loadDefinitionEvents(workflowId: string) {
  const temporal = await temporalEnv();
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityId === 'load-definition');
  const ids = new Set(scheduled.map((e) => String(e.eventId)));
  return {
    scheduled: scheduled.length,
    started: events
      .filter((e) => ids.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt),
    completed: events.filter((e) => ids.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))).length,
    failed: events
      .filter((e) => ids.has(String(e.activityTaskFailedEventAttributes?.scheduledEventId)))
      .map((e) => e.activityTaskFailedEventAttributes!.failure),
  };
}

describe('pallet registry commands and registry runs, through the real CLI', function () {
  this.timeout(120_000);
  let registry: RunningRegistry;
  let pallet: PalletRegistry;
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    const temporal = await temporalEnv();
    registry = await startRegistry();
    const regEnv = { PALLET_REGISTRY: registry.host };
    pallet = createRegistry(regEnv);
    agent = await startTestAgent('echo-agent', { echo: (p) => ({ said: p.text }) });
    const created = await createTestWorker({ agentUrls: [agent.url], definitions: new RegistryStore(createRegistry(regEnv), registry.host) });
    worker = created.worker;
    running = worker.run();
    // Only the registry: no workflow folder, no agent URLs for lint, discovery on.
    env = {
      ...regEnv,
      TEMPORAL_ADDRESS: temporal.address,
      PALLET_TASK_QUEUE: created.taskQueue,
      PALLET_AGENT_URLS: '',
      PALLET_REGISTRY_DISCOVERY: 'true',
      PALLET_WORKFLOWS_DIR: '',
    };
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-registry-cli-'));
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await agent?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('push, list, show', () => {
    it('push without files pushes all of pallet-workflows/ as workflows/<name>:v1; list and show read them back', async () => {
      const pushed = await runCli(['push'], { env });
      assert.equal(pushed.code, 0, pushed.stderr);
      const digests: Record<string, string> = {};
      for (const name of PALLET_FILES) {
        const file = `pallet-workflows/${name}.yaml`;
        assert.match(pushed.stdout, new RegExp(`^${file} \\(${name}-v1\\) -> ${registry.host}/workflows/${name}:v1 sha256:[0-9a-f]{64}$`, 'm'));
        digests[name] = pushedDigest(pushed.stdout, file);
        assert.equal((await pallet.client.resolve(`${registry.host}/workflows/${name}:v1`)).digest, digests[name], `${name}: the tag holds what push printed`);
      }
      assert.equal(pushed.stdout.trim().split('\n').length, PALLET_FILES.length, pushed.stdout);

      const [listed, table, shown] = await Promise.all([
        runCli(['list', '--json'], { env }),
        runCli(['list'], { env }),
        runCli(['show', 'code-generation-v1'], { env }),
      ]);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = JSON.parse(listed.stdout) as { repository: string; id: string; name: string; version: string; tags: string[]; digest: string }[];
      assert.deepEqual(
        rows.map((r) => [r.repository, r.id, r.version, r.tags, r.digest]),
        PALLET_FILES.map((n) => [`workflows/${n}`, `${n}-v1`, '1.0.0', ['v1'], digests[n]]),
      );
      assert.equal(rows.find((r) => r.id === 'code-generation-v1')?.name, 'Code Generation Pipeline');

      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trim().split('\n');
      assert.match(lines[0], /^ID\s+NAME\s+VERSION\s+TAGS\s+DIGEST$/);
      assert.ok(
        lines.some((line) => /^code-generation-v1\s+Code Generation Pipeline\s+1\.0\.0\s+v1\s+sha256:[0-9a-f]{12}$/.test(line)),
        table.stdout,
      );
      assert.equal(lines.length, 1 + PALLET_FILES.length);

      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout, await readFile(path.join(PALLET_WORKFLOWS, 'code-generation.yaml'), 'utf8'), 'show prints the file byte for byte');
      assert.equal(shown.stderr.trim(), `# ${registry.host}/workflows/code-generation:v1 (code-generation.yaml) ${digests['code-generation']}`);

      // Pushing the same files again leaves the tags where they are.
      const again = await runCli(['push'], { env });
      assert.match(again.stdout, /code-generation-v1\) = .*\(unchanged\)/);
      assert.equal((await pallet.client.resolve(`${registry.host}/workflows/code-generation:v1`)).digest, digests['code-generation']);

      // --json: what happened to each file, and show's definition with its source.
      const [againJson, shownJson] = await Promise.all([
        runCli(['push', '--json', 'pallet-workflows/code-generation.yaml'], { env }),
        runCli(['show', '--json', 'code-generation-v1'], { env }),
      ]);
      assert.equal(againJson.code, 0, againJson.stderr);
      assert.deepEqual(JSON.parse(againJson.stdout), [
        {
          file: 'pallet-workflows/code-generation.yaml',
          id: 'code-generation-v1',
          status: 'unchanged',
          ref: `${registry.host}/workflows/code-generation:v1`,
          digest: digests['code-generation'],
        },
      ]);
      const definition = JSON.parse(shownJson.stdout) as Record<string, unknown>;
      assert.equal(definition.digest, digests['code-generation']);
      assert.equal(definition.text, await readFile(path.join(PALLET_WORKFLOWS, 'code-generation.yaml'), 'utf8'));
    });

    it('push FILE refuses an invalid file with FILE:LINE:COL lines, exit 1, and writes nothing to the registry', async () => {
      const badTemplate = path.join(dir, 'bad-template.yaml');
      await writeFile(badTemplate, BAD_TEMPLATE);
      const badSyntax = path.join(dir, 'bad-syntax.yaml');
      await writeFile(badSyntax, 'metadata: [\n  nope');
      const before = await snapshot(pallet, registry.host);
      assert.ok(before['workflows/code-generation'], 'code-generation was pushed by the test before');

      const [missing, bad] = await Promise.all([runCli(['push', MISSING_REQUIRED], { env }), runCli(['push', badTemplate, badSyntax], { env })]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stdout, '');
      assert.deepEqual(missing.stderr.trim().split('\n'), [`${MISSING_REQUIRED}:2:3: metadata.name is required`, `${MISSING_REQUIRED}: not pushed (invalid)`]);

      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, '');
      assert.deepEqual(bad.stderr.trim().split('\n'), [
        `${badTemplate}:3:40: step "a": template "{{ steps.nope.outputs }}" refers to step "nope", but there is no such step`,
        `${badTemplate}: not pushed (invalid)`,
        `${badSyntax}:2:7: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
        `${badSyntax}: not pushed (invalid)`,
      ]);
      // bad-template.yaml has the id code-generation-v1: the tag must not have moved.
      assert.deepEqual(await snapshot(pallet, registry.host), before, 'catalog, tags and digests unchanged');
    });

    it('push of valid and invalid files pushes the valid ones, refuses the others and exits 1', async () => {
      const badTemplate = path.join(dir, 'mixed-bad.yaml');
      await writeFile(badTemplate, BAD_TEMPLATE);
      const good = path.join(dir, 'mixed-good.yaml');
      await writeFile(good, PINNED_OLD.replace('pinned-v1', 'mixed-good-v3'));
      const before = await snapshot(pallet, registry.host);

      const res = await runCli(['push', badTemplate, good, MISSING_REQUIRED], { env });
      assert.equal(res.code, 1);
      assert.match(res.stderr, new RegExp(`^${badTemplate}:3:40: step "a": template`, 'm'));
      assert.match(res.stderr, new RegExp(`^${MISSING_REQUIRED}:2:3: metadata\\.name is required$`, 'm'));
      const digest = pushedDigest(res.stdout, good);
      assert.match(
        res.stdout,
        new RegExp(`^${good} \\(mixed-good-v3\\) -> ${registry.host}/workflows/mixed-good:v3 sha256:`, 'm'),
        'tag from the -vN suffix of the id',
      );
      assert.deepEqual(await snapshot(pallet, registry.host), { ...before, 'workflows/mixed-good': { v3: digest } }, 'only the valid file was written');
      assert.equal((await pallet.pullWorkflow('mixed-good:v3')).text, await readFile(good, 'utf8'));
    });

    it('push of a missing file and a valid one still pushes the valid one', async () => {
      const missing = path.join(dir, 'no-such.yaml');
      const good = path.join(dir, 'after-missing.yaml');
      await writeFile(good, PINNED_OLD.replace('pinned-v1', 'after-missing-v1'));
      const res = await runCli(['push', missing, good], { env });
      assert.equal(res.code, 1);
      assert.match(res.stderr, new RegExp(`^${missing}: .*(cannot read|no such file)`, 'm'));
      assert.match(res.stdout, new RegExp(`^${good} \\(after-missing-v1\\) -> `, 'm'));
      assert.ok((await pallet.client.catalog()).includes('workflows/after-missing'));
    });

    it('list names the repository of an invalid or unreadable workflow and says why', async () => {
      await pallet.pushWorkflow('broken', 'broken.yaml', 'metadata: { id: broken-v1, name: Broken, version: "1" }\nsteps: []\n', 'v1');
      await pallet.client.pushArtifact('workflows/not-yaml', 'v1', [{ name: 'data.json', mediaType: 'application/json', data: '{}' }]);
      const res = await runCli(['list'], { env });
      assert.equal(res.code, 0, res.stderr);
      const invalid = res.stdout.split('\n').filter((l) => l.includes('(invalid)'));
      assert.equal(invalid.length, 2, res.stdout);
      assert.ok(
        invalid.some((l) => l.includes('broken')),
        res.stdout,
      );
      assert.ok(
        invalid.some((l) => l.includes('not-yaml')),
        res.stdout,
      );
      assert.match(res.stderr, /^warning: workflows\/not-yaml:v1 is invalid: .*no YAML layer/m);
      assert.match(res.stderr, /^warning: workflows\/broken:v1 is invalid: workflows\/broken:\d+:\d+: /m);
      const rows = JSON.parse((await runCli(['list', '--json'], { env })).stdout) as { repository: string; problem?: string }[];
      assert.match(rows.find((r) => r.repository === 'workflows/not-yaml')?.problem ?? '', /no YAML layer/);
    });
  });

  describe('publish-agent and lint --check-agents', () => {
    it('publish-agent pushes card files as agents/<agent>:v1 byte for byte, and refuses files that are not cards', async () => {
      const planCard = path.join(PALLET_AGENT_CARDS, 'plan_agent_card.json');
      const buildCard = path.join(PALLET_AGENT_CARDS, 'build_agent_card.json');
      const notACard = path.join(dir, 'not-a-card.json');
      await writeFile(notACard, '{"hello": "world"}\n');
      const notJson = path.join(dir, 'card.yaml');
      await writeFile(notJson, 'name: yaml-agent\nskills: []\n');

      const [published, refused, unreadable] = await Promise.all([
        runCli(['publish-agent', planCard, buildCard], { env }),
        runCli(['publish-agent', notACard], { env }),
        runCli(['publish-agent', notJson], { env }),
      ]);
      assert.equal(published.code, 0, published.stderr);
      assert.match(published.stdout, new RegExp(`^${planCard} \\(plan-agent, create_plan\\) -> ${registry.host}/agents/plan:v1 sha256:[0-9a-f]{64}$`, 'm'));
      assert.match(
        published.stdout,
        new RegExp(`^${buildCard} \\(build-agent, generate_code\\) -> ${registry.host}/agents/build:v1 sha256:[0-9a-f]{64}$`, 'm'),
      );
      assert.match((await runCli(['publish-agent', planCard], { env })).stdout, /= .*agents\/plan:v1 sha256:.*\(unchanged\)/);
      const publishedJson = JSON.parse((await runCli(['publish-agent', '--json', planCard], { env })).stdout) as Record<string, unknown>[];
      assert.deepEqual(
        publishedJson.map((r) => [r.source, r.agent, r.skills, r.status, r.ref]),
        [[planCard, 'plan-agent', ['create_plan'], 'unchanged', `${registry.host}/agents/plan:v1`]],
      );
      assert.match(String(publishedJson[0].digest), /^sha256:[0-9a-f]{64}$/);
      const pulled = await pallet.client.pullArtifact(`${registry.host}/agents/plan:v1`);
      assert.deepEqual(
        pulled.files.map((f) => [f.name, f.data.toString('utf8')]),
        [['plan_agent_card.json', await readFile(planCard, 'utf8')]],
      );

      const refusedLine = oneClearLine(refused, 'not a card');
      assert.match(refusedLine, new RegExp(`^${notACard}: not an agent card: .*name: .*(expected string|required)`, 'i'));
      assert.match(refusedLine, /skills/, 'names the missing skills too');
      const unreadableLine = oneClearLine(unreadable, 'not JSON');
      assert.match(unreadableLine, new RegExp(`^${notJson}: cannot read an agent card: .*not valid JSON`));
      assert.deepEqual(
        (await pallet.client.catalog()).filter((r) => r.startsWith('agents/')).sort(),
        ['agents/build', 'agents/plan'],
        'nothing written for the refused files',
      );
    });

    it('lint --check-agents names the step, the unknown skill and the known skills, and a required input that is missing', async () => {
      const flow = path.join(dir, 'uses-cards.yaml');
      await writeFile(
        flow,
        `metadata: { id: uses-cards-v1, name: Uses cards, version: "1" }
steps:
  - id: plan
    skill: create_plan
    inputs: { goal: "{{ workflow.input.requirements }}" }
  - id: fly
    skill: fly_to_moon
    inputs: {}
  - id: build
    skill: generate_code
    inputs: { plan: "{{ steps.plan.outputs }}" }
`,
      );
      const good = path.join(dir, 'cards-ok.yaml');
      await writeFile(
        good,
        `metadata: { id: cards-ok-v1, name: OK, version: "1" }\nsteps:\n  - { id: plan, skill: create_plan, inputs: { requirements: x } }\n`,
      );
      const res = await runCli(['lint', '--check-agents', flow, good], { env });
      assert.equal(res.code, 1, res.stderr);
      assert.deepEqual(res.stdout.trim().split('\n'), [
        `${flow}:5:13: step "plan": skill "create_plan" of agent plan-agent requires input "requirements"`,
        `${flow}:7:12: step "fly": no agent offers skill "fly_to_moon" (known skills: create_plan, generate_code)`,
      ]);
      assert.doesNotMatch(res.stderr, /warning/, res.stderr);
    });

    it('lint --check-agents with the registry down says so instead of reporting the skills as unknown', async () => {
      const down = `127.0.0.1:${await freePort()}`;
      const res = await runCli(['lint', '--check-agents', path.join(PALLET_WORKFLOWS, 'code-generation.yaml')], { env: { ...env, PALLET_REGISTRY: down } });
      assert.equal(res.code, 1);
      assert.match(res.stderr, new RegExp(`registry ${down.replace(/\./g, '\\.')} is unreachable`));
      assert.doesNotMatch(res.stdout, /no agent offers skill/);
      assert.match(
        res.stdout,
        /:13:12: step "plan": skill "create_plan" is not offered by any agent that could be read \(known skills: none\); agent discovery failed in part, see the warnings$/m,
      );
    });

    it('lint --check-agents reports an execute_workflow step naming a workflow the registry does not have, at its workflow_id', async () => {
      const flow = path.join(dir, 'routes.yaml');
      await writeFile(
        flow,
        `metadata: { id: routes-v1, name: Routes, version: "1" }
steps:
  - id: route
    step_type: switch
    skill: route
    condition: "{{ workflow.input.kind }}"
    branches:
      data:
        - id: analyze_data_workflow
          skill: execute_workflow
          inputs:
            workflow_id: data-analysis-v1
            input: "{{ workflow.input }}"
      report:
        - id: report_workflow
          skill: execute_workflow
          inputs:
            workflow_id: monthly-report-v2
            input: "{{ workflow.input }}"
      pinned:
        - { id: pinned_workflow, skill: execute_workflow, inputs: { workflow_id: "code-generation:v7" } }
      chosen:
        - { id: chosen_workflow, skill: execute_workflow, inputs: { workflow_id: "{{ workflow.input.target }}" } }
`,
      );
      // data-analysis-v1 was pushed with pallet-workflows/ above; the others never were.
      const res = await runCli(['lint', '--check-agents', flow], { env });
      assert.equal(res.code, 1, res.stderr);
      assert.deepEqual(res.stdout.trim().split('\n'), [
        `${flow}:18:26: step "report_workflow": execute_workflow names workflow "monthly-report-v2", which the registry ${registry.host} does not have (workflows/monthly-report:v2)`,
        `${flow}:21:82: step "pinned_workflow": execute_workflow names workflow "code-generation:v7", which the registry ${registry.host} does not have (workflows/code-generation:v7)`,
      ]);

      // Pallet's smart-router names data-analysis-v1; with PALLET_WORKFLOWS_DIR the folder is asked instead.
      const router = path.join(PALLET_WORKFLOWS, 'smart-router.yaml');
      const inRegistry = await runCli(['lint', '--check-agents', router], { env });
      assert.doesNotMatch(inRegistry.stdout, /execute_workflow names/, inRegistry.stdout);
      const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'pallet-no-workflows-'));
      const inFolder = await runCli(['lint', '--check-agents', router], { env: { ...env, PALLET_WORKFLOWS_DIR: emptyDir } });
      assert.match(
        inFolder.stdout,
        new RegExp(
          `:29:26: step "generate_code_workflow": execute_workflow names workflow "code-generation-v1", which the folder ${emptyDir} does not have$`,
          'm',
        ),
      );
      assert.match(
        inFolder.stdout,
        new RegExp(
          `:36:26: step "analyze_data_workflow": execute_workflow names workflow "data-analysis-v1", which the folder ${emptyDir} does not have$`,
          'm',
        ),
      );
      await rm(emptyDir, { recursive: true, force: true });
    });

    it('lint --check-agents warns when agents of different names offer a skill, naming the one the worker calls', async () => {
      const other = path.join(dir, 'another_agent_card.json');
      await writeFile(other, JSON.stringify({ name: 'another-agent', url: 'http://another:9', skills: [{ id: 'create_plan', description: 'plans too' }] }));
      const published = await runCli(['publish-agent', other], { env });
      assert.equal(published.code, 0, published.stderr);
      const res = await runCli(['lint', '--check-agents', path.join(dir, 'cards-ok.yaml')], { env });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      // Registry cards count in the order of their repositories: agents/another before agents/plan.
      assert.match(
        res.stderr,
        new RegExp(
          `^warning: skill "create_plan" is offered by 2 agents: another-agent at http://another:9 \\(registry ${registry.host} agents/another:v1\\) is called; not plan-agent at http://localhost:8001 \\(registry ${registry.host} agents/plan:v1\\)$`,
          'm',
        ),
      );
    });
  });

  describe('runs from the registry', () => {
    async function run(workflow: string, id: string): Promise<RunResult> {
      const res = await runCli(['run', '--workflow', workflow, '--id', id, '--json', 'hello'], { env });
      assert.equal(res.code, 0, `pallet run --workflow ${workflow}:\n${res.stderr}`);
      return JSON.parse(res.stdout) as RunResult;
    }

    async function memo(id: string): Promise<Record<string, unknown>> {
      return (await (await temporalEnv()).client.workflow.getHandle(id).describe()).memo ?? {};
    }

    it('run --workflow name:tag and name@sha256:digest run what was pushed; the worker pulls it; the memo has the digest; the digest still runs the old definition after the tag moved', async () => {
      const file = path.join(dir, 'pinned.yaml');
      await writeFile(file, PINNED_OLD);
      const first = await runCli(['push', file], { env });
      assert.equal(first.code, 0, first.stderr);
      const oldDigest = pushedDigest(first.stdout, file);

      const byTag = uniqueId('by-tag');
      const byDigest = uniqueId('by-digest');
      const [tagResult, digestResult] = await Promise.all([run('pinned:v1', byTag), run(`pinned@${oldDigest}`, byDigest)]);
      for (const [id, result] of [
        [byTag, tagResult],
        [byDigest, digestResult],
      ] as const) {
        assert.equal(result.workflow_name, 'Pinned (old)', id);
        assert.deepEqual(Object.keys(result.step_outputs), ['old_only', 'greet'], id);
        assert.deepEqual(result.final_output, { said: 'hello' });
        const m = await memo(id);
        assert.equal(m.definitionDigest, oldDigest, `${id}: the memo records the manifest digest`);
        assert.equal(m.definitionId, 'pinned-v1');
        // The CLI sent a reference, not the definition: the worker loaded it in one activity.
        const load = await loadDefinitionEvents(id);
        assert.deepEqual([load.scheduled, load.completed, load.failed.length], [1, 1, 0], id);
      }

      // The tag moves: a changed definition pushed to the same tag.
      await writeFile(file, PINNED_NEW);
      const second = await runCli(['push', file], { env });
      assert.equal(second.code, 0, second.stderr);
      const newDigest = pushedDigest(second.stdout, file);
      assert.notEqual(newDigest, oldDigest);
      assert.equal((await pallet.client.resolve(`${registry.host}/workflows/pinned:v1`)).digest, newDigest);

      const oldAgain = uniqueId('old-digest');
      const moved = uniqueId('moved-tag');
      const [oldResult, movedResult] = await Promise.all([run(`pinned@${oldDigest}`, oldAgain), run('pinned-v1', moved)]);
      assert.equal(oldResult.workflow_name, 'Pinned (old)', 'the old digest still runs the old definition');
      assert.deepEqual(Object.keys(oldResult.step_outputs), ['old_only', 'greet']);
      assert.equal((await memo(oldAgain)).definitionDigest, oldDigest);
      assert.equal(movedResult.workflow_name, 'Pinned (new)', 'the tag now names the new definition');
      assert.deepEqual(Object.keys(movedResult.step_outputs), ['greet', 'new_only']);
      assert.equal((await memo(moved)).definitionDigest, newDigest);
    });

    it('a definition in the registry that is invalid fails the run at once, with the lint message and its line:col, after one attempt', async () => {
      // Pushed with the registry client, past the CLI's lint.
      await pallet.pushWorkflow(
        'broken',
        'broken.yaml',
        'metadata: { id: broken-v1, name: Broken, version: "1" }\nsteps:\n  - { id: a, skill: echo, inputs: { x: "{{ steps.zz.outputs }}" } }\n',
        'v1',
      );
      const id = uniqueId('broken');
      const started = Date.now();
      const res = await runCli(['run', '--workflow', 'broken-v1', '--id', id, 'x'], { env });
      const elapsed = Date.now() - started;
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.ok(elapsed < 10_000, `failed after ${elapsed} ms, not after retries`);
      assert.doesNotMatch(res.stderr, STACK);
      assert.match(res.stderr, new RegExp(`^run ${id} failed: cannot load workflow workflows/broken:v1: definition workflows/broken:v1 is invalid:$`, 'm'));
      assert.match(
        res.stderr,
        new RegExp(
          `^\\s+${registry.host}/workflows/broken:v1 \\(broken\\.yaml\\):3:40: step "a": template "\\{\\{ steps\\.zz\\.outputs \\}\\}" refers to step "zz", but there is no such step$`,
          'm',
        ),
      );
      assert.doesNotMatch(res.stderr, /pallet retry/, 'retrying would not help: no retry hint');

      const load = await loadDefinitionEvents(id);
      assert.equal(load.scheduled, 1);
      assert.deepEqual(load.started, [1], 'one attempt');
      assert.equal(load.failed.length, 1);
      assert.equal(load.failed[0]?.applicationFailureInfo?.nonRetryable, true);
      assert.equal(load.failed[0]?.applicationFailureInfo?.type, 'InvalidDefinition');
      const description = await (await temporalEnv()).client.workflow.getHandle(id).describe();
      assert.equal(description.status.name, 'FAILED');
    });

    it('a workflow repository holding something that is not a Pallet artifact fails the run at once, saying what it holds', async () => {
      await pallet.client.pushArtifact('workflows/not-yaml', 'v1', [{ name: 'data.json', mediaType: 'application/json', data: '{}' }]);
      const id = uniqueId('not-yaml');
      const started = Date.now();
      const res = await runCli(['run', '--workflow', 'not-yaml-v1', '--id', id, 'x'], { env });
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.ok(Date.now() - started < 10_000, 'not retried');
      assert.doesNotMatch(res.stderr, STACK);
      assert.match(
        res.stderr,
        new RegExp(
          `^run ${id} failed: .*workflows/not-yaml@sha256:[0-9a-f]{64} on registry ${registry.host} has no YAML layer .*\\(it has data\\.json\\); was it pushed as a Pallet artifact\\?$`,
          'm',
        ),
      );
      const load = await loadDefinitionEvents(id);
      assert.deepEqual(load.started, [1], 'one attempt');
      assert.equal(load.failed[0]?.applicationFailureInfo?.nonRetryable, true);
    });

    // The loadDefinition activity says why; the interpreter says which workflow: once.
    it('that failure names the workflow once', async () => {
      await pallet.client.pushArtifact('workflows/not-yaml', 'v1', [{ name: 'data.json', mediaType: 'application/json', data: '{}' }]);
      const res = await runCli(['run', '--workflow', 'not-yaml-v1', 'x'], { env });
      assert.equal(res.code, 1);
      assert.equal(res.stderr.split('cannot load workflow workflows/not-yaml:v1').length - 1, 1, res.stderr);
    });
  });

  describe('errors a user meets', () => {
    it('a registry that is down: run, list, show and push exit 1 with one line naming the registry as unreachable', async () => {
      const down = `127.0.0.1:${await freePort()}`;
      const downEnv = { ...env, PALLET_REGISTRY: down };
      const commands = [['run', '--workflow', 'x-v1'], ['list'], ['show', 'x-v1'], ['push', path.join(PALLET_WORKFLOWS, 'code-generation.yaml')]];
      const results = await Promise.all(commands.map((args) => runCli(args, { env: downEnv })));
      results.forEach((res, i) => {
        const line = oneClearLine(res, commands[i].join(' '));
        assert.match(
          line,
          new RegExp(`^registry ${down.replace(/\./g, '\\.')} is unreachable \\(ECONNREFUSED\\) while .*; is it running\\? set PALLET_REGISTRY`),
          commands[i].join(' '),
        );
      });
    });

    it('a tag or a workflow that does not exist: run and show exit 1 with one line naming the reference', async () => {
      const [runTag, runName, showTag] = await Promise.all([
        runCli(['run', '--workflow', 'pinned:v9'], { env }),
        runCli(['run', '--workflow', 'never-pushed-v1'], { env }),
        runCli(['show', 'pinned:v9'], { env }),
      ]);
      const host = registry.host.replace(/\./g, '\\.');
      assert.match(
        oneClearLine(runTag, 'run pinned:v9'),
        new RegExp(`workflows/pinned:v9 was not found on registry ${host}.*check the name and tag, or push it first`),
      );
      assert.match(oneClearLine(runName, 'run never-pushed-v1'), new RegExp(`workflows/never-pushed:v1 was not found on registry ${host}`));
      assert.match(oneClearLine(showTag, 'show pinned:v9'), new RegExp(`^workflow pinned:v9 not found in registry ${host}: workflows/pinned:v9 was not found`));
    });
  });
});
