// lint --check-agents' checks against what runs would find: execute_workflow steps naming
// workflows that do not exist (in PALLET_WORKFLOWS_DIR here; the registry in the
// integration tests), and skills that cannot be checked when discovery failed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkWorkflowIds, lintFile, workflowLookup, type WorkflowLookup } from '../../../src/cli/lint';
import { Services } from '../../../src/services';
import { loadSettings } from '../../../src/settings';
import { parseDefinition } from '../../../src/dsl/loader';
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

  it("names the registry repository and tag it looked for", async () => {
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
    const routerAgents: AgentEntry[] = [{ url: 'http://r:1', origin: 'test', card: { name: 'r', skills: ['analyze_request', 'create_plan'].map((id) => ({ id })) } }];
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
