// analyze_data: descriptive statistics of a list of numbers, for the data-analysis-v1
// workflow that smart-router's `data_analysis` branch runs. The numbers come from `data`
// (a list, or text) when given, else from the request text: after its last ':' if numbers
// follow one ("analyze this sales data: 3, 5, 8"), else anywhere in it. Numbers glued to
// letters (Q3, v1, 2nd) are not values; commas always separate values (no thousands
// separators), a trailing % is dropped.
import { SkillError } from '../types';

export type Trend = 'increasing' | 'decreasing' | 'flat' | 'mixed';

export interface DataAnalysis {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  /** Population standard deviation. */
  stdev: number;
  /** Direction of the values in the order given. */
  trend: Trend;
  values: number[];
  /** Where the values came from: "data" or "requirements". */
  source: 'data' | 'requirements';
  summary: string;
}

const NUMBER = /(?<![\p{L}\p{N}_.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?%?(?![\p{L}\p{N}_])/gu;

/** The numbers in a text, in order (see the rules above). */
export function numbersInText(text: string): number[] {
  const all = (s: string) => [...s.matchAll(NUMBER)].map((m) => Number(m[0].replace(/%$/, ''))).filter(Number.isFinite);
  const colon = text.lastIndexOf(':');
  if (colon >= 0) {
    const after = all(text.slice(colon + 1));
    if (after.length > 0) return after;
  }
  return all(text);
}

/** The values of `data`: a list of numbers or numeric strings, or a text. */
export function numbersInData(data: unknown): number[] {
  if (typeof data === 'string') return numbersInText(data);
  if (typeof data === 'number') return Number.isFinite(data) ? [data] : [];
  if (!Array.isArray(data)) throw new SkillError('data must be a list of numbers or a text with numbers in it');
  return data.map((v, i) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim().replace(/%$/, '')) : NaN;
    if (!Number.isFinite(n)) throw new SkillError(`data[${i}] is ${JSON.stringify(v)}, not a number`);
    return n;
  });
}

export function analyzeData(params: { requirements?: unknown; data?: unknown }): DataAnalysis {
  const hasData = params.data !== undefined && params.data !== null && !(Array.isArray(params.data) && params.data.length === 0) && params.data !== '';
  const text = typeof params.requirements === 'string' ? params.requirements : '';
  const values = hasData ? numbersInData(params.data) : numbersInText(text);
  if (values.length === 0) {
    throw new SkillError(
      hasData
        ? 'data has no numbers in it'
        : `no numbers found in the request${text.trim() ? ` "${clip(text)}"` : ''}: give them in the text (e.g. "analyze this sales data: 3, 5, 8") or as input "data"`,
    );
  }
  return statistics(values, hasData ? 'data' : 'requirements');
}

export function statistics(values: number[], source: DataAnalysis['source']): DataAnalysis {
  const count = values.length;
  const sum = round(values.reduce((a, b) => a + b, 0));
  const mean = round(sum / count);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(count / 2);
  const median = round(count % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
  const stdev = round(Math.sqrt(values.reduce((a, v) => a + (v - sum / count) ** 2, 0) / count));
  const trend = trendOf(values);
  const min = sorted[0];
  const max = sorted[count - 1];
  const summary =
    `${count} value${count === 1 ? '' : 's'}` +
    (count === 1
      ? `: ${fmt(min)}`
      : ` from ${fmt(min)} to ${fmt(max)}: mean ${fmt(mean)}, median ${fmt(median)}, sum ${fmt(sum)}, standard deviation ${fmt(stdev)}`) +
    (count > 1 ? `; ${trend === 'mixed' ? 'no steady trend' : trend === 'flat' ? 'all equal' : `steadily ${trend}`}` : '') +
    '.';
  return { count, sum, min, max, mean, median, stdev, trend, values, source, summary };
}

function trendOf(values: number[]): Trend {
  let up = false;
  let down = false;
  for (let i = 1; i < values.length; i++) {
    if (values[i] > values[i - 1]) up = true;
    if (values[i] < values[i - 1]) down = true;
  }
  if (up && down) return 'mixed';
  return up ? 'increasing' : down ? 'decreasing' : 'flat';
}

/** Rounded to 6 decimals, so 0.1 + 0.2 reads 0.3. */
function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 80)}...` : flat;
}
