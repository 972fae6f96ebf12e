// `pallet graph`: the Mermaid flowchart of a definition. The exact chart of a file with every
// step type, escaping of anything a definition may hold, node ids Mermaid cannot misread, every
// example workflow, and the command itself (on a commander program of its own).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerGraphCommand } from '../../../src/cli/graph';
import { markdownGraph, mermaidText, workflowGraph } from '../../../src/dsl/graph';
import { formatProblem, loadDefinitionFile, parseDefinition } from '../../../src/dsl/loader';
import type { WorkflowDefinition } from '../../../src/dsl/types';
import { PALLET_WORKFLOWS } from '../../helpers/pallet';

function definitionOf(text: string): WorkflowDefinition {
  const r = parseDefinition(text, 'wf.yaml');
  if (!r.ok) assert.fail(r.problems.map(formatProblem).join('\n'));
  return r.definition;
}

const ALL_TYPES = `metadata:
  id: all-types-v1
  name: All "step" types
  version: 2
steps:
  - id: plan
    skill: create_plan
  - id: checks
    step_type: parallel
    branches:
      steps:
        - id: lint
          skill: lint_code
        - id: run-child
          skill: execute_workflow
          inputs:
            workflow_id: child-v1
  - id: gate
    step_type: conditional
    condition: "{{ steps.lint.outputs.ok }}"
    branches:
      if_true:
        - id: ship
          skill: deploy
        - id: notify
          skill: send_mail
  - id: route
    step_type: switch
    condition: "{{ workflow.input.kind }}"
    branches:
      bug:
        - id: fix
          skill: fix_bug
      docs: []
      default:
        - id: triage
          skill: triage
  - id: pick
    step_type: switch
    condition: "{{ workflow.input.size }}"
    branches:
      "6":
        - id: end
          skill: finish
`;

const ALL_TYPES_CHART = `---
title: "All \\"step\\" types (all-types-v1 2)"
---
flowchart TD
  wf_start(["start"])
  s_plan["plan<br/>create_plan"]
  subgraph g_checks["checks · parallel"]
    s_checks_fork{{"fork"}}
    s_lint["lint<br/>lint_code"]
    s_run_child[["run-child<br/>runs child-v1"]]
    s_checks_join{{"join"}}
  end
  subgraph g_gate["gate · conditional"]
    s_gate{"#123;#123; steps.lint.outputs.ok #125;#125;"}
    s_ship["ship<br/>deploy"]
    s_notify["notify<br/>send_mail"]
    s_gate_merge((" "))
  end
  subgraph g_route["route · switch"]
    s_route{"#123;#123; workflow.input.kind #125;#125;"}
    s_fix["fix<br/>fix_bug"]
    s_triage["triage<br/>triage"]
    s_route_merge((" "))
  end
  subgraph g_pick["pick · switch"]
    s_pick{"#123;#123; workflow.input.size #125;#125;"}
    s_end["end<br/>finish"]
    s_pick_merge((" "))
  end
  wf_end(["end"])
  wf_start --> s_plan
  s_plan --> s_checks_fork
  s_checks_fork --> s_lint
  s_checks_fork --> s_run_child
  s_lint --> s_checks_join
  s_run_child --> s_checks_join
  s_checks_join --> s_gate
  s_gate -->|"true"| s_ship
  s_gate -->|"false"| s_gate_merge
  s_ship --> s_notify
  s_notify --> s_gate_merge
  s_gate_merge --> s_route
  s_route -->|"bug"| s_fix
  s_route -->|"docs"| s_triage
  s_route -->|"default"| s_triage
  s_fix --> s_route_merge
  s_triage --> s_route_merge
  s_route_merge --> s_pick
  s_pick -->|"6"| s_end
  s_pick -.->|"no match"| s_pick_merge
  s_end --> s_pick_merge
  s_pick_merge --> wf_end
`;

/**
 * A label as the chart writes it: quoted, no quote inside, `#` only in entity codes, none of the
 * characters Mermaid reads as syntax (brackets, braces, pipes, `;`, `:`, `%`, `<`, `>`, `&`,
 * backticks, backslashes, line breaks) except the `<br/>` the chart puts between lines.
 */
