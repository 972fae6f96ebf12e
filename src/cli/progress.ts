// How far along a run is, from its `state` query (contract.ts RunState), as people following
// long work expect it: a count per loop (for_each, repeat) or wide parallel step instead of
// the id of every finished iteration. In a terminal, one block redrawn in place (cli-progress);
// elsewhere (CI logs, pipes), plain lines, one per update and per step whose counts changed.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RunState } from '../contract';

/** A parallel step with at least this many branches gets a bar of its own. */
export const WIDE_PARALLEL = 5;
/** Step ids a line names at most before "+N more". */
const SHOWN_IDS = 3;
/** Bars the live block shows at most (running ones first). */
const MAX_BARS = 6;

/** One loop or wide parallel step: how many of its iterations (or branches) are done, running, failed. */
export interface GroupProgress {
  /** The step id (inside a loop: qualified, `outer[2].inner`). */
  id: string;
  kind: 'for_each' | 'repeat' | 'parallel';
  /** What is counted: iterations (loops) or branches (parallel). */
  unit: 'iterations' | 'branches';
  /** for_each: its items; parallel: its branches; repeat: the iterations so far. */
  total: number;
  done: number;
  running: number;
  /** Iterations or branches with a failed step (one that on_error or continue_on_error recovered). */
  failed: number;
  /** The whole step finished. */
  finished: boolean;
}

/** The run's progress: its groups, the steps outside them, the steps running now. */
export interface RunProgress {
  groups: GroupProgress[];
  /** Finished agent and workflow steps that belong to no group. */
  finishedOther: string[];
  /** Agent and workflow calls under way (the innermost ids: no containers). */
  runningNow: string[];
}

/** The prefix of the ids of a container's body steps: `loop[3].` for a loop's iteration 3, the container's own prefix for a parallel step. */
function bodyPrefix(containerId: string): string {
  const cut = containerId.lastIndexOf('].');
  return cut < 0 ? '' : containerId.slice(0, cut + 2);
}

/** The run's progress, derived from its state: loops counted by iteration, wide parallel steps by branch. */
export function runProgress(state: RunState): RunProgress {
  // Sleeps have no outputs: they are `passed`, not `finished`, but they are done all the same.
  const finished = new Set([...state.finished, ...(state.passed ?? [])]);
  const failedIds = Object.keys(state.recovered ?? {});
  const claimed = new Set<string>();
  const groups: GroupProgress[] = [];
  const within = (prefix: string) => (id: string) => id.startsWith(prefix);
  for (const [id, c] of Object.entries(state.containers)) {
    if (c.step_type === 'for_each' || c.step_type === 'repeat') {
      const total = c.step_type === 'for_each' ? (c.items ?? 0) : (c.iterations ?? 0);
      const whole = finished.has(id);
      let done = 0;
      let running = 0;
      let failed = 0;
      for (let i = 0; i < total; i++) {
        const prefix = `${id}[${i}].`;
        const inIteration = within(prefix);
        const allDone = c.steps.length > 0 && c.steps.every((s) => finished.has(prefix + s));
        if (whole || allDone) done++;
        else if (state.running.some(inIteration)) running++;
        if (failedIds.some(inIteration)) failed++;
      }
      for (const f of finished) if (f.startsWith(`${id}[`)) claimed.add(f);
      groups.push({ id, kind: c.step_type, unit: 'iterations', total, done, running, failed, finished: whole });
    } else if (c.step_type === 'parallel' && c.steps.length >= WIDE_PARALLEL) {
      const prefix = bodyPrefix(id);
      const branches = c.steps.map((s) => prefix + s);
      const done = branches.filter((b) => finished.has(b)).length;
      const running = branches.filter((b) => !finished.has(b) && state.running.some((r) => r === b || r.startsWith(`${b}[`) || r.startsWith(`${b}.`))).length;
      const failed = branches.filter((b) => failedIds.some((f) => f === b || f.startsWith(`${b}[`))).length;
      for (const b of branches) if (finished.has(b)) claimed.add(b);
      groups.push({ id, kind: 'parallel', unit: 'branches', total: branches.length, done, running, failed, finished: finished.has(id) });
    }
  }
  const containerIds = new Set(Object.keys(state.containers));
  return {
    groups,
    finishedOther: state.finished.filter((id) => !claimed.has(id) && !containerIds.has(id)),
    runningNow: state.running.filter((id) => !containerIds.has(id)),
  };
}

/** Ids for one line: a few, then "+N more". */
export function someIds(ids: string[], shown = SHOWN_IDS): string {
  if (ids.length === 0) return '-';
  return ids.length <= shown ? ids.join(', ') : `${ids.slice(0, shown).join(', ')} +${ids.length - shown} more`;
}

/** Seconds as people read them: 42 s, 3 min 5 s, 1 h 20 min. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** What is left of a group at the rate so far; undefined before the first is done or after the last. */
export function estimateMs(group: GroupProgress, elapsedMs: number): number | undefined {
  if (group.done === 0 || group.done >= group.total || group.kind === 'repeat') return undefined;
  return (elapsedMs / group.done) * (group.total - group.done);
}

/** One group as a line: `review_all: 57/200 done, 3 running, 1 failed (12 s, about 30 s left)`. */
export function groupLine(group: GroupProgress, elapsedMs?: number): string {
  const counts =
    group.kind === 'repeat'
      ? `${group.done} of ${group.total} iterations so far done`
      : `${group.done}/${group.total} ${group.unit === 'branches' ? 'branches ' : ''}done`;
  const parts = [counts, `${group.running} running`];
  if (group.failed) parts.push(`${group.failed} failed`);
  let timing = '';
  if (elapsedMs !== undefined) {
    const left = estimateMs(group, elapsedMs);
    timing = ` (${duration(elapsedMs)}${group.finished ? '' : left !== undefined ? `, about ${duration(left)} left` : ''})`;
  }
  return `${group.id}: ${parts.join(', ')}${group.finished ? ', finished' : ''}${timing}`;
}

