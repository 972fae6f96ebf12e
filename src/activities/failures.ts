// How the activities' failures that are not the agent's become ApplicationFailures.
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../contract';
import { isRetryable, type RegistryError } from '../registry';

/** A registry error as the activity's failure: retried when the registry may answer later (down, busy), final otherwise. */
export function registryFailure(err: RegistryError, message: string): ApplicationFailure {
  if (isRetryable(err)) return ApplicationFailure.retryable(message, FailureTypes.registryError);
  return ApplicationFailure.nonRetryable(message, FailureTypes.registryError);
}
