// lint --check-agents' checks against what runs would find: execute_workflow steps naming
// workflows that do not exist (in PALLET_WORKFLOWS_DIR here; the registry in the
// integration tests), and skills that cannot be checked when discovery failed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkSelfRuns, checkWorkflowIds, lintFile, workflowLookup, type WorkflowLookup } from '../../../src/cli/lint';
import { Services } from '../../../src/services';
import { loadSettings } from '../../../src/settings';
import { parseDefinition } from '../../../src/dsl/loader';
import type { WorkflowDefinition } from '../../../src/dsl/types';
import type { AgentEntry } from '../../../src/sources/agents';

const WORKFLOWS = path.resolve(__dirname, '..', '..', '..', 'pallet-workflows');

const ROUTER = `metadata: { id: router-v1, name: Router, version: "1" }
steps:
  - id: pick
    skill: choose
    inputs: { text: "{{ workflow.input.requirements }}" }
  - id: route
    step_type: switch
    skill: route
    condition: "{{ steps.pick.outputs }}"
    branches:
      a:
        - id: run_known
          skill: execute_workflow
          inputs: { workflow_id: code-generation-v1, input: "{{ workflow.input }}" }
      b:
        - id: run_missing
          skill: execute_workflow
          inputs:
            workflow_id: no-such-workflow-v1
            input: "{{ workflow.input }}"
      default:
        - id: run_templated
          skill: execute_workflow
          inputs: { workflow_id: "{{ workflow.input.target }}" }
`;

const agents: AgentEntry[] = [{ url: 'http://a:1', origin: 'test', card: { name: 'a-agent', skills: [{ id: 'choose' }] } }];

describe('lint: execute_workflow targets', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-lint-'));
    file = path.join(dir, 'router.yaml');
    await writeFile(file, ROUTER);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reports a literal workflow id the folder does not have, at the id, and leaves templated ids alone', async () => {
    const workflows = workflowLookup(new Services(loadSettings({ PALLET_WORKFLOWS_DIR: WORKFLOWS })));
    const problems = await lintFile(file, { agents, workflows });
    assert.deepEqual(problems, [
      {
        file,
        line: 19,
        col: 26,
        message: `step "run_missing": execute_workflow names workflow "no-such-workflow-v1", which the folder ${WORKFLOWS} does not have`,
      },
    ]);
  });

  it('names the registry repository and tag it looked for', async () => {
    const asked: string[] = [];
    const lookup: WorkflowLookup = {
      describe: () => 'registry reg:5000',
      missing: async (id) => {
        asked.push(id);
        return id === 'code-generation-v1' ? undefined : 'workflows/no-such-workflow:v1';
      },
    };
    const parsed = parseDefinition(ROUTER, 'router.yaml');
    assert.ok(parsed.ok);
    const problems = await checkWorkflowIds(parsed.definition, 'router.yaml', lookup);
    assert.deepEqual(
      problems.map((p) => p.message),
      ['step "run_missing": execute_workflow names workflow "no-such-workflow-v1", which the registry reg:5000 does not have (workflows/no-such-workflow:v1)'],
    );
    assert.deepEqual(asked, ['code-generation-v1', 'no-such-workflow-v1']);
  });

  it('a lookup that cannot tell is a warning, not a problem', async () => {
    const lookup: WorkflowLookup = { describe: () => 'registry down:1', missing: () => Promise.reject(new Error('registry down:1 is unreachable')) };
    const parsed = parseDefinition(ROUTER, 'router.yaml');
    assert.ok(parsed.ok);
    const warn = console.error;
    const warnings: string[] = [];
    console.error = (line: string) => warnings.push(line);
    try {
      assert.deepEqual(await checkWorkflowIds(parsed.definition, 'router.yaml', lookup), []);
    } finally {
      console.error = warn;
    }
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /^warning: cannot check workflow "code-generation-v1" of step "run_known" in registry down:1: registry down:1 is unreachable$/);
  });

  it('the shipped workflows name only workflows that exist (smart-router reaches data-analysis-v1)', async () => {
    const workflows = workflowLookup(new Services(loadSettings({ PALLET_WORKFLOWS_DIR: WORKFLOWS })));
    const routerAgents: AgentEntry[] = [
      { url: 'http://r:1', origin: 'test', card: { name: 'r', skills: ['analyze_request', 'create_plan'].map((id) => ({ id })) } },
    ];
    assert.deepEqual(await lintFile(path.join(WORKFLOWS, 'smart-router.yaml'), { agents: routerAgents, workflows }), []);
  });

  it('with agent discovery incomplete, an unknown skill is reported as unchecked, not as offered by no agent', async () => {
    const problems = await lintFile(path.join(WORKFLOWS, 'code-generation.yaml'), { agents: [], discoveryProblems: true });
    assert.equal(problems.length, 3);
    for (const p of problems) assert.match(p.message, /is not offered by any agent that could be read \(known skills: none\); agent discovery failed in part/);
    const known = await lintFile(path.join(WORKFLOWS, 'code-generation.yaml'), { agents: [] });
    assert.match(known[0].message, /^step "plan": no agent offers skill "create_plan" \(known skills: none\)$/);
  });
});

