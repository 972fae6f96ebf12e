// The zod schema of a Pallet workflow file. It accepts every file Pallet accepts (and fills
// in Pallet's defaults); the rules that need the whole definition (unique ids, template
// references, branch shapes) live in validate.ts so that all problems are reported at once.
import { z } from 'zod';
import type { Step, WorkflowDefinition } from './types';

const stepId = z
  // A missing id keeps zod's own message, which the loader turns into "... is required".
  .string({ error: (issue) => (issue.input === undefined ? undefined : 'step id must be a string') })
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'step id may only contain letters, digits, "_" and "-" and must not start with a digit');

// step_type is checked in validate.ts (with the list of known types), so the schema only
// asks for a string here: an unknown type then gets one clear message, not a zod union dump.
export const stepSchema: z.ZodType<Step> = z.lazy(() =>
  z.object({
    id: stepId,
    skill: z.string().min(1).optional(),
    inputs: z.record(z.string(), z.unknown()).default({}),
    outputs: z.string().min(1).optional(),
    timeout: z.number().positive('timeout must be a positive number of seconds').default(300),
    step_type: z.string().default('sequential'),
    condition: z.string().optional(),
    branches: z.record(z.string(), z.array(stepSchema)).optional(),
  }) as unknown as z.ZodType<Step>,
);

export const definitionSchema: z.ZodType<WorkflowDefinition> = z.object({
  metadata: z.object({
    id: z.string().min(1),
    name: z.string().min(1),
    version: z.union([z.string(), z.number()]).transform(String),
    description: z.string().default(''),
    tags: z.array(z.string()).default([]),
  }),
  steps: z.array(stepSchema),
  error_handling: z.record(z.string(), z.unknown()).optional(),
}) as unknown as z.ZodType<WorkflowDefinition>;
