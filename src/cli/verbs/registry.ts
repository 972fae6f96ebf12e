// `pallet push`, `publish-agent`, `list` and `show` (registry.ts), defined with commander only.
import type { Command } from 'commander';
import { lazy } from './lazy';

export function registerRegistryCommands(program: Command): void {
  program
    .command('push')
    // pallet-workflows/: registry.ts DEFAULT_DIR.
    .description('validate and push definitions to the registry as workflows/<name>:<tag> (default: all of pallet-workflows/)')
    .argument('[files...]')
    .option('-t, --tag <tag>', 'tag to push (default: the -vN suffix of the workflow id, else v1)')
    .option('--json', 'print what happened to each file as a JSON array of {file, id, status, ref, digest} (status pushed, unchanged, invalid or unreadable)')
    .action(lazy(async () => (await import('../registry')).pushAction));

  program
    .command('publish-agent')
    .description('push agent cards to the registry as agents/<agent>:v1: card JSON files (Pallet or A2A), or agent URLs whose card is published')
    .argument('<cards...>', 'agent card JSON files or agent base URLs')
    .option('--json', 'print what was pushed as a JSON array of {source, agent, skills, status, ref, digest} (status pushed or unchanged)')
    .action(lazy(async () => (await import('../registry')).publishAgentCommand));

  program
    .command('list')
    .description("list the registry's workflows: id, name, version, tags, digest")
    .option('--json', 'print the workflows as a JSON array of {repository, id, name, version, tags, digest, problem?}')
    .action(lazy(async () => (await import('../registry')).listCommand));

  program
    .command('show')
    .description('print a stored definition (id, name:tag or name@sha256:...)')
    .argument('<ref>')
    .option('--json', 'print {ref, digest, repository, tag, file, text} as JSON (repository and tag for the registry): text is the definition as stored')
    .action(lazy(async () => (await import('../registry')).showCommand));
}
