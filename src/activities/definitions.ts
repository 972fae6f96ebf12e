// The loadDefinition activity: fetch a definition by reference and check it, so that the
// workflow history holds exactly the definition that ran. A missing or invalid definition
// fails at once; a registry that is down is retried.
import { ApplicationFailure } from '@temporalio/common';
import { RegistryError } from '../registry';
import { DefinitionNotFoundError, InvalidDefinitionError, loadFromStore, type DefinitionStore } from '../sources/definitions';
import { FailureTypes } from '../contract';
import type { LoadDefinitionRequest, LoadedDefinition } from './contract';
import { registryFailure } from './failures';

export function createLoadDefinition(store: DefinitionStore) {
  return async function loadDefinition({ ref, digest }: LoadDefinitionRequest): Promise<LoadedDefinition> {
    try {
      const { definition, source } = await loadFromStore(store, ref, digest);
      return { definition, source };
    } catch (err) {
      if (err instanceof DefinitionNotFoundError) throw ApplicationFailure.nonRetryable(err.message, FailureTypes.unknownWorkflow);
      if (err instanceof InvalidDefinitionError) throw ApplicationFailure.nonRetryable(err.message, FailureTypes.invalidDefinition, err.problems);
      // The workflow says which workflow it could not load; this says why.
      if (err instanceof RegistryError) throw registryFailure(err, err.message);
      throw err;
    }
  };
}
