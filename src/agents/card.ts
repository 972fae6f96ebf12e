// Pallet's agent card: the agent's name, where it is called and the skills it offers. Every
// protocol's fetchCard answers in this shape, so discovery, lint and the activity's
// input_schema check read one kind of card whatever the agent speaks.
import { z } from 'zod';

/** Where an A2A agent is called (its card's `supportedInterfaces`, 0.3 cards translated). */
const a2aInterfaceSchema = z.object({
  url: z.string(),
  /** `JSONRPC` or `HTTP+JSON`. */
  protocolBinding: z.string(),
  /** `1.0`, or `0.3` for an agent on the older protocol. */
  protocolVersion: z.string().optional(),
  tenant: z.string().optional(),
});

export const agentCardSchema = z.object({
  name: z.string().min(1),
  url: z.string().optional(),
  skills: z.array(
    z.object({
      id: z.string().min(1),
      description: z.string().optional(),
      input_schema: z.record(z.string(), z.unknown()).optional(),
      output_schema: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  /** What a call of an A2A agent needs from its card (src/agents/a2a.ts); absent on Pallet's cards. */
  a2a: z.object({ interfaces: z.array(a2aInterfaceSchema), streaming: z.boolean().optional() }).optional(),
});
export type AgentCard = z.infer<typeof agentCardSchema>;
export type SkillCard = AgentCard['skills'][number];
export type A2aInterface = z.infer<typeof a2aInterfaceSchema>;
