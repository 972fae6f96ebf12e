// Registry errors as activity failures: the definition load and the claim check say the same
// thing, retried when the registry may answer later (down, busy, slow), final otherwise.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createLoadDefinition } from '../../../src/activities/definitions';
import { registryFailure } from '../../../src/activities/failures';
import { FailureTypes } from '../../../src/contract';
import { RegistryError, type RegistryErrorCode } from '../../../src/registry';
import type { DefinitionStore } from '../../../src/sources/definitions';

const RETRIED: RegistryErrorCode[] = ['unreachable', 'timeout', 'rate_limited', 'server_error'];
const FINAL: RegistryErrorCode[] = ['unauthorized', 'digest_mismatch', 'too_large', 'invalid_manifest', 'protocol'];

describe('registry errors as activity failures', () => {
  it('registryFailure: retryable for a registry that is down, busy or slow; final otherwise; the message given, type RegistryError', () => {
    for (const code of [...RETRIED, ...FINAL]) {
      const failure = registryFailure(new RegistryError(`registry said ${code}`, code, 'workflows/x:v1'), `reading x failed: registry said ${code}`);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, FailureTypes.registryError);
      assert.equal(failure.nonRetryable, FINAL.includes(code), code);
      assert.equal(failure.message, `reading x failed: registry said ${code}`);
    }
  });

  it("loadDefinition fails with the registry's message, retried only when the registry may answer later", async () => {
    for (const code of ['server_error', 'unauthorized'] as const) {
      const store: DefinitionStore = {
        describe: () => 'registry test',
        fetch: () => Promise.reject(new RegistryError(`registry localhost:5000 answered ${code} for workflows/x:v1`, code, 'workflows/x:v1')),
      };
      await assert.rejects(createLoadDefinition(store)({ ref: 'x' }), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, FailureTypes.registryError);
        assert.equal(err.nonRetryable, code === 'unauthorized');
        assert.equal(err.message, `registry localhost:5000 answered ${code} for workflows/x:v1`);
        return true;
      });
    }
  });
});
