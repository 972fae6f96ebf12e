// Two skills that show what A2A adds to a call (examples/agents/a2a.ts): compile_report is a long
// task that reports its progress, summarize_text asks the caller a question when its params do not
// say which language to write in. Both are deterministic; over Pallet's protocol compile_report
// simply takes its time and summarize_text needs `language` up front.
import { InputNeeded, SkillError, type SkillContext } from '../types';

export const LANGUAGE_QUESTION = 'Which language should the summary be in?';

/** The word "Summary" in the languages summarize_text knows; others get the English word. */
const SUMMARY_WORD: Record<string, string> = {
  english: 'Summary',
  french: 'Résumé',
  german: 'Zusammenfassung',
  spanish: 'Resumen',
  italian: 'Riassunto',
  portuguese: 'Resumo',
  dutch: 'Samenvatting',
};

const sentencesOf = (text: string) =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
const wordsOf = (text: string) => text.match(/[\p{L}\p{N}']+/gu) ?? [];

export interface Report {
  title: string;
  sections: { heading: string; text: string }[];
  key_terms: string[];
  sentences: number;
  words: number;
}

/**
 * A report on `text` in three sections, built one section per step over `seconds` (default 3,
 * at most 60) so the caller sees a long task at work. Stops when `ctx.signal` aborts.
 */
export async function compileReport(text: string, title: string | undefined, seconds: number | undefined, ctx: SkillContext): Promise<Report> {
  if (!text.trim()) throw new SkillError('text is empty: give the text to report on');
  const sentences = sentencesOf(text);
  const terms = keyTerms(text);
  const sections = [
    { heading: 'Overview', text: sentences[0] ?? '' },
    { heading: 'Details', text: sentences.slice(1).join(' ') || 'No further details.' },
    { heading: 'Key terms', text: terms.join(', ') || 'None.' },
  ];
  const stepMs = (Math.min(Math.max(seconds ?? 3, 0), 60) * 1000) / sections.length;
  for (const [i, section] of sections.entries()) {
    ctx.progress?.(`writing section ${i + 1} of ${sections.length}: ${section.heading}`);
    await pause(stepMs, ctx.signal);
  }
  return {
    title: title?.trim() || sentences[0]?.slice(0, 80) || 'Report',
    sections,
    key_terms: terms,
    sentences: sentences.length,
    words: wordsOf(text).length,
  };
}

/** The first sentences of `text`, at most 240 characters, headed by "Summary" in the language asked for. */
export function summarizeText(text: string, language: string | undefined, answer: string | undefined): { summary: string; language: string } {
  if (!text.trim()) throw new SkillError('text is empty: give the text to summarize');
  const chosen = (language ?? answer)?.trim();
  if (!chosen) throw new InputNeeded(LANGUAGE_QUESTION, 'give "language" in the inputs: Pallet\'s protocol cannot ask');
  const word = SUMMARY_WORD[chosen.toLowerCase()] ?? SUMMARY_WORD.english;
  let summary = '';
  for (const sentence of sentencesOf(text)) {
    if (summary && summary.length + sentence.length + 1 > 240) break;
    summary = summary ? `${summary} ${sentence}` : sentence;
  }
  return { summary: `${word}: ${summary.slice(0, 240)}`, language: chosen };
}

/** The five most frequent words of five letters or more, most frequent first (ties alphabetical). */
function keyTerms(text: string): string[] {
  const counts = new Map<string, number>();
  for (const w of wordsOf(text.toLowerCase())) if (w.length >= 5) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([w]) => w);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
