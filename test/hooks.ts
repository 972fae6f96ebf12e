// Mocha root hooks: a quiet SDK runtime, and the shared Temporal dev server stopped at the end.
import { quietRuntime, stopTemporal } from './helpers/temporal';

export const mochaHooks = {
  beforeAll() {
    quietRuntime();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTemporal();
  },
};