const LABEL = String.raw`"(?:[^"#%&:;<>\[\]{}()|\x60\\\n\r]|#\d+;|<br/>)*"`;
const ID = String.raw`(?:s|wf)_[A-Za-z0-9_]+`;
const SHAPES = [
  String.raw`\[${LABEL}\]`,
  String.raw`\[\[${LABEL}\]\]`,
  String.raw`\{${LABEL}\}`,
  String.raw`\{\{${LABEL}\}\}`,
  String.raw`\(\(${LABEL}\)\)`,
  String.raw`\(\[${LABEL}\]\)`,
  String.raw`\[/${LABEL}/\]`,
  String.raw`\[/${LABEL}\\\]`,
];
const NODE = new RegExp(String.raw`^(\s*)(${ID})(?:${SHAPES.join('|')})$`);
const SUBGRAPH = new RegExp(String.raw`^(\s*)subgraph (g_[A-Za-z0-9_]+)\[${LABEL}\]$`);
const EDGE = new RegExp(String.raw`^  (${ID}) (?:-->|-\.->)(?:\|${LABEL}\|)? (${ID})$`);

/**
 * A careful check of the chart's syntax, line by line (no Mermaid parser here): the front
 * matter, then node and subgraph declarations (subgraphs closed in order, each id once), then
 * edges between declared nodes only, so no edge can create a node in the wrong subgraph.
 */
function checkMermaid(chart: string): void {
  const lines = chart.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines[0], '---');
  assert.match(lines[1], /^title: "(?:[^"\\\n]|\\.)*"$/);
  assert.equal(lines[2], '---');
  assert.equal(lines[3], 'flowchart TD');
  const declared = new Set<string>();
  let open = 0; // subgraphs open
  let edges = false;
  for (const line of lines.slice(4)) {
    const node = NODE.exec(line);
    const subgraph = SUBGRAPH.exec(line);
    const edge = EDGE.exec(line);
    if (edge) {
      edges = true;
      assert.ok(declared.has(edge[1]) && declared.has(edge[2]), `edge between declared nodes: ${line}`);
      continue;
    }
    assert.ok(!edges, `declarations come before every edge: ${line}`);
    if (line.trim() === 'end') {
      assert.ok(open > 0, 'end closes a subgraph');
      assert.equal(line, `${'  '.repeat(open)}end`, 'end is where its subgraph starts');
      open--;
      continue;
    }
    const decl = node ?? subgraph;
    assert.ok(decl, `a node, a subgraph, its end or an edge: ${JSON.stringify(line)}`);
    assert.equal(decl[1], '  '.repeat(open + 1), `indentation of ${line}`);
    assert.ok(!declared.has(decl[2]), `declared once: ${decl[2]}`);
    declared.add(decl[2]);
    if (subgraph) open++;
  }
  assert.equal(open, 0, 'every subgraph is closed');
  assert.ok(edges);
}

