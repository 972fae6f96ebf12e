// The one walk of the step tree (dsl/step-kinds.ts) and its consumers. A definition nests every
// step type inside every child list of every other (parallel steps, conditional, switch and
// wait branches, loop bodies, on_error, compensate), and each consumer must see every step of
// it: validate (duplicate ids, unknown template references), lint advice, the chart, lint
// --check-agents (skills, workflow ids) and the call steps `pallet retry` matches.
import assert from 'node:assert/strict';
import { checkAgainstAgents, checkWorkflowIds, type WorkflowLookup } from '../../../src/cli/lint';
import { adviseDefinition } from '../../../src/dsl/advice';
import { workflowGraph } from '../../../src/dsl/graph';
import { formatProblem, parseDefinition } from '../../../src/dsl/loader';
import { callStepsById, childLists, kindOf, STEP_KINDS, walkSteps, type FieldPath, type StepVisit } from '../../../src/dsl/step-kinds';
import { STEP_TYPES, type StepType } from '../../../src/dsl/step-types';
import type { WorkflowDefinition } from '../../../src/dsl/types';
import { formatPath, validateDefinition } from '../../../src/dsl/validate';

type Raw = Record<string, unknown>;

/** Where each step type holds steps, written out here (not read from the table under test). */
const CHILD_LISTS: { [T in StepType]: string[][] } = {
  sequential: [['on_error'], ['compensate']],
  parallel: [['branches', 'steps']],
  conditional: [
    ['branches', 'if_true'],
    ['branches', 'if_false'],
  ],
  switch: [
    ['branches', 'a'],
    ['branches', 'default'],
  ],
  sleep: [],
  wait: [
    ['branches', 'approved'],
    ['branches', 'rejected'],
    ['branches', 'timed_out'],
  ],
  for_each: [['steps']],
  repeat: [['steps']],
};

/** The fields a step of each type needs besides its id and children. */
const FIELDS: { [T in StepType]: Raw } = {
  sequential: {},
  parallel: { step_type: 'parallel' },
  conditional: { step_type: 'conditional', condition: 'yes' },
  switch: { step_type: 'switch', condition: 'a' },
  sleep: { step_type: 'sleep', duration: '1s' },
  wait: { step_type: 'wait', timeout: 60 },
  for_each: { step_type: 'for_each', items: [1, 2] },
  repeat: { step_type: 'repeat', until: 'true', max_iterations: 2 },
};

interface Nested {
  definition: Raw;
  /** Every step id by type, every call step id, every execute_workflow step id, every list of steps (its path). */
  ids: Map<string, StepType>;
  calls: string[];
  runs: string[];
  lists: FieldPath[];
}

/**
 * Top level: one step of each type and an execute_workflow step; in each child list of each
 * of them, the same again; in each child list of those, a call step and an execute_workflow step.
 * Ids are `n<number>_<type>`, so no id is the start of another.
 */
function nested(): Nested {
  let n = 0;
  const out: Nested = { definition: {}, ids: new Map(), calls: [], runs: [], lists: [] };
  const call = (): Raw => {
    const id = `n${++n}_call`;
    out.ids.set(id, 'sequential');
    out.calls.push(id);
    return { id, skill: `skill_${id}` };
  };
  const run = (): Raw => {
    const id = `n${++n}_run`;
    out.ids.set(id, 'sequential');
    out.calls.push(id);
    out.runs.push(id);
    return { id, skill: 'execute_workflow', inputs: { workflow_id: `wf_${id}`, input: {} } };
  };
  const list = (path: FieldPath, depth: number): Raw[] => {
    out.lists.push(path);
    const steps: Raw[] = [];
    const add = (make: (at: FieldPath) => Raw) => steps.push(make([...path, steps.length]));
    if (depth === 0) {
      add(call);
      add(run);
      return steps;
    }
    for (const type of STEP_TYPES) add((at) => step(type, at, depth - 1));
    add(run);
    return steps;
  };
  const step = (type: StepType, at: FieldPath, depth: number): Raw => {
    const id = `n${++n}_${type}`;
    out.ids.set(id, type);
    if (type === 'sequential') out.calls.push(id);
    const made: Raw = { id, ...(type === 'sequential' ? { skill: `skill_${id}` } : {}), ...FIELDS[type] };
    for (const [field, name] of CHILD_LISTS[type]) {
      const steps = list(name === undefined ? [...at, field] : [...at, field, name], depth);
      if (name === undefined) made[field] = steps;
      else made[field] = { ...((made[field] as Raw | undefined) ?? {}), [name]: steps };
    }
    return made;
  };
  out.definition = { metadata: { id: 'nested-v1', name: 'Nested', version: '1' }, steps: list(['steps'], 2) };
  return out;
}

