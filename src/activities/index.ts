// The activities the worker registers, built from its configuration.
import type { AgentCredentials } from '../agents/credentials';
import type { ClaimStore } from '../claims';
import type { AgentDirectory } from '../sources/agents';
import type { DefinitionStore } from '../sources/definitions';
import { createCallAgent } from './call-agent';
import type { PalletActivities } from './contract';
import { createLoadDefinition } from './definitions';
import { createStateActivities } from './run-state';

export interface ActivityDeps {
  directory: AgentDirectory;
  definitions: DefinitionStore;
  maxResultBytes?: number;
  /** Where large values go (docs/large-data.md); without it, a result over maxResultBytes fails its step. */
  claims?: ClaimStore;
  /** With `claims`: parts of a result whose JSON is over this many bytes are stored (default 256 KiB). */
  claimCheckBytes?: number;
  /** Bytes of an agent's reply read at most (default: 256 MiB with `claims`, else MAX_REPLY_BYTES). */
  maxReplyBytes?: number;
  /** Headers per agent host (PALLET_AGENT_CREDENTIALS), sent to agents only. */
  credentials?: AgentCredentials;
}

export function createActivities(deps: ActivityDeps): PalletActivities {
  return {
    callAgent: createCallAgent({
      directory: deps.directory,
      maxResultBytes: deps.maxResultBytes,
      claims: deps.claims,
      claimCheckBytes: deps.claimCheckBytes,
      maxReplyBytes: deps.maxReplyBytes,
      credentials: deps.credentials,
    }),
    loadDefinition: createLoadDefinition(deps.definitions),
    ...createStateActivities(deps.claims),
  };
}
