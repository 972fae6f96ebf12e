// What lint says about error handling: located problems for bad settings, ids and references
// inside on_error and compensate checked like any other step's.
import assert from 'node:assert/strict';
import { formatProblem, parseDefinition } from '../../../src/dsl/loader';

function problems(yaml: string): string[] {
  const parsed = parseDefinition(`metadata: { id: t, name: T, version: "1" }\n${yaml}`, 'eh.yaml');
  return parsed.ok ? [] : parsed.problems.map(formatProblem);
}

describe('dsl: error handling settings', () => {
  it('accepts retry (map or attempts), continue_on_error, on_error and compensate on call steps, and reads durations', () => {
    const parsed = parseDefinition(
      `metadata: { id: t, name: T, version: "1" }
error_handling: { retry: 4, continue_on_error: false, notify: ops@example.com }
steps:
  - id: a
    skill: k
    retry: { max_attempts: 2, initial_interval: 500ms, maximum_interval: 1m, backoff_coefficient: 1.5, retry_on: [AgentSkillError], non_retryable: [AgentTimeout], deadline: 2h }
    on_error: [ { id: b, skill: k, inputs: { why: "{{ steps.a.outputs.error.message }}" } } ]
    compensate: [ { id: undo_a, skill: k, inputs: { what: "{{ steps.a.outputs }}" } } ]
  - { id: c, skill: k, inputs: { from_fallback: "{{ steps.b.outputs }}" }, continue_on_error: true }
`,
      'eh.yaml',
    );
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.map(formatProblem).join('\n'));
    const a = parsed.definition.steps[0];
    assert.ok(a.step_type === 'sequential');
    assert.deepEqual(a.retry, {
      max_attempts: 2,
      initial_interval: 500,
      maximum_interval: 60_000,
      backoff_coefficient: 1.5,
      retry_on: ['AgentSkillError'],
      non_retryable: ['AgentTimeout'],
      deadline: 7_200_000,
    });
    assert.deepEqual(parsed.definition.error_handling, { retry: { max_attempts: 4 }, continue_on_error: false, notify: 'ops@example.com' });
  });

  it('reads retry durations with the grammar of sleep and wait (durations.ts), in milliseconds', () => {
    const parsed = parseDefinition(
      `metadata: { id: t, name: T, version: "1" }
steps:
  - { id: a, skill: k, retry: { initial_interval: "90", maximum_interval: 2d, deadline: 1h30m } }
  - { id: s, step_type: sleep, duration: 1h30m }
`,
      'eh.yaml',
    );
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.map(formatProblem).join('\n'));
    const a = parsed.definition.steps[0];
    assert.ok(a.step_type === 'sequential');
    assert.deepEqual(a.retry, { initial_interval: 90_000, maximum_interval: 172_800_000, deadline: 5_400_000 });
    // The same words as a sleep step's duration; a template is no retry setting (read at load time).
    assert.deepEqual(problems('steps:\n  - { id: a, skill: k, retry: { deadline: "{{ workflow.input.d }}", maximum_interval: -1 } }\n'), [
      'eh.yaml:3:87: steps[0].retry.maximum_interval: maximum_interval must not be negative',
      'eh.yaml:3:43: steps[0].retry.deadline: deadline must be a number of seconds or text such as "90s", "2h", "1h30m", "2d"',
    ]);
  });

  it('refuses bad settings, each with its place', () => {
    assert.deepEqual(
      problems(`error_handling: { retry: { attempts: 3 } }
steps:
  - { id: a, skill: k, retry: { initial_interval: soon, retry_on: [Everything] } }
  - id: p
    step_type: parallel
    continue_on_error: true
    branches: { steps: [ { id: b, skill: k, retry: 0, on_error: [] } ] }
`),
      [
        'eh.yaml:2:38: error_handling.retry.attempts: unknown retry setting (expected: max_attempts, initial_interval, maximum_interval, backoff_coefficient, retry_on, non_retryable, deadline)',
        'eh.yaml:4:51: steps[0].retry.initial_interval: initial_interval must be a number of seconds or text such as "90s", "2h", "1h30m", "2d"',
        'eh.yaml:4:68: steps[0].retry.retry_on[0]: unknown failure type "Everything" (expected one of: AgentUnavailable, AgentServerError, AgentTimeout, AgentRejected, AgentSkillError, AgentBadResponse)',
        'eh.yaml:7:24: parallel step "p" cannot have continue_on_error: it is a setting of call steps (inside its branches)',
        'eh.yaml:8:52: steps[1].branches.steps[0].retry.max_attempts: max_attempts must be 1 or more (1: no retry)',
        'eh.yaml:8:65: step "b" has an empty on_error list',
      ],
    );
  });

  it('ids and references inside on_error and compensate are checked like any step', () => {
    assert.deepEqual(
      problems(`steps:
  - id: a
    skill: k
    compensate: [ { id: undo, skill: k, inputs: { x: "{{ steps.later.outputs }}" } } ]
  - { id: later, skill: k, inputs: { y: "{{ steps.undo.outputs }}" }, on_error: [ { id: a, skill: k } ] }
`).map((p) => p.replace(/^eh\.yaml:\d+:\d+: /, '')),
      [
        'step "undo": template "{{ steps.later.outputs }}" refers to step "later", but that step cannot have run before this one (it comes later, or is a parallel sibling or in another branch)',
        'step "later": template "{{ steps.undo.outputs }}" refers to step "undo", but that step cannot have run before this one (it comes later, or is a parallel sibling or in another branch)',
        'duplicate step id "a" (first defined at steps[0])',
      ],
    );
  });
});
