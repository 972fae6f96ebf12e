// A gRPC error from whatever answers at TEMPORAL_ADDRESS becomes one line naming the address.
import assert from 'node:assert/strict';
import { ServiceError } from '@temporalio/client';
import { serverErrorExplained } from '../../../src/cli';

describe('CLI errors from the server', () => {
  it('something that is not Temporal at the address: says so, with the address and the fix', () => {
    const grpc = Object.assign(new Error('12 UNIMPLEMENTED'), { code: 12, details: 'Received HTTP status code 404' });
    const err = serverErrorExplained(new ServiceError('Failed to describe workflow', { cause: grpc }), 'proxy:7233') as Error;
    assert.equal(
      err.message,
      "Failed to describe workflow at Temporal proxy:7233: something that is not a Temporal frontend answers there (Received HTTP status code 404); point TEMPORAL_ADDRESS at the server's gRPC port (7233 by default)",
    );
  });

  it('a server error keeps its reason; other errors pass unchanged', () => {
    const grpc = Object.assign(new Error('7 PERMISSION_DENIED'), { code: 7, details: 'Request unauthorized.' });
    assert.equal(
      (serverErrorExplained(new ServiceError('Failed to list workflows', { cause: grpc }), 'tc:7233') as Error).message,
      'Failed to list workflows at Temporal tc:7233: Request unauthorized.',
    );
    const plain = new Error('file missing');
    assert.equal(serverErrorExplained(plain, 'x'), plain);
  });
});
