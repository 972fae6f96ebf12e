// Medians and spread, and the alternating order that keeps a ratio honest on a noisy machine:
// A, B, A, B, ... so that a slow minute hurts both sides alike.
import type { Stats } from './suite';

export function stats(samples: number[]): Stats {
  if (samples.length === 0) throw new Error('stats of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: samples.length, samples };
}

export function ratio(ours: Stats, reference: Stats): number {
  return ours.median / reference.median;
}

/** Runs `ours` and `reference` `times` times each, alternating, and returns both samples. */
export async function alternate(times: number, ours: () => Promise<number>, reference: () => Promise<number>): Promise<{ ours: Stats; reference: Stats }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < times; i++) {
    // Start with the other side every second round, so neither always runs on a warm cache.
    if (i % 2 === 0) {
      a.push(await ours());
      b.push(await reference());
    } else {
      b.push(await reference());
      a.push(await ours());
    }
  }
  return { ours: stats(a), reference: stats(b) };
}
