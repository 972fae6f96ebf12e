// `pallet approve` and `reply` (approvals.ts), defined with commander only.
import type { Command } from 'commander';
import { lazyWithClient } from './lazy';

export function registerApprovalCommands(program: Command): void {
  program
    .command('approve')
    .description('answer a wait step of a running run: approve it (or --reject it), with optional data; a worker must be running')
    .argument('<workflowId>')
    .argument('<event>', "the wait step's event name (its `event`, by default its step id), or its step id")
    .option('--reject', 'reject instead of approving')
    .option('--data <json>', 'a JSON value the wait step records as its `data` (default: null)')
    .option('--by <name>', "who answers, recorded as the wait step's `by`")
    .option('--run-id <runId>')
    .option('--json', 'print the outcome as JSON')
    .action(lazyWithClient(async () => (await import('../approvals')).approveCommand));

  program
    .command('reply')
    .description("answer an agent's question (an A2A task gone input-required) in a running run: the step's task goes on with it; a worker must be running")
    .argument('<workflowId>')
    .argument('<step>', "the asking step's id (a loop body step: loop[3].step), as `pallet status` shows it")
    .option('--text <text>', 'the answer as text')
    .option('--data <json>', 'the answer as a JSON value (a data part)')
    .option('--by <name>', 'who answers')
    .option('--run-id <runId>')
    .option('--json', 'print the outcome as JSON')
    .action(lazyWithClient(async () => (await import('../approvals')).replyCommand));
}
