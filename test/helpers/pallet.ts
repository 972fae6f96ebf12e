// Where Pallet's own files are: the copies kept in this repository (workflows in
// pallet-workflows/, cards in agent-cards/, validation fixtures in test/fixtures/), and
// Pallet's originals when its checkout sits beside this one (../shared/pallet).
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export const PALLET_WORKFLOWS = path.join(ROOT, 'pallet-workflows');
export const PALLET_TEST_WORKFLOWS = path.join(ROOT, 'test', 'fixtures', 'pallet-test-workflows');
export const PALLET_AGENT_CARDS = path.join(ROOT, 'agent-cards');

/** Pallet's originals, or undefined when they are not at hand (tests comparing copies skip). */
export const PALLET_ORIGINALS: string | undefined = [process.env.PALLET_SHARED_DIR, path.resolve(ROOT, '..', 'shared', 'pallet')].find(
  (dir): dir is string => !!dir && existsSync(dir),
);
