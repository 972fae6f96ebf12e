import assert from 'node:assert/strict';
import { telemetryConfig } from '../../../src/telemetry/config';

describe('telemetry config', () => {
  it('is off with nothing set', () => {
    assert.deepEqual(telemetryConfig({}), {});
  });

  it('reads PALLET_METRICS_ADDRESS as host:port, and refuses anything else naming the variable', () => {
    assert.equal(telemetryConfig({ PALLET_METRICS_ADDRESS: '0.0.0.0:9464' }).metricsAddress, '0.0.0.0:9464');
    assert.equal(telemetryConfig({ PALLET_METRICS_ADDRESS: ' [::1]:9464 ' }).metricsAddress, '[::1]:9464');
    assert.equal(telemetryConfig({ PALLET_METRICS_ADDRESS: 'metrics.internal:80' }).metricsAddress, 'metrics.internal:80');
    for (const bad of ['9464', 'http://localhost:9464', 'localhost:0', 'localhost:70000', 'localhost:9464/metrics']) {
      assert.throws(() => telemetryConfig({ PALLET_METRICS_ADDRESS: bad }), /PALLET_METRICS_ADDRESS must be host:port/, bad);
    }
  });

  it('turns tracing on with OTEL_EXPORTER_OTLP_ENDPOINT, named by OTEL_SERVICE_NAME', () => {
    assert.equal(telemetryConfig({ OTEL_SERVICE_NAME: 'x' }).tracing, undefined);
    assert.deepEqual(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }).tracing, {
      endpoint: 'http://localhost:4318',
      serviceName: 'pallet-worker',
    });
    assert.deepEqual(
      telemetryConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/traces',
        OTEL_SERVICE_NAME: 'workers-eu',
      }).tracing,
      { endpoint: 'http://collector:4318/traces', serviceName: 'workers-eu' },
    );
  });
});
