// The agent protocols this worker speaks, by the name an agent entry gives. A new protocol is
// a module beside pallet-jsonrpc.ts implementing AgentProtocol (protocol.ts), added here.
import { a2aProtocol } from './a2a';
import { mcpProtocol } from './mcp';
import { palletJsonRpc } from './pallet-jsonrpc';
import { PALLET_PROTOCOL, type AgentProtocol } from './protocol';

export const AGENT_PROTOCOLS: readonly AgentProtocol[] = [palletJsonRpc, a2aProtocol, mcpProtocol];

/** The protocol called `name` (an entry without one speaks Pallet's), or undefined. */
export function protocolNamed(protocols: readonly AgentProtocol[], name: string = PALLET_PROTOCOL): AgentProtocol | undefined {
  return protocols.find((p) => p.name === name);
}
