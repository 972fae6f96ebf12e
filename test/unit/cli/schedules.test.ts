// `pallet schedule create`'s arguments as commander reads them, turned into a schedule's
// options (scheduleFromFlags): when, input, overlap, the resolve flag, and each mistake's message.
// Also a definition's `metadata.schedule` block as `pallet push` reads it.
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { runsQuery } from '../../../src/cli/runs';
import { registerScheduleCommands } from '../../../src/cli/schedules';
import { parseDefinition } from '../../../src/dsl/loader';
import type { PalletClient, RunTarget } from '../../../src/client';
import type { PalletWorkflowInput } from '../../../src/contract';
import { temporalScheduleOptions } from '../../../src/schedules/temporal';
import { checkCron, scheduleFromBlock, scheduleFromFlags, showWhen, type CreateFlags, type PalletScheduleOptions } from '../../../src/schedules/options';

/** `pallet schedule create ...args` parsed by the real command, its action replaced by scheduleFromFlags. */
async function parseCreate(...args: string[]): Promise<PalletScheduleOptions> {
  const program = new Command('pallet').exitOverride().configureOutput({ writeErr: () => undefined });
  registerScheduleCommands(program);
  const create = program.commands.find((c) => c.name() === 'schedule')!.commands.find((c) => c.name() === 'create')!;
  create.exitOverride();
  let parsed: PalletScheduleOptions | undefined;
  create.action((id: string, flags: CreateFlags) => {
    parsed = scheduleFromFlags(id, flags);
  });
  await program.parseAsync(['node', 'pallet', 'schedule', 'create', ...args]);
  return parsed!;
}

describe('pallet schedule create: arguments to schedule options', () => {
  it('--every with the duration grammar, the default overlap (skip), an empty input, pinned', async () => {
    assert.deepEqual(await parseCreate('nightly', '--workflow', 'review-gate-v1', '--every', '1h30m'), {
      scheduleId: 'nightly',
      workflow: 'review-gate-v1',
      everyMs: 5_400_000,
      input: {},
      overlap: 'skip',
      resolveEachRun: false,
    });
    assert.equal((await parseCreate('s', '--workflow', 'w', '--every', '90')).everyMs, 90_000, 'a bare number is seconds');
  });

  it('--cron, --input, --overlap and --resolve-each-run', async () => {
    const opts = await parseCreate(
      'weekdays',
      '--workflow',
      'code-generation:v2',
      '--cron',
      '0 9 * * MON-FRI',
      '--input',
      '{"requirements": "a todo API"}',
      '--overlap',
      'buffer',
      '--resolve-each-run',
    );
    assert.deepEqual(opts, {
      scheduleId: 'weekdays',
      workflow: 'code-generation:v2',
      cron: '0 9 * * MON-FRI',
      input: { requirements: 'a todo API' },
      overlap: 'buffer',
      resolveEachRun: true,
    });
    assert.equal(showWhen(opts), 'cron "0 9 * * MON-FRI"');
    assert.equal(showWhen({ everyMs: 5_400_000 }), 'every 1 h 30 min');
  });

  it('--workflow is required (commander says so)', async () => {
    await assert.rejects(parseCreate('s', '--every', '1h'), /required option '--workflow <ref>' not specified/);
  });

  const mistakes: [string[], RegExp][] = [
    [['s', '--workflow', 'w'], /say when to run: --cron "0 9 \* \* \*" or --every 1h/],
    [['s', '--workflow', 'w', '--every', '1h', '--cron', '@daily'], /give either --cron or --every, not both/],
    [['s', '--workflow', 'w', '--every', 'soon'], /--every must be a number of seconds or text such as "90s".*not "soon"/],
    [['s', '--workflow', 'w', '--every', '500ms'], /--every must be at least 1s/],
    [['s', '--workflow', 'w', '--every', '1.5s'], /--every must be whole seconds/],
    [['s', '--workflow', 'w', '--cron', 'every day'], /--cron "every day" is not a cron expression: give 5 fields/],
    [['s', '--workflow', 'w', '--cron', '* * *'], /is not a cron expression/],
    [['s', '--workflow', 'w', '--every', '1h', '--overlap', 'cancel'], /--overlap must be one of skip, buffer, allow, not "cancel"/],
    [['s', '--workflow', 'w', '--every', '1h', '--input', '{nope'], /--input is not valid JSON/],
    [['s', '--workflow', 'w', '--every', '1h', '--input', '[1]'], /--input must be a JSON object/],
    [['two words', '--workflow', 'w', '--every', '1h'], /schedule id "two words" must not contain spaces/],
    [['s', '--workflow', ' ', '--every', '1h'], /--workflow is required/],
  ];
  for (const [args, message] of mistakes) {
    it(`refuses ${args.slice(1).join(' ')}`, async () => {
      await assert.rejects(parseCreate(...args), message);
    });
  }

  it('cron shapes Temporal reads: 5 to 7 fields, shorthands, a time zone first, a comment last', () => {
    for (const cron of [
      '0 9 * * MON-FRI',
      '0 9 * * * 2030',
      '30 0 9 * * * *',
      '@daily',
      '@hourly',
      '@every 90m',
      'CRON_TZ=Europe/Paris 0 9 * * *',
      '0 9 * * * # nine',
    ]) {
      assert.equal(checkCron(cron), cron);
    }
    assert.throws(() => checkCron('@sometimes'), /not a cron expression/);
  });
});

