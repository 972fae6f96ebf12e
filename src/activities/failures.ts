// How the activities' failures that are not the agent's become ApplicationFailures.
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../contract';
import { isRetryable, type RegistryError } from '../registry';

/** A registry error as the activity's failure: retried when the registry may answer later (down, busy), final otherwise. */
export function registryFailure(err: RegistryError, message: string): ApplicationFailure {
  return isRetryable(err) ? ApplicationFailure.retryable(message, FailureTypes.registryError) : ApplicationFailure.nonRetryable(message, FailureTypes.registryError);
}
