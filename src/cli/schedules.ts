// `pallet schedule ...`: workflows on Temporal Schedules (issue 19).
// Only commander is imported here; the client is loaded when a verb runs.
import type { Command } from 'commander';

export function registerScheduleCommands(program: Command): void {
  void program;
}