describe('metadata.schedule: the block pallet push publishes', () => {
  const file = (schedule: string) => `metadata:
  id: nightly-v1
  name: Nightly
  version: "1"
  schedule: ${schedule}
steps:
  - { id: a, skill: echo, inputs: { text: "{{ workflow.input.text }}" } }
`;

  it('is read into the schedule options: the workflow id is the schedule id', () => {
    const parsed = parseDefinition(file('{ every: 2h, input: { text: hi }, overlap: allow }'), 'nightly.yaml');
    assert.ok(parsed.ok);
    assert.deepEqual(scheduleFromBlock(parsed.definition.metadata.id, 'nightly:v1', parsed.definition.metadata.schedule!), {
      scheduleId: 'nightly-v1',
      workflow: 'nightly:v1',
      everyMs: 7_200_000,
      input: { text: 'hi' },
      overlap: 'allow',
      resolveEachRun: false,
    });
  });

  it('a cron block; no overlap means skip', () => {
    const parsed = parseDefinition(file('{ cron: "0 3 * * *" }'), 'nightly.yaml');
    assert.ok(parsed.ok);
    const opts = scheduleFromBlock('nightly-v1', 'nightly:v1', parsed.definition.metadata.schedule!);
    assert.equal(opts.cron, '0 3 * * *');
    assert.equal(opts.overlap, 'skip');
  });

  const wrong: [string, RegExp][] = [
    ['{ input: { text: hi } }', /metadata\.schedule: give exactly one of cron and every/],
    ['{ cron: "@daily", every: 1h }', /metadata\.schedule: give exactly one of cron and every/],
    ['{ every: 500ms }', /metadata\.schedule\.every: every must be whole seconds, at least 1s/],
    ['{ every: soon }', /metadata\.schedule\.every: every must be a number of seconds/],
    ['{ every: 1h, overlap: cancel }', /metadata\.schedule\.overlap: overlap must be one of skip, buffer, allow/],
    ['{ every: 1h, input: [1] }', /metadata\.schedule\.input/],
    ['{ every: 1h, when: later }', /metadata\.schedule\.when: Unrecognized key/],
  ];
  for (const [block, message] of wrong) {
    it(`refuses ${block}, naming the line`, () => {
      const parsed = parseDefinition(file(block), 'nightly.yaml');
      assert.ok(!parsed.ok);
      assert.match(parsed.problems.map((p) => `${p.line}: ${p.message}`).join('\n'), new RegExp(`5: .*${message.source}`));
    });
  }

  it('a file without the block has no schedule (and the block changes nothing a run reads)', () => {
    const parsed = parseDefinition(file('{ every: 1h }').replace(/ {2}schedule: .*\n/, ''), 'nightly.yaml');
    assert.ok(parsed.ok);
    assert.equal(parsed.definition.metadata.schedule, undefined);
  });
});

