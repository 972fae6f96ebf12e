// Every Temporal patch id of the interpreter, in one place. A patch marks a change of the
// commands a run emits: runs recorded before it replay the old way (`patched(id)` is false
// there), new runs take the new one. Ids are never reused or removed while such runs may exist.

/** An `execute_workflow` step loads (pins) its child's definition before starting it. */
export const PIN_CHILD_DEFINITIONS = 'pin-child-definitions';
/** A parallel step of more than MAX_INLINE_BRANCHES runs its branches in child workflows. */
export const BATCHED_PARALLEL = 'batched-parallel';
/** A run told its server has Pallet's search attributes upserts them (definition, PalletStatus). */
export const PALLET_SEARCH_ATTRIBUTES = 'pallet-search-attributes';
/** A run continues as new when its history grows past its limit. */
export const CONTINUE_AS_NEW = 'continue-as-new';
/** A switch whose matching branch is empty runs `default` (before: the empty branch). */
export const EMPTY_BRANCH_RUNS_DEFAULT = 'switch-empty-branch-runs-default';
/** Pending wait steps are shown in the run's memo (`waiting`), so the history tells them. */
export const WAITING_MEMO = 'waiting-memo';
/** A batch of a parallel step inside a loop is named after its iteration and sees its item and index. */
export const BATCHES_IN_LOOPS = 'batches-in-loops';
/** A generation whose carried state is large keeps it in the data store, a reference in the next history. */
export const STATE_BY_REFERENCE = 'state-by-reference';
/** A cancelled run waits for its agent calls to stop (an A2A agent's task is cancelled with it). */
export const WAIT_FOR_CANCELLED_CALLS = 'wait-for-cancelled-calls';
/**
 * A new generation takes the steps earlier ones finished (carried) in one synchronous pass,
 * without the awaits, span and progress update of a step that runs: its first workflow task no
 * longer grows with everything finished so far. Fewer awaits may reorder concurrent branches' commands.
 */
export const QUICK_CARRIED_STEPS = 'quick-carried-steps';
