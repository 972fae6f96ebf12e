// Workflow-side interceptors, bundled into the sandbox when tracing is on (src/telemetry/workflow-modules.ts):
// the SDK's OpenTelemetry interceptors open a span for the run and for each activity and child workflow it
// starts, and carry the trace context in their headers. Spans leave the sandbox through the `exporter` sink,
// which the worker injects (src/telemetry/tracing.ts). Sandbox-safe: no I/O, the SDK's own deterministic code.
import { interceptors as openTelemetryInterceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => openTelemetryInterceptors();