describe("a schedule's action: the run `pallet run` would start", () => {
  /** A client whose server has Pallet's search attributes (or not); nothing else is asked of it. */
  const client = (registered: boolean) =>
    ({ client: {}, services: { searchAttributesRegistered: async () => registered, settings: { taskQueue: 'pallet-q' } } }) as unknown as PalletClient;
  const opts: PalletScheduleOptions = {
    scheduleId: 'nightly',
    workflow: 'review-gate-v1',
    everyMs: 3_600_000,
    input: { a: 1 },
    overlap: 'buffer',
    resolveEachRun: false,
  };
  const pinned: RunTarget = {
    source: { ref: 'workflows/review-gate:v1', digest: `sha256:${'a'.repeat(64)}`, repository: 'workflows/review-gate', tag: 'v1' },
    definitionId: 'review-gate-v1',
  };

  it('pinned: the digest in the arguments, the memo and the search attributes; PalletStatus loading; the interval and overlap', async () => {
    const options = await temporalScheduleOptions(client(true), opts, pinned);
    assert.equal(options.scheduleId, 'nightly');
    assert.deepEqual(options.spec, { intervals: [{ every: 3_600_000 }] });
    assert.deepEqual(options.policies, { overlap: 'BUFFER_ONE' });
    const action = options.action;
    assert.equal(action.workflowType, 'palletWorkflow');
    assert.equal(action.workflowId, 'nightly');
    assert.equal(action.taskQueue, 'pallet-q');
    assert.deepEqual(action.args, [{ definition: undefined, source: pinned.source, input: { a: 1 }, completed: undefined, searchAttributes: true }]);
    assert.deepEqual(action.memo, {
      definitionId: 'review-gate-v1',
      definitionRef: 'workflows/review-gate:v1',
      definitionDigest: pinned.source.digest,
      schedule: { workflow: 'review-gate-v1', when: 'every 1 h' },
    });
    const attributes = Object.fromEntries((action.typedSearchAttributes as { key: { name: string }; value: unknown }[]).map((p) => [p.key.name, p.value]));
    assert.deepEqual(attributes, { PalletDefinitionId: 'review-gate-v1', PalletDefinitionDigest: pinned.source.digest, PalletStatus: 'loading' });
  });

  it('resolved at each run: no digest anywhere (the run upserts the one it loads); a server without the attributes gets none', async () => {
    const moving: RunTarget = { source: { ...pinned.source, digest: '' }, definitionId: 'review-gate-v1' };
    const withAttributes = await temporalScheduleOptions(client(true), { ...opts, cron: '0 2 * * *', everyMs: undefined, resolveEachRun: true }, moving);
    assert.deepEqual(withAttributes.spec, { cronExpressions: ['0 2 * * *'] });
    assert.equal((withAttributes.action.args as PalletWorkflowInput[])[0].source?.digest, '');
    const names = (withAttributes.action.typedSearchAttributes as { key: { name: string } }[]).map((p) => p.key.name);
    assert.deepEqual(names.sort(), ['PalletDefinitionId', 'PalletStatus']);
    const without = await temporalScheduleOptions(client(false), opts, moving);
    assert.equal(without.action.typedSearchAttributes, undefined);
    assert.equal((without.action.args as PalletWorkflowInput[])[0].searchAttributes, undefined);
  });
});

describe('pallet runs --schedule', () => {
  it("queries Temporal's TemporalScheduledById, quoted", () => {
    assert.equal(runsQuery(undefined, undefined, 'nightly'), "WorkflowType = 'palletWorkflow' AND TemporalScheduledById = 'nightly'");
    assert.equal(
      runsQuery('completed', 'a-v1', "it's"),
      "WorkflowType = 'palletWorkflow' AND (ExecutionStatus = 'Completed') AND PalletDefinitionId = 'a-v1' AND TemporalScheduledById = 'it\\'s'",
    );
  });
});
