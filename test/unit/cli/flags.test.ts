// The CLI's flags, alike across verbs: no -w (the Temporal CLI's workflow id), --json on
// every verb that prints data, lint --json; and publish-agent's message for a card file that
// is not a JSON object.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import { buildProgram } from '../../../src/cli';
import { problemJson } from '../../../src/cli/lint';
import { parseCardFile } from '../../../src/cli/registry';
import { PALLET_TEST_WORKFLOWS } from '../../helpers/pallet';

async function capture(body: () => Promise<unknown>): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  // commander writes its own errors to process.stderr.
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await body();
    return { stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    return { stdout: out.join('\n'), stderr: err.join('\n'), error: e };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

describe('cli flags', () => {
  let exitCode: typeof process.exitCode;
  beforeEach(() => (exitCode = process.exitCode));
  afterEach(() => (process.exitCode = exitCode));

  it('run has --workflow but no -w (the Temporal CLI uses -w for the workflow id)', async () => {
    const run = buildProgram().commands.find((c) => c.name() === 'run')!;
    const workflow = run.options.find((o) => o.long === '--workflow');
    assert.ok(workflow);
    assert.equal(workflow.short, undefined);
    const shorts = buildProgram()
      .commands.flatMap((c) => c.options.map((o) => o.short))
      .filter(Boolean);
    assert.ok(!shorts.includes('-w'), `no verb has -w: ${shorts.join(' ')}`);
    const res = await capture(() => buildProgram().parseAsync(['node', 'pallet', 'run', '-w', 'code-generation-v1']));
    assert.ok(res.error instanceof CommanderError);
    assert.match(res.stderr, /unknown option '-w'/);
  });

  it('every verb that prints data has --json', () => {
    const verbs = ['run', 'lint', 'list', 'show', 'push', 'publish-agent', 'status', 'result', 'runs'];
    const program = buildProgram();
    for (const verb of verbs) {
      const command = program.commands.find((c) => c.name() === verb);
      assert.ok(command, verb);
      assert.ok(
        command.options.some((o) => o.long === '--json'),
        `${verb} has --json`,
      );
    }
  });

  it('lint --json: one JSON array of {file, line, column, field, message, severity}; the exit code as without', async () => {
    const bad = path.join(PALLET_TEST_WORKFLOWS, 'missing_required.yaml');
    const good = path.join(PALLET_TEST_WORKFLOWS, 'valid_simple.yaml');
    const res = await capture(() => buildProgram().parseAsync(['node', 'pallet', 'lint', '--json', bad, good]));
    assert.equal(res.error, undefined);
    assert.equal(process.exitCode, 1);
    const problems = JSON.parse(res.stdout) as Record<string, unknown>[];
    assert.ok(problems.length >= 1);
    assert.deepEqual(problems[0], { file: bad, line: 2, column: 3, field: 'metadata.name', message: 'metadata.name is required', severity: 'error' });
    for (const p of problems) assert.deepEqual(Object.keys(p), ['file', 'line', 'column', 'field', 'message', 'severity']);

    const ok = await capture(() => buildProgram().parseAsync(['node', 'pallet', 'lint', '--json', good]));
    assert.equal(process.exitCode, 0);
    assert.deepEqual(JSON.parse(ok.stdout), []);
  });

  it('problemJson: positions and field null where unknown, warnings as severity "warning"', () => {
    assert.deepEqual(problemJson({ file: 'f.yaml', message: 'cannot read file: ENOENT' }), {
      file: 'f.yaml',
      line: null,
      column: null,
      field: null,
      message: 'cannot read file: ENOENT',
      severity: 'error',
    });
    assert.deepEqual(problemJson({ file: 'f.yaml', line: 4, message: 'm', warning: true }), {
      file: 'f.yaml',
      line: 4,
      column: 1,
      field: null,
      message: 'm',
      severity: 'warning',
    });
  });

  it('publish-agent: a card file that is not a JSON object says so, and field problems name the field', async () => {
    assert.throws(() => parseCardFile('cards.json', [{ name: 'a', skills: [] }]), /^Error: cards\.json: the card must be a JSON object, not an array$/);
    assert.throws(() => parseCardFile('c.json', null), /c\.json: the card must be a JSON object, not null$/);
    assert.throws(() => parseCardFile('c.json', 'text'), /c\.json: the card must be a JSON object, not a string$/);
    assert.throws(() => parseCardFile('c.json', { name: 'a' }), /^Error: c\.json: not an agent card: skills: /);
    assert.equal(parseCardFile('c.json', { name: 'a', skills: [{ id: 's' }] }).name, 'a');
  });

  it('publish-agent of a file holding an array exits 1 with that message', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-flags-'));
    try {
      const file = path.join(dir, 'cards.json');
      await writeFile(file, '[{"name": "a", "skills": []}]\n');
      const res = await capture(() => buildProgram().parseAsync(['node', 'pallet', 'publish-agent', file]));
      assert.match(
        String((res.error as Error)?.message),
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the card must be a JSON object, not an array$`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
