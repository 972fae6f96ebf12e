// The workflow interceptor modules the worker bundles when tracing is on. A prebuilt workflow bundle that
// includes them needs the worker to inject the span exporter sink (tracing.ts `workflowSinks`) on every run.
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [require.resolve('../workflows/interceptors')];
