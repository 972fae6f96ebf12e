// Waiting in the interpreter workflow: the durable timers of sleep steps, and the events that
// answer wait steps, delivered by the `event` update (contract.ts). Sandbox code.
//
// The update handler is registered when the run starts, before any step runs, and it
// records nothing until a wait step is pending: its validator refuses (with no trace in the
// history) any event no wait step waits for now, so an event sent too early, twice, or to a
// run without wait steps changes nothing. Registering a handler adds no command, and only
// definitions with sleep or wait steps (which no earlier interpreter could run) add timers or
// accepted updates, so runs begun by earlier code replay unchanged: no patch is needed. A run
// still served by a worker of such code refuses the update itself ("no registered handler").
import { ApplicationFailure, condition, patched, setHandler, sleep, upsertMemo } from '@temporalio/workflow';
import { eventUpdate, NOT_WAITING, type CarriedTimer, type EventReceipt, type PalletEvent, type WaitingStep, type WaitOutput } from '../contract';
import { showDuration } from '../dsl/durations';
import { WAITING_MEMO } from './patches';
import type { SleepCall, StepEffects, WaitCall } from './steps/types';

interface Pending extends WaitingStep {
  answer?: PalletEvent;
}

/** The workflow's clock: Temporal's sandbox gives the time of the current workflow task, the same on every replay. */
// eslint-disable-next-line no-restricted-properties
export const workflowNow = (): number => Date.now();
/** A time as RFC 3339, as the state query and the memo show it. */
export const iso = (ms: number) => new Date(ms).toISOString();

export class Waits {
  /** Wait steps waiting now, in the order they started. */
  private readonly pending: Pending[] = [];
  /**
   * Sleeps and waits under way, by step id, with their deadlines: kept when the walk is cut by
   * continue-as-new (their promises are cancelled then), so the next generation keeps them.
   */
  private readonly underway = new Map<string, CarriedTimer>();

  /** Registers the `event` update handler: call once, when the run starts. `carried`: the deadlines an earlier generation left. */
  constructor(private readonly carried: Record<string, CarriedTimer> = {}) {
    setHandler(eventUpdate, (event) => this.deliver(event), {
      validator: (event) => this.check(event),
      description: 'An event for a wait step that is waiting now: {event: name or step id, outcome: approved | rejected, data?, by?}',
    });
  }

  /** The effects of sleep and wait steps, for the walker. */
  readonly effects: Required<Pick<StepEffects, 'sleep' | 'waitForEvent'>> = {
    sleep: async ({ step, ms, until }: SleepCall) => {
      const now = workflowNow();
      // Begun in an earlier generation: it ends when it was going to.
      const carried = this.carried[step.id];
      const end = carried?.until ? Date.parse(carried.until) : until;
      const wait = end !== undefined ? end - now : (ms ?? 0);
      this.underway.set(step.id, { since: carried?.since ?? iso(now), until: iso(now + Math.max(wait, 0)) });
      if (wait > 0) await sleep(wait, { summary: `${step.id}: sleep ${end !== undefined ? `until ${iso(end)}` : showDuration(wait)}` });
      this.underway.delete(step.id);
    },

    waitForEvent: async ({ step, event, timeoutMs, onWaiting }: WaitCall): Promise<WaitOutput> => {
      const now = workflowNow();
      // Begun in an earlier generation: its timeout runs from when it began.
      const carried = this.carried[step.id];
      const timeoutAt = carried ? (carried.until === null ? undefined : Date.parse(carried.until)) : timeoutMs === undefined ? undefined : now + timeoutMs;
      const entry: Pending = { step: step.id, event, since: carried?.since ?? iso(now), timeout_at: timeoutAt === undefined ? null : iso(timeoutAt) };
      this.pending.push(entry);
      this.underway.set(step.id, { since: entry.since, until: entry.timeout_at });
      this.publish();
      try {
        onWaiting({ since: entry.since, timeout_at: entry.timeout_at });
        const answered = () => entry.answer !== undefined;
        const left = timeoutAt === undefined ? undefined : timeoutAt - now;
        // A zero timeout is one millisecond: Temporal reads 0 as "no timer".
        if (left === undefined) await condition(answered);
        else await condition(answered, Math.max(left, 1), { summary: `${step.id}: wait for ${event}, at most ${showDuration(Math.max(left, 0))}` });
        this.underway.delete(step.id);
      } finally {
        this.pending.splice(this.pending.indexOf(entry), 1);
        this.publish();
      }
      // An event taken in the same workflow task as the timeout still counts: its sender was told so.
      const answer = entry.answer;
      if (!answer) return { outcome: 'timed_out', data: null };
      return { outcome: answer.outcome, data: answer.data ?? null, ...(answer.by !== undefined ? { by: answer.by } : {}) };
    },
  };

  /** Sleeps and waits under way now, by step id, with their deadlines: carried into the next generation. */
  deadlines(): Record<string, CarriedTimer> {
    return Object.fromEntries(this.underway);
  }

  /**
   * The pending waits in the run's memo (`waiting`), so that the history tells them to readers
   * without a worker (`pallet status`, the Web UI). Runs recorded before this replay without it.
   */
  private publish(): void {
    if (!patched(WAITING_MEMO)) return;
    upsertMemo({ waiting: this.pending.map(({ step, event, since, timeout_at }) => ({ step, event, since, timeout_at })) });
  }

  /** The waits an event answers: those waiting under its name, else the one of that step id. */
  private matching(name: string): Pending[] {
    const open = this.pending.filter((p) => p.answer === undefined);
    const byEvent = open.filter((p) => p.event === name);
    return byEvent.length > 0 ? byEvent : open.filter((p) => p.step === name);
  }

  /** The update's validator: refuses malformed events and events nothing waits for (nothing is recorded). */
  private check(event: PalletEvent): void {
    if (typeof event !== 'object' || event === null) throw ApplicationFailure.nonRetryable('an event is {event, outcome, data?, by?}', 'InvalidInput');
    if (typeof event.event !== 'string' || event.event === '')
      throw ApplicationFailure.nonRetryable('an event needs the name of the event or the id of the wait step', 'InvalidInput');
    if (event.outcome !== 'approved' && event.outcome !== 'rejected')
      throw ApplicationFailure.nonRetryable(`an event's outcome is "approved" or "rejected", not ${JSON.stringify(event.outcome)}`, 'InvalidInput');
    if (event.by !== undefined && typeof event.by !== 'string') throw ApplicationFailure.nonRetryable('an event\'s "by" must be a string', 'InvalidInput');
    if (this.matching(event.event).length > 0) return;
    const waiting = this.pending.filter((p) => p.answer === undefined).map(({ answer: _, ...w }) => w);
    const list = waiting.map((w) => (w.event === w.step ? `"${w.step}"` : `"${w.event}" (step ${w.step})`)).join(', ');
    throw ApplicationFailure.create({
      message: `the run is not waiting for "${event.event}": ${waiting.length > 0 ? `it is waiting for ${list}` : 'no wait step of it is waiting now'}`,
      type: NOT_WAITING,
      nonRetryable: true,
      details: [{ waiting }],
    });
  }

  /** The update's handler: answers every wait it matches (the validator made sure there is one). */
  private deliver(event: PalletEvent): EventReceipt {
    const matched = this.matching(event.event);
    for (const entry of matched) entry.answer = event;
    return { steps: matched.map((m) => m.step), outcome: event.outcome };
  }
}
