// The run's progress as the Web UI's "current details": bounded in size, so that updating it
// after every step costs the same at step 10 as at step 10,000.
import type { RunState } from '../contract';

/** How many step ids each line names at most. */
const SHOWN = 8;

export function progressText(state: RunState): string {
  const lines = [`**${state.workflow.name}** (${state.workflow.id} ${state.workflow.version}): ${state.status}`];
  const { finished, running } = state;
  if (finished.length) {
    const last = finished.slice(-SHOWN);
    lines.push(`finished ${finished.length} step${finished.length === 1 ? '' : 's'}: ${finished.length > SHOWN ? '…, ' : ''}${last.join(', ')}`);
  }
  if (running.length) {
    const shown = running.slice(0, SHOWN).map((id) => {
      const decided = state.containers[id];
      return decided && decided.step_type !== 'parallel' ? `${id} (${decided.step_type}: branch ${decided.branch ?? '(none)'})` : id;
    });
    lines.push(`running: ${shown.join(', ')}${running.length > SHOWN ? ` and ${running.length - SHOWN} more` : ''}`);
  }
  if (state.waiting?.length) {
    const shown = state.waiting
      .slice(0, SHOWN)
      .map((w) => `${w.step}${w.event === w.step ? '' : ` (event ${w.event})`} since ${w.since}${w.timeout_at ? `, times out at ${w.timeout_at}` : ''}`);
    lines.push(
      `waiting for: ${shown.join('; ')}${state.waiting.length > SHOWN ? ` and ${state.waiting.length - SHOWN} more` : ''}; answer with \`pallet approve <workflow id> <event>\``,
    );
  }
  if (state.asking?.length) {
    const shown = state.asking.slice(0, SHOWN).map((a) => `${a.step}: ${a.question.length > 200 ? `${a.question.slice(0, 199)}…` : a.question}`);
    lines.push(
      `input required: ${shown.join('; ')}${state.asking.length > SHOWN ? ` and ${state.asking.length - SHOWN} more` : ''}; answer with \`pallet reply <workflow id> <step> --text ...\``,
    );
  }
  if (state.error) lines.push(`error: ${state.error}`);
  return lines.join('\n\n');
}
