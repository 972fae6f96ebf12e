// contract.ts writes its query and updates out as plain objects so that clients do not load
// @temporalio/workflow: they must stay what the SDK's defineQuery and defineUpdate make.
import assert from 'node:assert/strict';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { eventUpdate, replyUpdate, stateQuery } from '../../src/contract';

describe('contract: query and update definitions', () => {
  it('are what defineQuery and defineUpdate make', () => {
    assert.deepEqual(stateQuery, defineQuery('state'));
    assert.deepEqual(eventUpdate, defineUpdate('event'));
    assert.deepEqual(replyUpdate, defineUpdate('reply'));
  });
});