/** The line for the steps outside groups: how many are done, the latest, and the ones running now. */
export function otherLine(progress: RunProgress, runningFor: (id: string) => number | undefined = () => undefined): string {
  const done = progress.finishedOther;
  const running = progress.runningNow.map((id) => {
    const ms = runningFor(id);
    return ms !== undefined && ms >= 5_000 ? `${id} (${duration(ms)})` : id;
  });
  const latest = done.length ? ` (latest: ${done[done.length - 1]})` : '';
  return `${done.length} step${done.length === 1 ? '' : 's'} done${latest}; running: ${someIds(running)}`;
}

/** Where progress goes: a live block in a terminal, plain lines elsewhere. */
export interface ProgressDisplay {
  update(state: RunState): void;
  /** Ends the display (the live block stays on screen as last drawn); the last state seen, if any. */
  stop(): RunState | undefined;
}

/** Plain, append-only progress lines: per update, one line per group whose counts changed and one for the other steps if they changed. */
export function lineDisplay(write: (line: string) => void, now: () => number = Date.now): ProgressDisplay {
  const firstSeen = new Map<string, number>();
  const lastLine = new Map<string, string>();
  let last: RunState | undefined;
  const since = (id: string) => {
    const t = now();
    if (!firstSeen.has(id)) firstSeen.set(id, t);
    return t - firstSeen.get(id)!;
  };
  return {
    update(state) {
      last = state;
      const progress = runProgress(state);
      for (const group of progress.groups) {
        const elapsed = since(`group:${group.id}`);
        // Compared without the timing, so that only a change of counts makes a new line.
        const key = groupLine(group);
        if (lastLine.get(group.id) === key) continue;
        lastLine.set(group.id, key);
        write(groupLine(group, elapsed));
      }
      for (const id of progress.runningNow) since(id);
      const running = progress.runningNow.filter((id) => !progress.groups.some((g) => id.startsWith(`${g.id}[`) || id.startsWith(g.id + '.')));
      const other = { ...progress, runningNow: running };
      if (!other.finishedOther.length && !running.length) return;
      const key = otherLine(other);
      const long = running.some((id) => since(id) >= 5_000);
      // Repeated while a long step runs (waitForResult calls again every 15 s), so the log shows it is alive.
      if (lastLine.get('') === key && !long) return;
      if (lastLine.get('') === key && progress.groups.some((g) => !g.finished)) return;
      lastLine.set('', key);
      write(otherLine(other, (id) => since(id)));
    },
    stop: () => last,
  };
}

/** The live block of a terminal: a bar per group (running ones first), then the steps running now. */
export function barDisplay(stream: NodeJS.WriteStream, now: () => number = Date.now): ProgressDisplay {
  const multibar = new MultiBar(
    {
      stream,
      format: '{name} {bar} {value}/{total} {unit} done, {running} running, {failed} failed | {elapsed}{left}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  const firstSeen = new Map<string, number>();
  let runningBar: SingleBar | undefined;
  let last: RunState | undefined;
  return {
    update(state) {
      last = state;
      const progress = runProgress(state);
      const shown = [...progress.groups].sort((a, b) => Number(b.running > 0) - Number(a.running > 0)).slice(0, MAX_BARS);
      for (const group of shown) {
        if (!firstSeen.has(group.id)) firstSeen.set(group.id, now());
        const elapsed = now() - firstSeen.get(group.id)!;
        const left = estimateMs(group, elapsed);
        const payload = {
          name: group.id,
          unit: group.unit,
          running: group.running,
          failed: group.failed,
          elapsed: `${duration(elapsed)} elapsed`,
          left: group.finished ? ', finished' : left !== undefined ? `, about ${duration(left)} left` : '',
        };
        const bar = bars.get(group.id);
        if (bar) {
          bar.setTotal(Math.max(group.total, 1));
          bar.update(group.done, payload);
        } else bars.set(group.id, multibar.create(Math.max(group.total, 1), group.done, payload));
      }
      const text = `running now: ${someIds(progress.runningNow)}; ${progress.finishedOther.length} other step${progress.finishedOther.length === 1 ? '' : 's'} done`;
      if (runningBar) runningBar.update(0, { text });
      else runningBar = multibar.create(1, 0, { text }, { format: '{text}' });
    },
    stop() {
      multibar.stop();
      return last;
    },
  };
}

/** The display for a run being followed: the live block when `stream` is a terminal, else lines through `write`. */
export function progressDisplay(stream: NodeJS.WriteStream, write: (line: string) => void): ProgressDisplay {
  return stream.isTTY ? barDisplay(stream) : lineDisplay(write);
}

/**
 * The summary's count of what ran: the run's recorded steps (`step_outputs`), and each top-level
 * loop's iterations or wide step's branches, from the last state seen. A for_each or parallel
 * step in the result ran all of its items or branches; a repeat is counted when it was seen finished.
 */
export function stepCount(recorded: string[], last: RunState | undefined): string {
  const steps = `${recorded.length} step${recorded.length === 1 ? '' : 's'}`;
  const counted = (last ? runProgress(last).groups : [])
    .filter((g) => !/\[\d+\]/.test(g.id))
    .flatMap((g) => {
      if (g.finished) return [`${g.id}: ${g.total} ${g.unit}`];
      if (g.kind !== 'repeat' && recorded.includes(g.id)) return [`${g.id}: ${g.total} ${g.unit}`];
      return [];
    });
  return counted.length ? `${steps} (${counted.join(', ')})` : steps;
}
