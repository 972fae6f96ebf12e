// A Mermaid flowchart of a workflow definition (`pallet graph`): steps as nodes with their id
// and skill, execute_workflow steps as subroutines naming the workflow they run, parallel
// steps as a fork and a join, conditional and switch steps as a decision with one labelled
// edge per branch, sleep steps as parallelograms, wait steps as a decision naming the event
// with one edge per outcome. Each container (a wait step with branches too) is a subgraph, so
// nested containers read as nested boxes.
//
// Mermaid's syntax is fragile, so nothing of the definition reaches the chart unescaped:
// - node ids are our own (`s_` + the step id with anything but letters, digits and `_` made
//   `_`, numbered when taken), so a step id such as `end`, `a-b`, `class` or `v1` cannot be read
//   as a keyword, an arrow or a shape;
// - every label is a quoted string in which each character that is not plainly safe is a
//   Mermaid entity code (`#34;` for `"`); that includes `#` (entity syntax), `%` (directives),
//   `:` and `;` (Mermaid's style pre-pass), brackets, braces, pipes, `<`, `>` and `&`; line
//   breaks become spaces, and `direction` + space is broken up (Mermaid reads
//   `direction TB` anywhere on a line as a statement);
// - nodes are declared inside their subgraph first and every edge comes after all of them,
//   since Mermaid puts a node in the subgraph where it first appears.
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { slotOf, stepsIn } from './step-kinds';
import type { Step, WaitStep, WorkflowDefinition } from './types';

