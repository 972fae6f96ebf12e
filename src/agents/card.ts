// Pallet's agent card: the agent's name, where it is called and the skills it offers. Every
// protocol's fetchCard answers in this shape, so discovery, lint and the activity's
// input_schema check read one kind of card whatever the agent speaks.
import { z } from 'zod';

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
});
export type AgentCard = z.infer<typeof agentCardSchema>;
export type SkillCard = AgentCard['skills'][number];
