// Actions that load their implementation when their verb runs: `pallet --help` and each verb
// load commander and what that verb needs, not the Temporal worker, the DSL or the agent SDKs.
import type { PalletClient } from '../../client';

/** An action whose body is loaded (`await import(...)`) only when the verb runs. */
export function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => unknown>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await (
      await load()
    )(...args);
  };
}

/** A lazy action whose body takes a connected client, closed when it returns (runs.ts withServices). */
export function lazyWithClient<A extends unknown[]>(load: () => Promise<(pc: PalletClient, ...args: A) => Promise<void>>): (...args: A) => Promise<void> {
  return lazy(async () => {
    const [body, { withServices }] = await Promise.all([load(), import('../runs')]);
    return withServices(body);
  });
}
