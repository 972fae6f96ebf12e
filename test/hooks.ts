// Mocha root hooks: stop the shared Temporal dev server after the whole run.
import { stopTemporal } from './helpers/temporal';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTemporal();
  },
};