const typed = (raw: Raw): WorkflowDefinition => {
  const parsed = parseDefinition(JSON.stringify(raw), 'nested.yaml');
  if (!parsed.ok) assert.fail(parsed.problems.map(formatProblem).join('\n'));
  return parsed.definition;
};

/** The value at a path of a raw definition. */
const at = (root: unknown, path: FieldPath): unknown => path.reduce<unknown>((v, k) => (v as Raw)[k as string], root);

/** The step id a message names (`step "x": ...`). */
const stepOf = (message: string) => /^step "([^"]+)"/.exec(message)?.[1];

const sorted = (ids: Iterable<string>) => [...ids].sort();

describe('dsl/step-kinds: one walk of the step tree', () => {
  const tree = nested();
  const definition = typed(tree.definition);

  it('the nested definition has every step type in every child list of every other, and is valid', () => {
    // 9 at the top; 9 in each of the 12 lists of the top containers; 2 in each of their 12 lists each.
    assert.equal(tree.ids.size, 9 + 12 * (9 + 12 * 2));
    assert.deepEqual(validateDefinition(tree.definition), []);
    for (const type of STEP_TYPES) assert.ok([...tree.ids.values()].includes(type), type);
  });

  it('walkSteps visits every step once, with its path, parent and the role of its list', () => {
    const seen: StepVisit<Raw>[] = [];
    walkSteps<Raw>(tree.definition.steps, (_, visit) => void seen.push(visit));
    assert.deepEqual(sorted(seen.map((v) => v.step.id as string)), sorted(tree.ids.keys()));
    for (const visit of seen) assert.equal(at(tree.definition, visit.path), visit.step, formatPath(visit.path));
    const roleOf = (parent: StepType, field: string) =>
      ({ on_error: 'on_error', compensate: 'compensate', steps: 'body', branches: parent === 'parallel' ? 'concurrent' : 'branch' })[field];
    for (const { path, parent, role } of seen) {
      if (!parent) {
        assert.equal(path.length, 2);
        continue;
      }
      const field = path[parent.path.length] as string;
      assert.equal(role, roleOf(tree.ids.get(parent.step.id as string)!, field), formatPath(path));
    }
    // The typed definition is walked alike.
    const typedIds: string[] = [];
    walkSteps(definition.steps, (step) => void typedIds.push(step.id));
    assert.deepEqual(sorted(typedIds), sorted(tree.ids.keys()));
  });

  it('validate: a duplicate id and a template to an unknown step are reported in every list, at any depth', () => {
    const first = (tree.definition.steps as Raw[])[0].id;
    for (const list of tree.lists) {
      const raw = structuredClone(tree.definition);
      const steps = at(raw, list) as Raw[];
      steps.push({ id: first, skill: 'k', inputs: { x: '{{ steps.nowhere.outputs }}' } });
      const where = formatPath([...list, steps.length - 1]);
      const problems = validateDefinition(raw).map((p) => `${formatPath(p.path)}: ${p.message}`);
      const expected = [
        `${where}.inputs.x: step "${first}": template "{{ steps.nowhere.outputs }}" refers to step "nowhere", but there is no such step`,
        `${where}.id: duplicate step id "${first}" (first defined at steps[0])`,
      ];
      assert.deepEqual(problems.sort(), expected.sort(), where);
    }
  });

  it('advice: a wait step that can never be answered is reported in every list, at any depth', () => {
    for (const list of tree.lists) {
      const def = structuredClone(definition);
      const steps = at(def, list) as unknown[];
      steps.push({ id: 'never', step_type: 'wait', timeout: 0, branches: { approved: [{ id: 'after', skill: 'k', inputs: {}, timeout: 300 }] } });
      const advice = adviseDefinition(def).filter((a) => a.message.includes('timeout of 0'));
      assert.deepEqual(
        advice.map((a) => formatPath(a.path)),
        [formatPath([...list, steps.length - 1, 'timeout'])],
      );
    }
  });

  it('graph: every step is in the chart', () => {
    const chart = workflowGraph(definition);
    const missing = [...tree.ids.keys()].filter((id) => !chart.includes(`"${id}`));
    assert.deepEqual(missing, []);
  });

  it('lint --check-agents: an unknown skill is reported for every call step, at any depth', () => {
    const problems = checkAgainstAgents(definition, 'nested.yaml', []);
    const agentCalls = tree.calls.filter((id) => !tree.runs.includes(id));
    assert.deepEqual(sorted(problems.map((p) => stepOf(p.message)!)), sorted(agentCalls));
    for (const p of problems) assert.match(p.message, /: no agent offers skill "skill_n\d+_(call|sequential)" \(known skills: none\)$/);
  });

  it('lint --check-agents: every execute_workflow step is looked up, at any depth', async () => {
    const asked: string[] = [];
    const lookup: WorkflowLookup = { describe: () => 'folder x', missing: async (id) => (asked.push(id), '') };
    const problems = await checkWorkflowIds(definition, 'nested.yaml', lookup);
    assert.deepEqual(sorted(problems.map((p) => stepOf(p.message)!)), sorted(tree.runs));
    assert.deepEqual(sorted(asked), sorted(tree.runs.map((id) => `wf_${id}`)));
  });

  it('callStepsById: every call step, at any depth, raw or typed', () => {
    for (const def of [tree.definition, definition]) {
      const found = callStepsById(def);
      assert.deepEqual(sorted(found.keys()), sorted(tree.calls));
      for (const [id, steps] of found)
        assert.deepEqual(
          steps.map((s) => s.id),
          [id],
        );
    }
  });
});

