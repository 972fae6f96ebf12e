// OpenTelemetry tracing for the worker, with the SDK's interceptors (@temporalio/interceptors-opentelemetry):
// a run's workflow span, a span for each activity it schedules and each child workflow it starts, and the
// activity's own span, all in the trace the run was started in (or a new one per run). The activity span
// is the active context while the activity runs, so the agent call carries its W3C `traceparent`
// (call-agent.ts). Spans from inside the sandbox leave it through the `exporter` sink.
import * as otel from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { AsyncLocalStorageContextManager } from './context-manager';
import { WORKFLOW_INTERCEPTOR_MODULES } from './workflow-modules';

export interface Tracing {
  /** Spread into Worker.create's options: the workflow and activity interceptors, and the workflow span sink. */
  workerOptions: Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  /** Sends the spans still buffered and unregisters the global tracer, context manager and propagator. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  /** Where spans go; default a batching OTLP/HTTP exporter configured by the OTEL_EXPORTER_OTLP_* variables. */
  spanProcessor?: SpanProcessor;
}

/** Registers the process's tracer provider (OpenTelemetry's API is process-global) and returns the worker's part. */
export function startTracing({ serviceName, spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter()) }: TracingOptions): Tracing {
  const resource = Resource.default().merge(new Resource({ 'service.name': serviceName }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Also installs the W3C trace-context propagator the interceptors and the agent calls use.
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  const tracer = provider.getTracer('pallet-worker');
  return {
    workerOptions: {
      interceptors: {
        workflowModules: WORKFLOW_INTERCEPTOR_MODULES,
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    },
    async shutdown() {
      await provider.shutdown();
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
    },
  };
}
