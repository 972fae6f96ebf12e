// The activities the worker registers, built from its configuration.
import type { AgentDirectory } from '../sources/agents';
import type { DefinitionStore } from '../sources/definitions';
import { createCallAgent } from './agents';
import type { PalletActivities } from './contract';
import { createLoadDefinition } from './definitions';

export interface ActivityDeps {
  directory: AgentDirectory;
  definitions: DefinitionStore;
  maxResultBytes?: number;
}

export function createActivities(deps: ActivityDeps): PalletActivities {
  return {
    callAgent: createCallAgent({ directory: deps.directory, maxResultBytes: deps.maxResultBytes }),
    loadDefinition: createLoadDefinition(deps.definitions),
  };
}
