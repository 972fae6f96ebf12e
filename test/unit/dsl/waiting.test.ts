// The DSL of sleep and wait steps: what the schema refuses (with the loader's messages), what
// validate.ts checks inside wait branches (ids, templates, exclusive outcomes), lint's advice,
// durations, and the chart `pallet graph` draws.
import assert from 'node:assert/strict';
import { adviseDefinition } from '../../../src/dsl/advice';
import { durationMs, timeMs } from '../../../src/dsl/durations';
import { workflowGraph } from '../../../src/dsl/graph';
import { parseDefinition } from '../../../src/dsl/loader';
import type { WorkflowDefinition } from '../../../src/dsl/types';

const wf = (steps: string) => `metadata: { id: w, name: W, version: "1" }\nsteps:\n${steps}`;

function problems(steps: string): string[] {
  const r = parseDefinition(wf(steps), 'w.yaml');
  return r.ok ? [] : r.problems.map((p) => p.message);
}

function parsed(steps: string): WorkflowDefinition {
  const r = parseDefinition(wf(steps), 'w.yaml');
  if (!r.ok) assert.fail(r.problems.map((p) => p.message).join('\n'));
  return r.definition;
}

describe('dsl: sleep and wait steps', () => {
  describe('durations and times', () => {
    it('reads seconds, text with units and compound text; refuses anything else', () => {
      assert.equal(durationMs(90), 90_000);
      assert.equal(durationMs('90'), 90_000);
      assert.equal(durationMs('90s'), 90_000);
      assert.equal(durationMs('2h'), 7_200_000);
      assert.equal(durationMs('1h30m'), 5_400_000);
      assert.equal(durationMs('500ms'), 500);
      assert.equal(durationMs('2d'), 172_800_000);
      for (const bad of ['soon', '-1', '2 hours', '', 'h', -1, null, {}]) assert.equal(durationMs(bad), undefined, JSON.stringify(bad));
      assert.equal(timeMs('2030-01-31T09:00:00Z'), Date.parse('2030-01-31T09:00:00Z'));
      assert.equal(timeMs('2030-01-31T09:00:00.5+01:00'), Date.parse('2030-01-31T08:00:00.5Z'));
      for (const bad of ['2030-01-31', 'tomorrow', '2030-13-45T99:00:00Z', 5]) assert.equal(timeMs(bad), undefined, JSON.stringify(bad));
    });
  });

  describe('the schema', () => {
    it('accepts sleep with duration or until, literal or templated, and wait with or without branches', () => {
      parsed(`
  - { id: a, step_type: sleep, duration: 2h }
  - { id: b, step_type: sleep, duration: 1.5 }
  - { id: c, step_type: sleep, until: "2030-01-31T09:00:00Z" }
  - { id: d, step_type: sleep, duration: "{{ workflow.input.delay }}" }
  - { id: e, step_type: sleep, until: "\${{ workflow.input.at }}" }
  - { id: f, step_type: wait }
  - { id: g, step_type: wait, event: "deploy.prod:ok", timeout: 1h30m, branches: { approved: [], rejected: [{ id: h, skill: s }] } }`);
    });

    it('sleep: neither or both of duration and until, a bad duration or time, call fields', () => {
      assert.deepEqual(problems('  - { id: s, step_type: sleep }'), ['sleep step "s" needs a duration or an until time']);
      assert.deepEqual(problems('  - { id: s, step_type: sleep, duration: 1, until: "2030-01-31T09:00:00Z" }'), [
        'sleep step "s" has both duration and until: give one',
      ]);
      assert.match(
        problems('  - { id: s, step_type: sleep, duration: soon }').join('\n'),
        /duration must be a number of seconds or text such as "90s", "2h", "1h30m", "2d", or a template giving one/,
      );
      assert.match(problems('  - { id: s, step_type: sleep, duration: -5 }').join('\n'), /duration must not be negative/);
      assert.match(problems('  - { id: s, step_type: sleep, until: tomorrow }').join('\n'), /until must be an RFC 3339 time/);
      assert.match(problems('  - { id: s, step_type: sleep, duration: 1, skill: x }').join('\n'), /sleep step "s" calls no agent: it has no skill/);
      assert.match(problems('  - { id: s, step_type: sleep, duration: 1, timeout: 5 }').join('\n'), /sleep step "s" has no timeout/);
    });

    it('wait: unknown branch names, a bad timeout or event, outputs', () => {
      assert.deepEqual(problems('  - { id: w, step_type: wait, branches: { approve: [] } }'), [
        'wait step "w" has unknown branch "approve" (expected: approved, rejected, timed_out)',
      ]);
      assert.match(problems('  - { id: w, step_type: wait, timeout: forever }').join('\n'), /timeout must be a number of seconds or text/);
      assert.match(problems('  - { id: w, step_type: wait, event: "no spaces" }').join('\n'), /event may only contain/);
      assert.match(problems('  - { id: w, step_type: wait, outputs: x }').join('\n'), /wait step "w" cannot have outputs/);
    });
  });

  describe('validation inside wait branches', () => {
    it('branch steps may read the wait; ids may repeat across outcomes (only one runs), not elsewhere', () => {
      assert.deepEqual(
        problems(`
  - id: w
    step_type: wait
    branches:
      approved: [{ id: note, skill: s, inputs: { by: "{{ steps.w.outputs.by }}" } }]
      rejected: [{ id: note, skill: s }]
  - { id: after, skill: s, inputs: { x: "{{ steps.note.outputs }}", o: "\${{ steps.w.outputs.outcome }}" } }`),
        [],
      );
      assert.deepEqual(
        problems(`
  - id: w
    step_type: wait
    branches:
      approved: [{ id: note, skill: s }]
  - { id: note, skill: s }`),
        ['duplicate step id "note" (first defined at steps[0].branches.approved[0])'],
      );
    });

    it('templates in duration, until and timeout are checked like inputs', () => {
      assert.match(
        problems('  - { id: s, step_type: sleep, duration: "{{ steps.later.outputs }}" }\n  - { id: later, skill: x }').join('\n'),
        /step "s": template "\{\{ steps.later.outputs \}\}" refers to step "later", but that step cannot have run/,
      );
      assert.match(
        problems('  - { id: w, step_type: wait, timeout: "{{ steps.nope.outputs }}" }').join('\n'),
        /refers to step "nope", but there is no such step/,
      );
      assert.match(problems('  - { id: w, step_type: wait, timeout: "{{ steps.w.outputs }}" }').join('\n'), /a step cannot read its own output/);
    });
  });

  describe('lint advice', () => {
    const advice = (steps: string) => adviseDefinition(parsed(steps)).map((p) => p.message);

    it('a wait without outcome branches, a timed_out branch without timeout, a zero timeout, a wait in compensate without timeout', () => {
      assert.match(advice('  - { id: w, step_type: wait }').join('\n'), /step "w": the wait has no outcome branches/);
      assert.match(
        advice('  - { id: w, step_type: wait, branches: { timed_out: [{ id: t, skill: s }] } }').join('\n'),
        /the timed_out branch can never run: the wait has no timeout/,
      );
      assert.match(
        advice('  - { id: w, step_type: wait, timeout: 0, branches: { approved: [{ id: t, skill: s }] } }').join('\n'),
        /a timeout of 0 times out at once: the wait can never be answered/,
      );
      assert.match(
        advice('  - { id: book, skill: s, compensate: [{ id: w, step_type: wait, branches: { approved: [{ id: undo, skill: s }] } }] }').join('\n'),
        /step "w": compensation runs while the run is failing or being cancelled.*give the wait a timeout/,
      );
      assert.deepEqual(
        advice('  - { id: w, step_type: wait, timeout: 1h, branches: { approved: [{ id: a, skill: s, outputs: x }], timed_out: [] } }'),
        [],
        'outputs are honoured in wait branches',
      );
    });
  });

  describe('pallet graph', () => {
    it('draws a sleep as a parallelogram and a wait as a decision with one edge per outcome', () => {
      const chart = workflowGraph(
        parsed(`
  - { id: pause, step_type: sleep, duration: 2h }
  - { id: at, step_type: sleep, until: "2030-01-31T09:00:00Z" }
  - id: review
    step_type: wait
    event: editor_ok
    timeout: 2d
    branches:
      approved: [{ id: publish, skill: s }]
      timed_out: [{ id: remind, skill: s }]
  - { id: plain, step_type: wait }`),
      );
      assert.equal(
        chart,
        `---
title: "W (w 1)"
---
flowchart TD
  wf_start(["start"])
  s_pause[/"pause<br/>sleep for 2h"/]
  s_at[/"at<br/>sleep until 2030-01-31T09#58;00#58;00Z"/]
  subgraph g_review["review · wait"]
    s_review{"review<br/>wait for editor_ok<br/>timeout 2d"}
    s_publish["publish<br/>s"]
    s_remind["remind<br/>s"]
    s_review_merge((" "))
  end
  s_plain{"plain<br/>wait for plain"}
  wf_end(["end"])
  wf_start --> s_pause
  s_pause --> s_at
  s_at --> s_review
  s_review -->|"approved"| s_publish
  s_review -->|"rejected"| s_review_merge
  s_review -->|"timed_out"| s_remind
  s_publish --> s_review_merge
  s_remind --> s_review_merge
  s_review_merge --> s_plain
  s_plain --> wf_end
`,
      );
    });
  });
});
