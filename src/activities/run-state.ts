// The activities that keep a run's state in the data store when it grows large
// (docs/large-data.md): a generation's carried outputs that no later step reads are written as
// segments, and a run whose result would not fit a payload has its step outputs assembled
// from them into one blob. The workflow then holds references only.
import { ApplicationFailure } from '@temporalio/common';
import { JSON_MEDIA_TYPE, resolveClaims, storeLargeValues, type ClaimStore } from '../claims';
import { FailureTypes, type ClaimRef, type StateSegment } from '../contract';
import type { StoreResultReply, StoreResultRequest, StoreStateRequest } from './contract';
import { RegistryError } from '../registry';
import { registryFailure } from './failures';

/** Values over this many bytes in an assembled result's final output are stored apart, as everywhere else. */
const FINAL_OUTPUT_BYTES = 256 * 1024;

/** A failure while reading or writing state: the registry's (retried when it may answer later), else final. */
function stateFailure(err: unknown, message: string): ApplicationFailure {
  if (err instanceof RegistryError) return registryFailure(err, message);
  return ApplicationFailure.nonRetryable(message, FailureTypes.registryError);
}

export function createStateActivities(claims: ClaimStore | undefined) {
  const store = (what: string): ClaimStore => {
    if (claims) return claims;
    throw ApplicationFailure.nonRetryable(
      `${what}: this worker has no data store (the registry's data repository, docs/large-data.md), so a run's state cannot outgrow a Temporal payload`,
      FailureTypes.resultTooLarge,
    );
  };

  return {
    /** Stores one segment of carried outputs; returns its reference. */
    async storeState(req: StoreStateRequest): Promise<ClaimRef> {
      const data = store("storing the run's state");
      try {
        return await data.put(Buffer.from(JSON.stringify(req.segment), 'utf8'), JSON_MEDIA_TYPE, req.owner);
      } catch (err) {
        throw stateFailure(err, `storing the run's state in ${data.location} failed: ${(err as Error).message}`);
      }
    },

    /**
     * The run's step outputs in Pallet's order, read from its segments and stored as one blob;
     * its final output (the last one) returned as a value, or a reference when it is large.
     */
    async storeResult(req: StoreResultRequest): Promise<StoreResultReply> {
      const data = store("storing the run's result");
      try {
        const segments = await Promise.all(req.segments.map(async (ref) => (await resolveClaims(ref, data)) as StateSegment));
        const stepOutputs: Record<string, { outputs: unknown }> = {};
        for (const id of req.order) {
          const outputs = segments[req.index[id]].outputs[id];
          Object.defineProperty(stepOutputs, id, { value: { outputs }, enumerable: true, writable: true, configurable: true });
        }
        const last = req.order.length > 0 ? stepOutputs[req.order[req.order.length - 1]].outputs : {};
        const stored = await data.put(Buffer.from(JSON.stringify(stepOutputs), 'utf8'), JSON_MEDIA_TYPE, req.owner);
        const final = await storeLargeValues(last, data, FINAL_OUTPUT_BYTES, req.owner);
        return { step_outputs: stored, final_output: final.value };
      } catch (err) {
        throw stateFailure(err, `storing the run's result in ${data.location} failed: ${(err as Error).message}`);
      }
    },
  };
}
