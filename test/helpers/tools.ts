// The external programs tests need (docker-registry, oras, the Temporal CLI, the time-skipping
// server, Chromium): a missing one fails the test that needs it, with the command that
// installs it, rather than skipping it, so CI cannot pass without running these tests.
import { existsSync } from 'node:fs';

/** The command that installs every program the tests need. */
export const INSTALL_TEST_TOOLS = 'bash scripts/install-tools.sh test';

/** Throws, naming the program and how to install it, when `file` is missing. */
export function requireTool(file: string, what: string, install = INSTALL_TEST_TOOLS): void {
  if (!existsSync(file)) throw new Error(`${what} (${file}) is missing: install it with \`${install}\``);
}
