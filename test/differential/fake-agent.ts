// The differential tests' fake agent, TypeScript side. Its twin is fake_agent.py (which the
// fixture generator plugs under Pallet's engine); both follow the contract in README.md and
// must stay identical:
//
// - skill `execute_workflow`: runs the child workflow whose metadata.id is
//   params.workflow_id (a file in cases/children/) with input params.input ({} when absent
//   or null) and answers the child's whole result; an unknown id or a failing child answers
//   an error. Other params are ignored, as our engine ignores them.
// - otherwise, after waiting params.delay_ms milliseconds when it is a number:
//   params.fail === true answers an error; else params.reply when the key is present (even
//   null); else {skill, params}.

export const EXECUTE_WORKFLOW = 'execute_workflow';

export type FakeAnswer = { kind: 'result'; value: unknown } | { kind: 'error'; message: string };

/** Runs a child workflow by id; rejects when there is no such child or it fails. */
export type RunChild = (workflowId: unknown, input: unknown) => Promise<unknown>;

export async function fakeAnswer(skill: string, params: Record<string, unknown>, runChild: RunChild): Promise<FakeAnswer> {
  if (skill === EXECUTE_WORKFLOW) {
    const workflowId = params.workflow_id;
    const input = params.input ?? {};
    try {
      return { kind: 'result', value: await runChild(workflowId, input) };
    } catch (err) {
      return { kind: 'error', message: `fake agent: child workflow ${String(workflowId)}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  const delay = params.delay_ms;
  if (typeof delay === 'number' && delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  if (params.fail === true) return { kind: 'error', message: `fake agent: skill ${skill} failed as asked` };
  if (Object.prototype.hasOwnProperty.call(params, 'reply')) return { kind: 'result', value: params.reply };
  return { kind: 'result', value: { skill, params } };
}