describe('dsl/graph', () => {
  it('draws every step type: the exact chart', () => {
    assert.equal(workflowGraph(definitionOf(ALL_TYPES)), ALL_TYPES_CHART);
    checkMermaid(ALL_TYPES_CHART);
  });

  it('wraps the chart in a ```mermaid block for Markdown', () => {
    assert.equal(markdownGraph(definitionOf(ALL_TYPES)), `\`\`\`mermaid\n${ALL_TYPES_CHART}\`\`\`\n`);
  });

  it('nests containers as subgraphs; an empty parallel step and an empty branch go straight to the join', () => {
    const chart = workflowGraph(
      definitionOf(`metadata: { id: n, name: N, version: "1" }
steps:
  - id: outer
    step_type: conditional
    condition: go
    branches:
      if_false:
        - id: inner
          step_type: parallel
          branches:
            steps:
              - id: deep
                step_type: switch
                condition: x
                branches:
                  a: []
  - id: none
    step_type: parallel
    branches: { steps: [] }
`),
    );
    checkMermaid(chart);
    assert.ok(
      chart.includes(`  subgraph g_outer["outer · conditional"]
    s_outer{"go"}
    subgraph g_inner["inner · parallel"]
      s_inner_fork{{"fork"}}
      subgraph g_deep["deep · switch"]
        s_deep{"x"}
        s_deep_merge((" "))
      end
      s_inner_join{{"join"}}
    end
    s_outer_merge((" "))
  end
`),
      chart,
    );
    for (const edge of [
      's_outer -->|"true"| s_outer_merge',
      's_outer -->|"false"| s_inner_fork',
      's_deep -->|"a"| s_deep_merge',
      's_deep -.->|"no match"| s_deep_merge',
      's_deep_merge --> s_inner_join',
      's_inner_join --> s_outer_merge',
      's_none_fork --> s_none_join',
    ]) {
      assert.ok(chart.includes(`  ${edge}\n`), edge);
    }
  });

  describe('escaping', () => {
    it('writes every character Mermaid reads as syntax as an entity code', () => {
      assert.equal(mermaidText('say "hi"'), 'say #34;hi#34;');
      assert.equal(mermaidText('a[b](c){d}|e'), 'a#91;b#93;#40;c#41;#123;d#125;#124;e');
      assert.equal(mermaidText('#35; is not an entity here'), '#35;35#59; is not an entity here');
      assert.equal(mermaidText('<b>&amp;</b>'), '#60;b#62;#38;amp#59;#60;/b#62;');
      assert.equal(mermaidText('%%{init: {}}%%'), '#37;#37;#123;init#58; #123;#125;#125;#37;#37;');
      assert.equal(mermaidText('style x fill:#f00;'), 'style x fill#58;#35;f00#59;');
      assert.equal(mermaidText('`md` \\ ~'), '#96;md#96; #92; #126;');
    });

    it('makes line breaks spaces and keeps other text (letters of any script too)', () => {
      assert.equal(mermaidText('one\ntwo\r\nthree\tfour\u2028five'), 'one two  three four five');
      assert.equal(mermaidText('Plan → Build, ça va? 1+1=2'), 'Plan → Build, ça va? 1+1=2');
    });

    it('breaks up `direction TB`, which Mermaid reads as a statement anywhere on a line', () => {
      assert.equal(mermaidText('turn direction TB'), 'turn direction#32;TB');
      assert.doesNotMatch(mermaidText('direction\nLR'), /direction\s+LR/);
      assert.equal(mermaidText('direction\u00a0BT'), 'direction#160;BT');
    });

    it('escapes ids, skills, conditions, branch names and the title of a hostile file', () => {
      const definition = definitionOf(`metadata:
  id: "x\\"y"
  name: "name with ] and \\n newline"
  version: "1"
steps:
  - id: s1
    skill: 'skill"]; click s1 call alert(1) %%'
  - id: w
    step_type: switch
    condition: "{{ workflow.input.a }} | \\"b\\" ; c: [d] direction RL"
    branches:
      "x|y\\"]": [{ id: s2, skill: t }]
      "<img src=x>": []
  - id: c
    step_type: conditional
    condition: "line1\\nline2"
    branches:
      if_true:
        - id: s3
          skill: execute_workflow
          inputs: { workflow_id: "{{ workflow.input.target }}" }
        - id: s4
          skill: execute_workflow
          inputs: {}
`);
      const chart = workflowGraph(definition);
      checkMermaid(chart);
      assert.match(chart, /^title: "name with \] and {3}newline \(x\\"y 1\)"$/m, 'the line break is a space');
      assert.ok(chart.includes('s_s1["s1<br/>skill#34;#93;#59; click s1 call alert#40;1#41; #37;#37;"]'), chart);
      assert.ok(chart.includes('s_w{"#123;#123; workflow.input.a #125;#125; #124; #34;b#34; #59; c#58; #91;d#93; direction#32;RL"}'), chart);
      assert.ok(chart.includes('s_w -->|"x#124;y#34;#93;"| s_s2'), chart);
      assert.ok(chart.includes('s_w -->|"#60;img src=x#62;"| s_w_merge'), chart);
      assert.ok(chart.includes('s_c{"line1 line2"}'), chart);
      assert.ok(chart.includes('s_s3[["s3<br/>runs #123;#123; workflow.input.target #125;#125;"]]'), chart);
      assert.ok(chart.includes('s_s4[["s4<br/>execute_workflow"]]'), chart);
    });
  });

  describe('node ids', () => {
    it('are prefixed, so reserved words, o/x starts and v cannot be misread; hyphens become _ and clashes are numbered', () => {
      const ids = ['end', 'graph', 'subgraph', 'class', 'style', 'default', 'click', 'v', 'o', 'x', 'a-b', 'a_b', 'checks_fork', 'flowchart', '_'];
      const chart = workflowGraph(
        definitionOf(`metadata: { id: ids, name: Ids, version: "1" }
steps:
${ids.map((id) => `  - { id: "${id}", skill: s }`).join('\n')}
  - id: checks
    step_type: parallel
    branches: { steps: [] }
`),
      );
      checkMermaid(chart);
      const declared = [...chart.matchAll(/^ {2}(s_\w+)\[/gm)].map((m) => m[1]);
      assert.deepEqual(declared, [
        's_end',
        's_graph',
        's_subgraph',
        's_class',
        's_style',
        's_default',
        's_click',
        's_v',
        's_o',
        's_x',
        's_a_b',
        's_a_b_2',
        's_checks_fork',
        's_flowchart',
        's__',
      ]);
      // The fork of `checks` comes after the step named checks_fork: it is numbered.
      assert.ok(chart.includes('s_checks_fork_2{{"fork"}}'), chart);
      assert.ok(chart.includes('s_a_b_2["a_b<br/>s"]') && chart.includes('s_a_b["a-b<br/>s"]'), chart);
    });

    it('one id in two branches of a switch (allowed, as in Pallet) is two nodes', () => {
      const chart = workflowGraph(
        definitionOf(`metadata: { id: d, name: D, version: "1" }
steps:
  - id: w
    step_type: switch
    condition: x
    branches:
      a: [{ id: same, skill: one }]
      b: [{ id: same, skill: two }]
`),
      );
      checkMermaid(chart);
      assert.ok(chart.includes('s_same["same<br/>one"]') && chart.includes('s_same_2["same<br/>two"]'), chart);
      assert.ok(chart.includes('s_w -->|"a"| s_same\n') && chart.includes('s_w -->|"b"| s_same_2\n'), chart);
    });
  });

  describe('the example workflows', () => {
    const files = readdirSync(PALLET_WORKFLOWS).filter((f) => f.endsWith('.yaml'));

    it('are all here', () => assert.ok(files.length >= 4, files.join()));

    for (const name of files) {
      it(`${name} renders`, async () => {
        const { definition } = await loadDefinitionFile(path.join(PALLET_WORKFLOWS, name));
        const chart = workflowGraph(definition);
        checkMermaid(chart);
        // Every step is drawn: a node, or a subgraph for a container.
        const ids: string[] = [];
        const walk = (steps: WorkflowDefinition['steps']) => {
          for (const step of steps) {
            ids.push(step.id);
            if (step.step_type === 'parallel') walk(step.branches.steps);
            else if (step.step_type === 'conditional') walk([...(step.branches.if_true ?? []), ...(step.branches.if_false ?? [])]);
            else if (step.step_type === 'switch') walk(Object.values(step.branches).flat());
          }
        };
        walk(definition.steps);
        for (const id of ids) assert.match(chart, new RegExp(`^ +(?:s_${id}\\[|subgraph g_${id}\\[)`, 'm'), id);
      });
    }

    it('docs/examples.md has the chart of each, as pallet graph --markdown prints it', async () => {
      const doc = readFileSync(path.resolve(__dirname, '..', '..', '..', 'docs', 'examples.md'), 'utf8');
      for (const name of files) {
        const { definition } = await loadDefinitionFile(path.join(PALLET_WORKFLOWS, name));
        assert.ok(
          doc.includes(markdownGraph(definition)),
          `docs/examples.md: the chart of ${name} is out of date: npx pallet graph --markdown pallet-workflows/${name}`,
        );
      }
    });

    it('smart-router: execute_workflow steps are subroutines naming their workflow, one edge per case', async () => {
      const { definition } = await loadDefinitionFile(path.join(PALLET_WORKFLOWS, 'smart-router.yaml'));
      const chart = workflowGraph(definition);
      assert.ok(chart.includes('s_generate_code_workflow[["generate_code_workflow<br/>runs code-generation-v1"]]'), chart);
      assert.ok(
        chart.includes(
          's_route -->|"code_generation"| s_generate_code_workflow\n  s_route -->|"data_analysis"| s_analyze_data_workflow\n  s_route -->|"default"| s_fallback\n',
        ),
        chart,
      );
      assert.doesNotMatch(chart, /no match/);
    });
  });

  describe('pallet graph (the command)', () => {
    let dir: string;
    let out: string;
    let err: string;
    const originalWrite = process.stdout.write.bind(process.stdout);
    const originalError = console.error;

    /** Runs `pallet graph ARGS` on a program of its own; returns the exit code it set. */
    async function graph(...args: string[]): Promise<number | undefined> {
      const program = new Command('pallet').exitOverride();
      registerGraphCommand(program);
      out = '';
      err = '';
      process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
      console.error = (...parts: unknown[]) => void (err += `${parts.join(' ')}\n`);
      const before = process.exitCode;
      try {
        await program.parseAsync(['node', 'pallet', 'graph', ...args]);
        return process.exitCode as number | undefined;
      } finally {
        process.stdout.write = originalWrite;
        console.error = originalError;
        process.exitCode = before;
      }
    }

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-graph-'));
      await writeFile(path.join(dir, 'all.yaml'), ALL_TYPES);
      await writeFile(
        path.join(dir, 'bad.yaml'),
        'metadata:\n  id: bad\n  name: Bad\n  version: "1"\nsteps:\n  - id: a\n    step_type: loop\n  - id: b\n    skill: s\n    timeout: soon\n',
      );
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('prints the Mermaid chart of a file, exit 0', async () => {
      assert.equal(await graph(path.join(dir, 'all.yaml')), 0);
      assert.equal(out, ALL_TYPES_CHART);
      assert.equal(err, '');
    });

    it('--markdown and -o markdown print it in a ```mermaid block; -o text is the default', async () => {
      const fenced = `\`\`\`mermaid\n${ALL_TYPES_CHART}\`\`\`\n`;
      assert.equal(await graph('--markdown', path.join(dir, 'all.yaml')), 0);
      assert.equal(out, fenced);
      assert.equal(await graph('-o', 'markdown', path.join(dir, 'all.yaml')), 0);
      assert.equal(out, fenced);
      assert.equal(await graph('--output', 'text', path.join(dir, 'all.yaml')), 0);
      assert.equal(out, ALL_TYPES_CHART);
    });

    it('an invalid file: its problems as FILE:LINE:COL: message on stderr, nothing on stdout, exit 1', async () => {
      const file = path.join(dir, 'bad.yaml');
      assert.equal(await graph(file), 1);
      assert.equal(out, '');
      assert.equal(
        err,
        `${file}:7:16: unknown step_type "loop" in step "a" (expected one of: sequential, parallel, conditional, switch, sleep, wait, for_each, repeat)\n${file}:10:14: steps[1].timeout: Invalid input: expected number, received string\n`,
      );
    });

    it('a missing file is a problem too, exit 1', async () => {
      assert.equal(await graph(path.join(dir, 'nope.yaml')), 1);
      assert.match(err, /nope\.yaml: cannot read file/);
    });

    it('an unknown output format is refused by commander', async () => {
      await assert.rejects(graph('-o', 'svg', path.join(dir, 'all.yaml')), /argument 'svg' is invalid/);
    });
  });
});
