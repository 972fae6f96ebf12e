// Agents that ask: an A2A agent whose task goes `input-required` makes its call step wait,
// durably and without a worker, for an answer sent with the `reply` update (`pallet reply`),
// then the same task goes on with it. Sandbox code.
//
// Like waits.ts: the handler is registered when the run starts, and its validator refuses
// (with no trace in the history) a reply no step is asking for now. Only runs whose agents
// ask (which no earlier interpreter could run) add commands here, so no patch is needed.
import { ApplicationFailure, condition, setHandler, upsertMemo } from '@temporalio/workflow';
import { NOT_ASKING, replyUpdate, type AskingStep, type PalletReply, type ReplyReceipt } from '../contract';
import { showDuration } from '../dsl/durations';
import { iso, workflowNow } from './waits';

interface Pending extends AskingStep {
  answer?: PalletReply;
}

export class Questions {
  private readonly pending: Pending[] = [];

  /** Registers the `reply` update handler: call once, when the run starts. `carried`: questions an earlier generation left unanswered. */
  constructor(
    private readonly carried: Record<string, AskingStep> = {},
    /** Told whenever the questions asked change (the live state). */
    private readonly onChange: (asking: AskingStep[]) => void = () => undefined,
  ) {
    setHandler(replyUpdate, (reply) => this.deliver(reply), {
      validator: (reply) => this.check(reply),
      description: "An answer to an agent's question: {step: the asking step's id, text?, data?, by?}",
    });
  }

  /** The question an earlier generation of this run left unanswered for this step, if any. */
  carriedFor(stepId: string): AskingStep | undefined {
    return Object.prototype.hasOwnProperty.call(this.carried, stepId) ? this.carried[stepId] : undefined;
  }

  /**
   * Waits for the answer to `question` (a carried one keeps its times); undefined when
   * `timeoutMs` passed first. The question is shown (state, memo) while it waits.
   */
  async ask(question: Omit<AskingStep, 'since' | 'timeout_at'>, timeoutMs: number | undefined, carried?: AskingStep): Promise<PalletReply | undefined> {
    const now = workflowNow();
    const timeoutAt = carried
      ? carried.timeout_at === null
        ? undefined
        : Date.parse(carried.timeout_at)
      : timeoutMs === undefined
        ? undefined
        : now + timeoutMs;
    const entry: Pending = { ...question, since: carried?.since ?? iso(now), timeout_at: timeoutAt === undefined ? null : iso(timeoutAt) };
    this.pending.push(entry);
    this.publish();
    let answered = false;
    try {
      const has = () => entry.answer !== undefined;
      if (timeoutAt === undefined) await condition(has);
      else
        await condition(has, Math.max(timeoutAt - now, 1), {
          summary: `${entry.step}: wait for a reply, at most ${showDuration(Math.max(timeoutAt - now, 0))}`,
        });
      answered = true;
    } finally {
      // Cut by continue-as-new, an unanswered question is carried (underway); else it is done.
      if (answered || entry.answer !== undefined) this.pending.splice(this.pending.indexOf(entry), 1);
      this.publish();
    }
    return entry.answer;
  }

  /** Questions still unanswered, by step id: carried into the next generation. */
  underway(): Record<string, AskingStep> {
    return Object.fromEntries(this.pending.filter((p) => p.answer === undefined).map(({ answer: _, ...q }) => [q.step, q]));
  }

  private asking(): AskingStep[] {
    return this.pending.filter((p) => p.answer === undefined).map(({ answer: _, ...q }) => q);
  }

  /** The live state and the memo (`asking`), so that `pallet status` shows questions with or without a worker. */
  private publish(): void {
    const asking = this.asking();
    this.onChange(asking);
    upsertMemo({ asking: asking.map(({ step, question, since, timeout_at }) => ({ step, question, since, timeout_at })) });
  }

  /** The update's validator: refuses malformed replies and replies no step asks for (nothing is recorded). */
  private check(reply: PalletReply): void {
    if (typeof reply !== 'object' || reply === null || typeof reply.step !== 'string' || reply.step === '')
      throw ApplicationFailure.nonRetryable('a reply is {step, text?, data?, by?}', 'InvalidInput');
    if (reply.text !== undefined && typeof reply.text !== 'string') throw ApplicationFailure.nonRetryable("a reply's text must be a string", 'InvalidInput');
    if (reply.text === undefined && reply.data === undefined) throw ApplicationFailure.nonRetryable('a reply needs text or data', 'InvalidInput');
    if (this.pending.some((p) => p.step === reply.step && p.answer === undefined)) return;
    const asking = this.asking();
    throw ApplicationFailure.create({
      message: `step "${reply.step}" is not waiting for a reply: ${asking.length ? `asking now: ${asking.map((a) => `"${a.step}"`).join(', ')}` : 'no step of the run is asking now'}`,
      type: NOT_ASKING,
      nonRetryable: true,
      details: [{ asking }],
    });
  }

  private deliver(reply: PalletReply): ReplyReceipt {
    const entry = this.pending.find((p) => p.step === reply.step && p.answer === undefined)!;
    entry.answer = reply;
    return { step: reply.step };
  }
}
