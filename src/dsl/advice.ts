// Warnings about definitions that are valid but likely not what their author means. `pallet lint` prints them; they never stop a run.
import { checkExpression, expressionOf } from './expressions';
import { durationMs } from './durations';
import { adviseInputSchema } from './input-schema';
import { STEP_KINDS, walkSteps, type FieldPath, type StepVisit } from './step-kinds';
import type { Step, WaitStep, WorkflowDefinition } from './types';
import type { Problem } from './validate';

export function adviseDefinition(def: WorkflowDefinition): Problem[] {
  const advice: Problem[] = adviseInputSchema(def.metadata);
  adviseSteps(def.steps, advice);
  // Pallet reads no key of error_handling; we read two. Say when others will not be read.
  for (const key of Object.keys(def.error_handling ?? {})) {
    if (key !== 'retry' && key !== 'continue_on_error') {
      advice.push({
        path: ['error_handling', key],
        message: `error_handling.${key} is not read (error_handling holds retry and continue_on_error, the defaults of every call step)`,
      });
    }
  }
  // No warning about history length: a run continues as new when its history grows long.
  return advice;
}

function adviseSteps(steps: Step[], advice: Problem[]): void {
  walkSteps(steps, (step, visit) => {
    const { path, parent, role } = visit;
    // Only conditional and switch branches keep Pallet's bare results.
    const inBareBranch = role === 'branch' && parent !== undefined && STEP_KINDS[parent.step.step_type].bareResults;
    if (step.step_type === 'sequential' && inBareBranch && step.outputs) {
      advice.push({
        path: [...path, 'outputs'],
        message: `step "${step.id}": \`outputs\` is ignored directly inside a conditional or switch branch (as in Pallet): the bare result is stored`,
      });
    }
    if (step.step_type === 'wait') adviseWait(step, path, inCompensation(visit), advice);
    if (step.step_type === 'switch') adviseBoolSwitch(step.condition, step.branches, path, step.id, advice);
  });
}

/** Whether a step runs as compensation: it is in a compensate list, or inside a step that is. */
function inCompensation(at: StepVisit<Step>): boolean {
  for (let v: StepVisit<Step> | undefined = at; v; v = v.parent) if (v.role === 'compensate') return true;
  return false;
}

/** Wait steps that cannot be answered, branches that cannot run, and outcomes that change nothing. */
function adviseWait(step: WaitStep, path: FieldPath, inCompensate: boolean, advice: Problem[]): void {
  const timeoutMs = durationMs(step.timeout);
  if (timeoutMs === 0) {
    advice.push({ path: [...path, 'timeout'], message: `step "${step.id}": a timeout of 0 times out at once: the wait can never be answered` });
  }
  if (step.timeout === undefined && step.branches?.timed_out) {
    advice.push({ path: [...path, 'branches', 'timed_out'], message: `step "${step.id}": the timed_out branch can never run: the wait has no timeout` });
  }
  if (inCompensate && step.timeout === undefined) {
    advice.push({
      path: [...path, 'timeout'],
      message: `step "${step.id}": compensation runs while the run is failing or being cancelled, and no one may be there to answer: give the wait a timeout`,
    });
  }
  if (!step.branches || Object.values(step.branches).every((b) => !b || b.length === 0)) {
    advice.push({
      path: [...path, 'branches'],
      message: `step "${step.id}": the wait has no outcome branches, so the run goes on alike whether approved, rejected or timed out: add branches (approved, rejected, timed_out) or read steps.${step.id}.outputs.outcome`,
    });
  }
}

/** A switch on a bool expression selects "True" or "False" (Python's str()): say so when it has neither branch. */
function adviseBoolSwitch(condition: string, branches: Record<string, unknown>, path: FieldPath, id: string, advice: Problem[]): void {
  const text = expressionOf(condition);
  if (text === undefined) return;
  const checked = checkExpression(text);
  const has = (name: string) => Object.prototype.hasOwnProperty.call(branches, name);
  if (!checked.ok || checked.type !== 'bool' || has('True') || has('False')) return;
  advice.push({
    path: [...path, 'condition'],
    message: `step "${id}": the condition is a bool, which selects branch "True" or "False" (as Pallet writes a bool), and this switch has neither: use a conditional step, or an expression giving a branch name (\`c ? 'a' : 'b'\`)`,
  });
}
