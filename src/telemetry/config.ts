// Telemetry settings, read from the environment: Prometheus metrics (PALLET_METRICS_ADDRESS) and
// OpenTelemetry tracing (the standard OTEL_* variables). Off when unset.
export interface TelemetryConfig {
  /** host:port the worker serves Prometheus metrics on, at /metrics (Temporal's SDK metrics and Pallet's). */
  metricsAddress?: string;
  /** Set when OTEL_EXPORTER_OTLP_ENDPOINT is: spans go there over OTLP/HTTP. */
  tracing?: { endpoint: string; serviceName: string };
}

export function telemetryConfig(env: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  const config: TelemetryConfig = {};
  const address = env.PALLET_METRICS_ADDRESS?.trim();
  if (address) config.metricsAddress = checkAddress(address);
  // On exactly when OTEL_EXPORTER_OTLP_ENDPOINT is set (the prebuilt bundle with the tracing interceptors is chosen by
  // the same test, worker-tuning.ts); the exporter itself also reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and headers.
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (endpoint)
    config.tracing = { endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || endpoint, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'pallet-worker' };
  return config;
}

/** host:port as the SDK's Prometheus exporter binds it (an IPv6 host in brackets). */
function checkAddress(address: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`PALLET_METRICS_ADDRESS must be host:port, such as 0.0.0.0:9464 or 127.0.0.1:9464 (got "${address}")`);
  }
  return address;
}
