// The server goes away and comes back on the same database (kill -9, then restart): the
// worker reconnects, the run finishes, and `pallet run` waiting on it says it lost contact
// and still reports the completed run (exit 0), not a failure. A dev server of its own, so
// the shared one stays up for the other tests. Also: a definition too large for a payload
// is refused by the client at once, with its size.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { freePort } from '../helpers/net';
import { ROOT, TEMPORAL_CLI, workflowBundle } from '../helpers/temporal';

const SLOW_FLOW = `metadata: { id: outage-v1, name: Outage, version: "1" }
steps:
  - { id: first, skill: echo, inputs: { text: "{{ workflow.input.requirements }}" } }
  - { id: long, skill: wait, inputs: { ms: 12000 }, timeout: 60 }
  - { id: last, skill: echo, inputs: { text: "after the outage" } }
`;

function startServer(port: number, db: string): ChildProcess {
  return spawn(TEMPORAL_CLI, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--db-filename', db, '--log-level', 'error'], {
    stdio: 'ignore',
  });
}

async function reachable(address: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await NativeConnection.connect({ address });
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

describe('a Temporal server outage during a run', function () {
  this.timeout(180_000);
  let server: ChildProcess | undefined;
  let agent: TestAgent;
  let dir: string;

  before(async () => {
    agent = await startTestAgent('outage-agent', {
      echo: (p) => ({ said: p.text }),
      wait: async (p) => {
        await new Promise((r) => setTimeout(r, Number(p.ms)));
        return 'waited';
      },
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-outage-'));
  });
  after(async () => {
    server?.kill('SIGKILL');
    await agent?.close();
  });

  it('pallet run keeps waiting through a server kill and restart, and reports the completed run', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const db = path.join(dir, 'temporal.db');
    server = startServer(port, db);
    await reachable(address, 60_000);
    const connection = await NativeConnection.connect({ address });
    const taskQueue = 'outage';
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({
        directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000),
        definitions: new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
      }),
    });
    const running = worker.run();
    const file = path.join(dir, 'outage.yaml');
    await writeFile(file, SLOW_FLOW);
    try {
      const cli = runCli(['run', '--file', file, '--app-dir', path.join(dir, 'app'), 'hello'], {
        env: { TEMPORAL_ADDRESS: address, PALLET_TASK_QUEUE: taskQueue, PALLET_REGISTRY_DISCOVERY: 'false' },
        timeoutMs: 150_000,
      });
      // Once the long step runs, the server dies and stays away for a while.
      while (agent.callsTo('wait').length === 0) await new Promise((r) => setTimeout(r, 200));
      server.kill('SIGKILL');
      // Long enough that the SDK's own retries of the waiting call give up (the client used
      // to exit "failed" here although the run completed).
      await new Promise((r) => setTimeout(r, 40_000));
      server = startServer(port, db);
      const res = await cli;
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stderr, /lost contact with Temporal .*the run goes on on the server: still waiting/);
      assert.match(res.stdout, /completed Outage \(outage-v1 1\): 3 steps/);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });

  it('a definition too large for a workflow input is refused by the client at once, with its size', async () => {
    const big = path.join(dir, 'big.yaml');
    const filler = 'x'.repeat(3_000_000);
    await writeFile(big, `metadata: { id: big-v1, name: Big, version: "1" }\nsteps:\n  - { id: a, skill: echo, inputs: { text: "${filler}" } }\n`);
    const started = Date.now();
    const res = await runCli(['run', '--file', big], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /the run's input and definition come to \d{7} bytes, over the 1900000-byte limit of a Temporal payload/);
    assert.ok(Date.now() - started < 20_000);
  });
});