describe('dsl/step-kinds: the table and raw definitions', () => {
  it('every step type has a kind; a missing step_type is sequential, an unknown one has none', () => {
    for (const type of STEP_TYPES) assert.equal(kindOf(type), STEP_KINDS[type]);
    assert.equal(kindOf(undefined), STEP_KINDS.sequential);
    assert.equal(kindOf('loop'), undefined);
    assert.equal(kindOf('constructor'), undefined);
    assert.equal(kindOf(7), undefined);
  });

  it('the table says where each type holds steps, as the schema does', () => {
    for (const type of STEP_TYPES) {
      const kind = STEP_KINDS[type];
      const fields = kind.children.flatMap((slot) =>
        Array.isArray(slot.names)
          ? slot.names.map((name) => [slot.field, name])
          : slot.names
            ? [
                [slot.field, 'a'],
                [slot.field, 'default'],
              ]
            : [[slot.field]],
      );
      assert.deepEqual(fields, CHILD_LISTS[type], type);
    }
    assert.deepEqual(
      STEP_TYPES.filter((t) => STEP_KINDS[t].callsAgent),
      ['sequential'],
    );
    assert.deepEqual(
      STEP_TYPES.filter((t) => STEP_KINDS[t].bareResults),
      ['conditional', 'switch'],
    );
  });

  it('a raw definition of any shape: lists that are no lists, entries that are no maps (indexes kept), unknown types', () => {
    const raw = {
      steps: [
        42,
        {
          id: 'c',
          step_type: 'conditional',
          branches: { if_true: 'no list', if_false: [null, { id: 'deep', step_type: 'for_each', steps: [[], { id: 'inner' }] }] },
        },
        { id: 'odd', step_type: 'loop', steps: [{ id: 'hidden' }] },
        { id: 'p', step_type: 'parallel', branches: [{ id: 'not-in-a-map' }] },
        { id: 's', on_error: { id: 'not-a-list' }, compensate: [{ id: 'undo' }] },
      ],
    };
    const seen: string[] = [];
    walkSteps<Raw>(raw.steps, (step, visit) => void seen.push(`${formatPath(visit.path)}=${String(step.id)}`));
    assert.deepEqual(seen, [
      'steps[1]=c',
      'steps[1].branches.if_false[1]=deep',
      'steps[1].branches.if_false[1].steps[1]=inner',
      'steps[2]=odd',
      'steps[3]=p',
      'steps[4]=s',
      'steps[4].compensate[0]=undo',
    ]);
    assert.deepEqual(childLists<Raw>({ step_type: 'switch', branches: { x: [{ id: 'a' }], y: 3 } }, ['here']), [
      { slot: STEP_KINDS.switch.children[0], name: 'x', path: ['here', 'branches', 'x'], steps: [[0, { id: 'a' }]] },
      { slot: STEP_KINDS.switch.children[0], name: 'y', path: ['here', 'branches', 'y'], steps: [] },
    ]);
  });

  it('a visit that returns false does not descend', () => {
    const seen: string[] = [];
    walkSteps<Raw>([{ id: 'l', step_type: 'repeat', steps: [{ id: 'in' }] }, { id: 'next' }], (step) => {
      seen.push(step.id as string);
      return step.id !== 'l';
    });
    assert.deepEqual(seen, ['l', 'next']);
  });
});