/** A workflow whose steps run the given workflows: one in a for_each body's on_error, the others at the top. */
function runner(id: string, nested?: string, ...top: string[]): string {
  return `metadata: { id: ${id}, name: ${id}, version: "1" }
steps:
  - { id: start, skill: choose }
${top.map((w, i) => `  - { id: run_${i}, skill: execute_workflow, inputs: { workflow_id: ${w} } }`).join('\n')}
${
  nested === undefined
    ? ''
    : `  - id: each
    step_type: for_each
    items: [1, 2]
    steps:
      - id: try
        skill: choose
        on_error:
          - { id: run_nested, skill: execute_workflow, inputs: { workflow_id: ${nested}, input: {} } }
`
}`;
}

function definitionOf(text: string): WorkflowDefinition {
  const parsed = parseDefinition(text, 'w.yaml');
  if (!parsed.ok) assert.fail(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.definition;
}

/** A lookup over definitions in memory, by id; it counts what it was asked for. */
function lookupOf(texts: string[], asked: string[] = []): WorkflowLookup {
  const byId = new Map(texts.map((t) => definitionOf(t)).map((d) => [d.metadata.id, d]));
  return {
    describe: () => 'folder mem',
    missing: async (id) => (byId.has(id) ? undefined : ''),
    definition: async (id) => (asked.push(id), byId.get(id)),
  };
}

describe('lint: workflows that run themselves', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-lint-self-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("a workflow that runs itself (in a loop body's fallback) is refused by plain lint, at the workflow id", async () => {
    const file = path.join(dir, 'self.yaml');
    await writeFile(file, runner('self-v1', 'self-v1'));
    assert.deepEqual(await lintFile(file), [
      {
        file,
        line: 12,
        col: 79,
        message: 'step "run_nested": workflow "self-v1" runs itself through execute_workflow, without end: self-v1 -> self-v1',
      },
    ]);
  });

  it('with --check-agents, a cycle through other workflows is refused with its chain', async () => {
    const a = runner('a-v1', 'b-v1', 'ok-v1');
    const lookup = lookupOf([a, runner('b-v1', undefined, 'c-v1'), runner('c-v1', 'a-v1'), runner('ok-v1')]);
    const problems = await checkSelfRuns(definitionOf(a), 'a.yaml', lookup);
    assert.deepEqual(
      problems.map((p) => p.message),
      ['step "run_nested": workflow "a-v1" runs itself through execute_workflow, without end: a-v1 -> b-v1 -> c-v1 -> a-v1'],
    );
  });

  it('a workflow it runs that runs itself is named; workflows without cycles are read once and pass', async () => {
    const a = runner('a-v1', 'b-v1', 'ok-v1', 'ok-v1');
    const asked: string[] = [];
    const lookup = lookupOf([a, runner('b-v1', 'c-v1'), runner('c-v1', 'b-v1'), runner('ok-v1', 'leaf-v1'), runner('leaf-v1')], asked);
    const problems = await checkSelfRuns(definitionOf(a), 'a.yaml', lookup);
    assert.deepEqual(
      problems.map((p) => p.message),
      ['step "run_nested": workflow "b-v1" leads to a workflow that runs itself through execute_workflow, without end: a-v1 -> b-v1 -> c-v1 -> b-v1'],
    );
    assert.deepEqual(
      asked.filter((id) => id === 'ok-v1'),
      ['ok-v1'],
    );
    assert.deepEqual(await checkSelfRuns(definitionOf(runner('ok-v1', 'leaf-v1')), 'ok.yaml', lookup), []);
  });

  it('ids given by templates, and workflows that cannot be had, are not followed', async () => {
    const a = runner('a-v1', '"{{ workflow.input.next }}"', 'missing-v1');
    assert.deepEqual(await checkSelfRuns(definitionOf(a), 'a.yaml', lookupOf([a])), []);
  });

  it('lint --check-agents follows workflow ids through PALLET_WORKFLOWS_DIR', async () => {
    const folder = await mkdtemp(path.join(dir, 'workflows-'));
    await writeFile(path.join(folder, 'b.yaml'), runner('b-v1', 'a-v1'));
    const file = path.join(folder, 'a.yaml');
    await writeFile(file, runner('a-v1', 'b-v1'));
    const workflows = workflowLookup(new Services(loadSettings({ PALLET_WORKFLOWS_DIR: folder })));
    const problems = await lintFile(file, { agents: [{ url: 'http://a:1', origin: 'test', card: { name: 'a', skills: [{ id: 'choose' }] } }], workflows });
    assert.deepEqual(
      problems.map((p) => p.message),
      ['step "run_nested": workflow "a-v1" runs itself through execute_workflow, without end: a-v1 -> b-v1 -> a-v1'],
    );
  });
});
