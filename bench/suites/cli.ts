// The command line as a user starts it: `pallet --help` and `pallet status` of a finished run,
// whole-process wall time (spawn to exit) of the compiled CLI (`node bin/pallet.js`, as the bin
// on PATH runs), against the Go `temporal` CLI doing the same (`--help`, `workflow describe`),
// alternating. Node's own start (`node -e 0`) is kept in the details: the floor of any Node CLI.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, TEMPORAL_CLI } from '../../test/helpers/temporal';
import { uniqueId } from '../../test/helpers/worker';
import { alternate, ratio, stats } from '../stats';
import type { BenchEnv, Suite } from '../suite';
import { COMPILED, startBenchWorker } from '../tools/worker-process';

const PALLET = path.join(ROOT, 'bin', 'pallet.js');
const WORKFLOW = 'code-generation-v1';

/** Runs a command to its end; its wall time in seconds. Fails on a non-zero exit, with its output. */
function timed(file: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve(seconds);
      else reject(new Error(`${path.basename(file)} ${args.join(' ')} exited ${code}:\n${output}`));
    }),
  );
}

/** A finished run of the example workflow, by a real `pallet worker` and `pallet run`: its workflow id. */
async function finishedRun(env: BenchEnv, vars: Record<string, string>): Promise<string> {
  const worker = await startBenchWorker(COMPILED, vars);
  try {
    const id = uniqueId('bench-cli');
    await timed(process.execPath, [PALLET, 'run', '--workflow', WORKFLOW, '--id', id, '--json', 'a todo app'], vars);
    return id;
  } finally {
    await worker.stop();
  }
}

export const cli: Suite = {
  name: 'cli',
  description: '`pallet --help` and `pallet status` of a finished run against the `temporal` CLI: whole-process wall time, alternating',
  async run(env, report) {
    const times = env.quick ? 5 : 15;
    const vars: Record<string, string> = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace,
      PALLET_TASK_QUEUE: uniqueId('bench-cli'),
      PALLET_REGISTRY: `http://${env.registry}`,
      PALLET_AGENT_URLS: env.agentUrl,
    };
    const bare: number[] = [];
    for (let i = 0; i < 3; i++) bare.push(await timed(process.execPath, ['-e', '0']));
    const node = stats(bare);

    // One of each first: the disk cache is warm for both sides.
    await timed(process.execPath, [PALLET, '--help']);
    await timed(TEMPORAL_CLI, ['--help']);
    const help = await alternate(
      times,
      () => timed(process.execPath, [PALLET, '--help']),
      () => timed(TEMPORAL_CLI, ['--help']),
    );
    report({
      suite: 'cli',
      case: 'pallet --help',
      unit: 's',
      ...help,
      referenceName: 'temporal --help',
      ratio: ratio(help.ours, help.reference),
      target: '≤ 0.1 s',
      details: { node_e_0_median_s: node.median },
    });

    const id = await finishedRun(env, vars);
    const ours = () => timed(process.execPath, [PALLET, 'status', id], vars);
    const theirs = () => timed(TEMPORAL_CLI, ['workflow', 'describe', '--workflow-id', id, '--address', env.address, '--namespace', env.namespace]);
    await ours();
    await theirs();
    const status = await alternate(times, ours, theirs);
    report({
      suite: 'cli',
      case: 'pallet status (finished run)',
      unit: 's',
      ...status,
      referenceName: 'temporal workflow describe',
      ratio: ratio(status.ours, status.reference),
      target: '≤ 0.3 s',
    });
  },
};

export default cli;
