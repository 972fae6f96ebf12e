// What templates and expressions see while a run is under way. A leaf module (types only), so
// that templates.ts and expressions.ts need not import each other both ways.

/** What templates can see while a run is under way. */
export interface TemplateContext {
  input: Record<string, unknown>;
  /** Stored outputs by step id (the value templates reach as `steps.<id>.outputs`). */
  outputs: Record<string, unknown>;
  /** Inside a for_each step: the current item, its index, and the outputs of this iteration's steps (seen before `outputs`). */
  loop?: LoopFrame;
}

/** One iteration of a for_each step, as templates and expressions see it (`item`, `index`). */
export interface LoopFrame {
  item: unknown;
  index: number;
  outputs: Record<string, unknown>;
}