/** Characters written as they are inside a quoted label; anything else ASCII is an entity code. */
const SAFE = /[A-Za-z0-9 _.,/'!?$^*+=-]/;

/** Control characters and line or paragraph separators. */
const isBreak = (code: number) => code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029;

/** The text on one line: line breaks and other control characters become spaces. */
const oneLine = (text: string) => [...text].map((ch) => (isBreak(ch.codePointAt(0)!) ? ' ' : ch)).join('');

/** A label text for a quoted Mermaid string (without the quotes). */
export function mermaidText(text: string): string {
  let out = '';
  for (const ch of oneLine(text)) {
    const code = ch.codePointAt(0)!;
    out += code >= 0xa0 || SAFE.test(ch) ? ch : `#${code};`;
  }
  // Any space (a no-break space too) after `direction` is written as a code.
  return out.replace(/direction(\s)/gu, (_, space: string) => `direction#${space.codePointAt(0)};`);
}

/** A multi-line label: each line escaped, joined by Mermaid's line break. */
const label = (...lines: string[]) => `"${lines.map(mermaidText).join('<br/>')}"`;

interface Edge {
  from: string;
  to: string;
  label?: string;
  /** A path on which nothing runs (a switch without default). */
  dotted?: boolean;
}

/** Where a drawn part of the chart is entered, and the nodes it leaves from. */
interface Part {
  entry: string;
  exits: string[];
}

class Chart {
  /** Node ids in the order they were made: edges are listed in the order of their start. */
  private readonly taken = new Map<string, number>();
  readonly lines: string[] = [];
  readonly edges: Edge[] = [];

  /** A fresh node id from a step id: always `prefix_` + letters, digits and `_`. */
  id(prefix: string, name: string): string {
    const base = `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let n = 2; this.taken.has(id); n++) id = `${base}_${n}`;
    this.taken.set(id, this.taken.size);
    return id;
  }

  line(depth: number, text: string): void {
    this.lines.push(`${'  '.repeat(depth)}${text}`);
  }

  edge(from: string, to: string, text?: string, dotted = false): void {
    this.edges.push({ from, to, label: text, dotted });
  }

  /** The edges from top to bottom: by the node they start from, then as they were made. */
  orderedEdges(): Edge[] {
    return this.edges
      .map((edge, i) => ({ edge, i }))
      .sort((a, b) => this.taken.get(a.edge.from)! - this.taken.get(b.edge.from)! || a.i - b.i)
      .map(({ edge }) => edge);
  }

  /** Draws steps run one after another; undefined for none. */
  steps(steps: Step[], depth: number): Part | undefined {
    let first: Part | undefined;
    let last: Part | undefined;
    for (const step of steps) {
      const part = this.step(step, depth);
      if (last) for (const exit of last.exits) this.edge(exit, part.entry);
      first ??= part;
      last = part;
    }
    return first && last && { entry: first.entry, exits: last.exits };
  }

  step(step: Step, depth: number): Part {
    switch (step.step_type) {
      case 'parallel':
        return this.container(step, depth, (inner) => {
          const fork = this.id('s', `${step.id}_fork`);
          this.line(inner, `${fork}{{${label('fork')}}}`);
          // Each step of a parallel step is a branch of its own.
          const slot = slotOf('parallel', 'concurrent');
          const branches = this.named(step, slot?.names).flatMap((name) => stepsIn(step, slot, name).map((s) => this.step(s, inner)));
          const join = this.id('s', `${step.id}_join`);
          this.line(inner, `${join}{{${label('join')}}}`);
          for (const branch of branches) {
            this.edge(fork, branch.entry);
            for (const exit of branch.exits) this.edge(exit, join);
          }
          if (branches.length === 0) this.edge(fork, join);
          return { entry: fork, exits: [join] };
        });
      case 'conditional':
        return this.container(step, depth, (inner) => {
          const decision = this.decision(step, inner);
          // Both branches are drawn (a missing one goes straight on): if_true as `true`, if_false as `false`.
          const slot = slotOf('conditional', 'branch');
          const branches = this.named(step, slot?.names).map((name): [string, Part | undefined] => [
            name.replace(/^if_/, ''),
            this.steps(stepsIn(step, slot, name), inner),
          ]);
          const merge = this.merge(step, inner);
          for (const [name, branch] of branches) this.branch(decision, name, branch, merge);
          return { entry: decision, exits: [merge] };
        });
      case 'switch':
        return this.container(step, depth, (inner) => {
          const decision = this.decision(step, inner);
          const slot = slotOf('switch', 'branch');
          const branches = this.named(step, slot?.names).map((name): [string, Part | undefined] => [name, this.steps(stepsIn(step, slot, name), inner)]);
          const merge = this.merge(step, inner);
          // A value whose branch is missing or empty runs `default` (Pallet's `branches.get(value) or branches.get("default")`).
          const fallback = branches.find(([name]) => name === 'default')?.[1];
          for (const [name, branch] of branches) {
            if (branch) this.branch(decision, name, branch, merge);
            else this.edge(decision, fallback?.entry ?? merge, name);
          }
          if (!Object.prototype.hasOwnProperty.call(step.branches, 'default')) this.edge(decision, merge, 'no match', true);
          return { entry: decision, exits: [merge] };
        });
      case 'sleep': {
        // A parallelogram: the run pauses here.
        const id = this.id('s', step.id);
        const how = step.until !== undefined ? `until ${step.until}` : `for ${typeof step.duration === 'number' ? `${step.duration}s` : step.duration}`;
        this.line(depth, `${id}[/${label(step.id, `sleep ${how}`)}/]`);
        return { entry: id, exits: [id] };
      }
      case 'wait':
        return this.waitStep(step, depth);
      case 'for_each':
        return this.container(step, depth, (inner) => {
          // A loop: the items at the top, the body once, and an edge back for the next item.
          const items = this.id('s', `${step.id}_items`);
          const what = typeof step.items === 'string' ? step.items : `${step.items.length} items`;
          this.line(inner, `${items}[/${label(`for each of ${what}`, ...(step.concurrency > 1 ? [`${step.concurrency} at a time`] : []))}\\]`);
          const body = this.steps(stepsIn(step, slotOf('for_each', 'body')), inner);
          if (body) {
            this.edge(items, body.entry);
            for (const exit of body.exits) this.edge(exit, items, 'next item', true);
          }
          return { entry: items, exits: [items] };
        });
      case 'repeat':
        return this.container(step, depth, (inner) => {
          // The body, then the condition: true leaves the loop, false goes round again.
          const body = this.steps(stepsIn(step, slotOf('repeat', 'body')), inner)!;
          const check = this.id('s', `${step.id}_until`);
          this.line(inner, `${check}{${label(`until ${step.until}`, `at most ${step.max_iterations} times`)}}`);
          for (const exit of body.exits) this.edge(exit, check);
          this.edge(check, body.entry, 'again', true);
          return { entry: body.entry, exits: [check] };
        });
      default: {
        const id = this.id('s', step.id);
        const workflow = step.inputs.workflow_id;
        const notes = step.continue_on_error ? ['continue on error'] : [];
        if (step.skill === EXECUTE_WORKFLOW_SKILL) {
          this.line(
            depth,
            `${id}[[${typeof workflow === 'string' ? label(step.id, `runs ${workflow}`, ...notes) : label(step.id, EXECUTE_WORKFLOW_SKILL, ...notes)}]]`,
          );
        } else {
          this.line(depth, `${id}[${label(step.id, step.skill, ...notes)}]`);
        }
        const exits = [id];
        // Fallback steps stand in for a failed step: the run goes on from them as from it.
        const fallback = this.steps(stepsIn(step, slotOf('sequential', 'on_error')), depth);
        if (fallback) {
          this.edge(id, fallback.entry, 'on error', true);
          exits.push(...fallback.exits);
        }
        // Compensation runs only when the run fails later: a dead end.
        const undo = this.steps(stepsIn(step, slotOf('sequential', 'compensate')), depth);
        if (undo) this.edge(id, undo.entry, 'undo when the run fails', true);
        return { entry: id, exits };
      }
    }
  }

  /**
   * A wait step: a decision naming the event, with one edge per outcome (approved, rejected,
   * and timed_out when it has a timeout) to that outcome's branch or, when it has none, on.
   */
  private waitStep(step: WaitStep, depth: number): Part {
    const lines = [
      step.id,
      `wait for ${step.event ?? step.id}`,
      ...(step.timeout !== undefined ? [`timeout ${typeof step.timeout === 'number' ? `${step.timeout}s` : step.timeout}`] : []),
    ];
    const draw = (inner: number): Part => {
      const id = this.id('s', step.id);
      this.line(inner, `${id}{${label(...lines)}}`);
      if (!step.branches) return { entry: id, exits: [id] };
      const slot = slotOf('wait', 'branch');
      const outcomes = this.named(step, slot?.names).filter((o) => o !== 'timed_out' || step.timeout !== undefined || step.branches?.timed_out);
      const branches = outcomes.map((name): [string, Part | undefined] => [name, this.steps(stepsIn(step, slot, name), inner)]);
      const merge = this.merge(step, inner);
      for (const [name, branch] of branches) this.branch(id, name, branch, merge);
      return { entry: id, exits: [merge] };
    };
    return step.branches ? this.container(step, depth, draw) : draw(depth);
  }

  /** The names of a map of lists: the kind's own, in its order, or (`any`) the step's, as written. */
  private named(step: Step, names: readonly string[] | 'any' | undefined): readonly string[] {
    if (names !== 'any') return names ?? [];
    const map = (step as { branches?: unknown }).branches;
    return map && typeof map === 'object' ? Object.keys(map) : [];
  }

  private container(step: Step, depth: number, draw: (inner: number) => Part): Part {
    this.line(depth, `subgraph ${this.id('g', step.id)}[${label(`${step.id} · ${step.step_type}`)}]`);
    const part = draw(depth + 1);
    this.line(depth, 'end');
    return part;
  }

  private decision(step: Step & { condition: string }, depth: number): string {
    const id = this.id('s', step.id);
    this.line(depth, `${id}{${label(step.condition)}}`);
    return id;
  }

  private merge(step: Step, depth: number): string {
    const id = this.id('s', `${step.id}_merge`);
    this.line(depth, `${id}((${label(' ')}))`);
    return id;
  }

  private branch(decision: string, name: string, branch: Part | undefined, merge: string): void {
    this.edge(decision, branch?.entry ?? merge, name);
    for (const exit of branch?.exits ?? []) this.edge(exit, merge);
  }
}

/** The Mermaid flowchart (source text, ending in a newline) of a definition. */
export function workflowGraph(definition: WorkflowDefinition): string {
  const chart = new Chart();
  const start = chart.id('wf', 'start');
  chart.line(1, `${start}([${label('start')}])`);
  const body = chart.steps(definition.steps, 1);
  const end = chart.id('wf', 'end');
  chart.line(1, `${end}([${label('end')}])`);
  if (body) {
    chart.edge(start, body.entry);
    for (const exit of body.exits) chart.edge(exit, end);
  } else {
    chart.edge(start, end);
  }
  const { metadata } = definition;
  // Front matter is YAML: a JSON string is a valid YAML double-quoted scalar on one line.
  const title = JSON.stringify(oneLine(`${metadata.name} (${metadata.id} ${metadata.version})`));
  const edges = chart.orderedEdges().map((e) => `  ${e.from} ${e.dotted ? '-.->' : '-->'}${e.label === undefined ? '' : `|${label(e.label)}|`} ${e.to}`);
  return ['---', `title: ${title}`, '---', 'flowchart TD', ...chart.lines, ...edges, ''].join('\n');
}

/** The chart in a Markdown ```mermaid block (GitHub renders it). */
export function markdownGraph(definition: WorkflowDefinition): string {
  return `\`\`\`mermaid\n${workflowGraph(definition)}\`\`\`\n`;
}
