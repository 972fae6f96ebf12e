// Metrics and traces of a real run: the worker's Prometheus endpoint scraped during and after a run (a worker
// process of its own: the SDK runtime that serves /metrics is process-global), and the spans of a run caught by
// an in-memory exporter in an in-process worker, with the agent receiving the activity span's traceparent.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { parseDefinition } from '../../src/dsl/loader';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { startTracing } from '../../src/telemetry/tracing';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/telemetry/workflow-modules';
import { palletWorkflow } from '../../src/workflows';
import { gate, startTestAgent } from '../helpers/agents';
import { freePort } from '../helpers/net';
import { exited, startWorkerProcess, until, workerProcessEnv } from '../helpers/processes';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';

const THREE_STEPS = `
metadata: { id: telemetry-v1, name: Telemetry, version: "1" }
steps:
  - { id: one, skill: first, timeout: 60 }
  - { id: two, skill: second, timeout: 60, inputs: { prev: "{{ steps.one.outputs.result }}" } }
  - { id: three, skill: first, timeout: 60 }
`;

function definition(text: string) {
  const parsed = parseDefinition(text, 'telemetry.yaml');
  assert.ok(parsed.ok);
  return parsed.definition;
}

/** Prometheus text format: the samples of one metric family, each with its labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

function total(text: string, name: string, labels: Record<string, string>): number {
  return samples(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('telemetry', function () {
  this.timeout(600_000);

  it('the worker serves Prometheus metrics: step counters and agent call latency during and after a run', async () => {
    const env = await temporalEnv();
    const held = gate();
    const agent = await startTestAgent('metrics-agent', {
      first: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { n: 1 };
      },
      second: async () => {
        await held.promise;
        return { n: 2 };
      },
    });
    const taskQueue = uniqueId('metrics');
    const address = `127.0.0.1:${await freePort()}`;
    const worker = startWorkerProcess({
      ...workerProcessEnv(env, taskQueue, agent.url, path.join(ROOT, 'pallet-workflows')),
      PALLET_METRICS_ADDRESS: address,
    });
    const scrape = async () => {
      const res = await fetch(`http://${address}/metrics`);
      assert.equal(res.status, 200);
      return res.text();
    };
    try {
      await worker.ready;
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('metrics'),
        args: [{ definition: definition(THREE_STEPS), input: {} }],
      });
      await until(() => agent.callsTo('second').length === 1, 'the second step to reach its agent');

      // Mid-run: the first step is counted (metrics reach the endpoint through the SDK's sink, soon after).
      let during = '';
      const completed = { step_type: 'sequential', outcome: 'completed', taskQueue };
      for (let tries = 0; tries < 100; tries++) {
        during = await scrape();
        if (total(during, 'pallet_steps', completed) >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(total(during, 'pallet_steps', completed), 1, 'one step finished while the second is held');
      assert.equal(total(during, 'pallet_agent_call_latency_count', { skill: 'first', agent: 'metrics-agent', outcome: 'ok' }), 1);
      // Temporal's own SDK metrics are on the same endpoint.
      assert.match(during, /^temporal_\w+/m);

      held.open();
      await handle.result();
      let after = '';
      for (let tries = 0; tries < 100; tries++) {
        after = await scrape();
        if (total(after, 'pallet_steps', completed) >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(total(after, 'pallet_steps', completed), 3);
      assert.equal(total(after, 'pallet_steps', { taskQueue, outcome: 'failed' }), 0);
      const first = { skill: 'first', agent: 'metrics-agent', outcome: 'ok' };
      assert.equal(total(after, 'pallet_agent_call_latency_count', first), 2);
      // Plausible: each call of `first` takes the agent's 50 ms at least, and not minutes.
      const sumMs = total(after, 'pallet_agent_call_latency_sum', first);
      assert.ok(sumMs >= 100 && sumMs < 120_000, `latency sum of two calls of first: ${sumMs} ms`);
      assert.equal(total(after, 'pallet_agent_call_latency_count', { skill: 'second', agent: 'metrics-agent', outcome: 'ok' }), 1);
      assert.equal(total(after, 'pallet_agent_call_errors', { taskQueue }), 0);
      // No workflow ids among the labels.
      assert.ok(!after.includes(handle.workflowId), 'no workflow id in any label');
    } finally {
      held.open();
      worker.kill('SIGINT');
      await exited(worker);
      await agent.close();
    }
  });

  it('a run is one trace: workflow, activity and agent call spans, and the agent receives its traceparent', async () => {
    const env = await temporalEnv();
    const agent = await startTestAgent('traced-agent', { first: () => ({ n: 1 }), second: () => ({ n: 2 }) });
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ serviceName: 'pallet-test', spanProcessor: new SimpleSpanProcessor(exporter) });
    try {
      const { code } = await bundleWorkflowCode({
        workflowsPath: require.resolve('../../src/workflows'),
        workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
        logger: new DefaultLogger('WARN'),
      });
      const taskQueue = uniqueId('traces');
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { code },
        activities: createActivities({
          directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000),
          definitions: new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
        }),
        sinks: tracing.workerOptions.sinks,
        interceptors: { ...tracing.workerOptions.interceptors, workflowModules: [] },
      });
      const workflowId = uniqueId('traced');
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition: definition(THREE_STEPS), input: {} }] });
        await handle.result();
      });

      const spans = exporter.getFinishedSpans();
      const named = (prefix: string) => spans.filter((s) => s.name.startsWith(prefix));
      const run = named('RunWorkflow:palletWorkflow');
      assert.equal(run.length, 1, `one workflow span, among ${spans.map((s) => s.name).join(', ')}`);
      const traceId = run[0].spanContext().traceId;
      const calls = named('RunActivity:callAgent');
      assert.equal(calls.length, 3, 'a span per agent call');
      assert.equal(named('StartActivity:callAgent').length, 3, 'a span per scheduled agent call');
      assert.deepEqual(new Set(spans.map((s) => s.spanContext().traceId)), new Set([traceId]), 'every span in the run trace');
      assert.deepEqual(calls.map((s) => s.attributes['pallet.step']).sort(), ['one', 'three', 'two']);
      // A span per step, the parent of its agent call's span.
      const steps = named('Step:');
      assert.deepEqual(steps.map((s) => s.attributes['pallet.step']).sort(), ['one', 'three', 'two']);
      for (const start of named('StartActivity:callAgent')) {
        assert.ok(
          steps.some((s) => s.spanContext().spanId === start.parentSpanId),
          'an agent call span is a child of its step span',
        );
      }
      assert.ok(steps.every((s) => s.parentSpanId === run[0].spanContext().spanId));
      assert.ok(calls.every((s) => s.attributes['pallet.agent'] === 'traced-agent'));

      // Every agent call carried a W3C traceparent of this trace, naming its activity span as parent.
      assert.equal(agent.calls.length, 3);
      for (const call of agent.calls) {
        const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(call.traceparent ?? '');
        assert.ok(match, `a valid traceparent: ${call.traceparent}`);
        assert.equal(match[1], traceId);
        assert.ok(
          calls.some((s) => s.spanContext().spanId === match[2]),
          'the parent is an agent call span',
        );
      }
    } finally {
      await tracing.shutdown();
      await agent.close();
    }
  });
  it("the worker process with OTEL_EXPORTER_OTLP_ENDPOINT sends the run's spans over OTLP/HTTP, in the trace the agent was given", async () => {
    const env = await temporalEnv();
    // A loopback OTLP/HTTP collector: the JSON export requests the worker sends.
    const exports: { url: string; body: string }[] = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        exports.push({ url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const agent = await startTestAgent('otlp-agent', { first: () => ({ n: 1 }), second: () => ({ n: 2 }) });
    const taskQueue = uniqueId('otlp');
    const worker = startWorkerProcess({
      ...workerProcessEnv(env, taskQueue, agent.url, path.join(ROOT, 'pallet-workflows')),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_SERVICE_NAME: 'pallet-otlp-test',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    try {
      await worker.ready;
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('otlp'),
        args: [{ definition: definition(THREE_STEPS), input: {} }],
      });
      await handle.result();
      const traceId = /^00-([0-9a-f]{32})-/.exec(agent.calls[0]?.traceparent ?? '')?.[1];
      assert.ok(traceId, `the agent got a traceparent: ${agent.calls[0]?.traceparent}`);
      assert.ok(
        agent.calls.every((c) => c.traceparent?.startsWith(`00-${traceId}-`)),
        'every call in the same trace',
      );
      const sent = () => exports.map((e) => e.body).join('\n');
      await until(
        () => sent().includes('RunWorkflow:palletWorkflow') && (sent().match(/RunActivity:callAgent/g) ?? []).length >= 3,
        "the run's spans at the collector",
      );
      assert.ok(exports.every((e) => e.url === '/v1/traces'));
      assert.ok(sent().includes(traceId), "the exported spans are in the agent's trace");
      assert.ok(sent().includes('pallet-otlp-test'), 'service.name from OTEL_SERVICE_NAME');
      assert.ok(sent().includes('Step:two'), 'a span per step');
    } finally {
      worker.kill('SIGINT');
      await exited(worker);
      await agent.close();
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});
