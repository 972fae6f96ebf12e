// `npm run bench [-- --quick] [-- --only interpreter,scale]`: starts one environment (bench/env.ts),
// runs every suite in bench/suites/ against it, prints one table and writes every row, with
// its samples, to bench/results/latest.json. A suite that fails is a row of the table; the
// others still run.
import { Command } from 'commander';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startBenchEnv } from './env';
import type { BenchRow, Suite } from './suite';

const SUITES = path.join(__dirname, 'suites');
const RESULTS = path.join(__dirname, 'results', 'latest.json');

/** Every suite module in bench/suites/: its default export, or any exported Suite. */
async function loadSuites(): Promise<Suite[]> {
  const files = (await readdir(SUITES)).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).sort();
  const suites: Suite[] = [];
  for (const file of files) {
    const mod = (await import(path.join(SUITES, file))) as Record<string, unknown>;
    const found = [mod.default, ...Object.values(mod)].filter(isSuite);
    for (const suite of found) if (!suites.includes(suite)) suites.push(suite);
  }
  return suites;
}

function isSuite(value: unknown): value is Suite {
  return typeof value === 'object' && value !== null && typeof (value as Suite).name === 'string' && typeof (value as Suite).run === 'function';
}

function figure(value: number | undefined, unit: string): string {
  if (value === undefined) return '';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
  return `${value.toFixed(digits)} ${unit}`;
}

/** A median with its spread: "1.23 s (1.10–1.40, n=5)". */
function shown(s: BenchRow['ours'] | undefined, unit: string): string {
  if (!s) return '';
  return s.n > 1 ? `${figure(s.median, unit)} (${figure(s.min, '').trim()}–${figure(s.max, '').trim()}, n=${s.n})` : figure(s.median, unit);
}

export function table(rows: BenchRow[]): string {
  const head = ['suite', 'case', 'ours', 'reference', 'ratio', 'target'];
  const lines = rows.map((r) => [
    r.suite,
    r.case,
    shown(r.ours, r.unit),
    r.reference ? `${shown(r.reference, r.unit)}${r.referenceName ? ` ${r.referenceName}` : ''}` : '',
    r.ratio !== undefined ? r.ratio.toFixed(2) : '',
    r.target ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.suite} / ${r.case}: ${r.note}`);
  return [format(head), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

async function main(): Promise<void> {
  const program = new Command('bench')
    .description('measure Pallet on Temporal against its references on one real dev server')
    .option('--quick', 'smaller sizes and fewer repetitions (a smoke run)')
    .option('--only <suites>', 'run only these suites (comma-separated names)')
    .parse();
  const opts = program.opts<{ quick?: boolean; only?: string }>();
  let suites = await loadSuites();
  if (opts.only) {
    const wanted = opts.only.split(',').map((s) => s.trim());
    const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
    if (unknown.length) throw new Error(`no suite named ${unknown.join(', ')}; the suites are ${suites.map((s) => s.name).join(', ')}`);
    suites = suites.filter((s) => wanted.includes(s.name));
  }
  const started = new Date();
  const { env, stop } = await startBenchEnv({ quick: Boolean(opts.quick) });
  const rows: BenchRow[] = [];
  try {
    for (const suite of suites) {
      console.error(`bench: ${suite.name}: ${suite.description}`);
      try {
        await suite.run(env, (row) => {
          rows.push(row);
          console.error(`  ${row.case}: ${shown(row.ours, row.unit)}${row.ratio !== undefined ? `, ratio ${row.ratio.toFixed(2)}` : ''}`);
        });
      } catch (err) {
        // The innermost causes say why (a failed workflow's own failure).
        let message = err instanceof Error ? err.message : String(err);
        for (let e = (err as { cause?: unknown }).cause; e instanceof Error; e = (e as { cause?: unknown }).cause) message += `: ${e.message}`;
        console.error(`bench: suite ${suite.name} failed: ${err instanceof Error ? err.stack : message}`);
        rows.push({
          suite: suite.name,
          case: '(suite failed)',
          unit: '',
          ours: { median: NaN, min: NaN, max: NaN, n: 0, samples: [] },
          note: `FAILED: ${message}`,
        });
      }
    }
  } finally {
    await stop();
  }
  console.log(table(rows));
  await mkdir(path.dirname(RESULTS), { recursive: true });
  const machine = { cpus: (await import('node:os')).cpus().length, node: process.version, platform: process.platform };
  await writeFile(RESULTS, `${JSON.stringify({ started: started.toISOString(), quick: Boolean(opts.quick), machine, rows }, null, 2)}\n`);
  console.log(`\nrows written to ${path.relative(process.cwd(), RESULTS)}`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
