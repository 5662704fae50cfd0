// Answer extraction from completions: the strict delimiter form first, then documented fallbacks.
// Leaves out task-specific scoring (that is eval's job): it only turns text into a normalised answer.

import { findNumbers, normalizeNumber } from './numbers.js';
import type { CharRange, CompletionSplit } from './types.js';

/** Which kind of answer to parse: a number (GSM8K, arithmetic) or a letter A-D (MMLU). */
export type AnswerKind = 'number' | 'choice';

/** Options shared by the parsers. */
export interface ParseOptions {
  /** What kind of answer follows the delimiter. */
  kind: AnswerKind;
  /** The delimiter that introduces the final answer (default `'####'`). */
  delimiter?: string;
}

/** Default final-answer delimiter, as in the GSM8K reference solutions. */
export const DEFAULT_DELIMITER = '####';

/** Extracts a normalised number from a delimiter span: "3*6 = 18" -> the number after the last "=". */
export function parseNumberSpan(span: string): string | null {
  const eq = span.lastIndexOf('=');
  const tail = eq >= 0 ? span.slice(eq + 1) : span;
  const first = findNumbers(tail)[0] ?? (eq >= 0 ? findNumbers(span)[0] : undefined);
  return first === undefined ? null : normalizeNumber(first.raw);
}

/** Extracts a letter A-D from a delimiter span: `B`, `(B)`, `B)`, `b.`, `The answer is B`, `**C**`. */
export function parseChoiceSpan(span: string): string | null {
  const s = span.replace(/[*_`]/g, '').trim();
  // A letter that opens the span: "B", "(B)", "B)", "B. Paris", "b".
  const lead = /^[([]?([A-Da-d])(?:$|[)\].:,\s])/.exec(s);
  if (lead) return (lead[1] as string).toUpperCase();
  const phrase =
    /(?:answer|option|choice)\s*(?:is|:)?\s*:?\s*[([]?(?:([A-D])\b|([a-d])(?=[)\].]|\s*$))/i.exec(
      s,
    );
  if (phrase) return ((phrase[1] ?? phrase[2]) as string).toUpperCase();
  // Any standalone capital A-D ("I pick C").
  const lone = /(?:^|[^A-Za-z])([A-D])(?![A-Za-z])/.exec(s);
  return lone ? (lone[1] as string) : null;
}

/** Fallback when no delimiter was written: `\boxed{..}`, "answer is ..", then the last number. */
function fallbackNumber(text: string): string | null {
  const boxed = [...text.matchAll(/\\boxed\{([^}]*)\}/g)].pop();
  if (boxed) {
    const v = parseNumberSpan(boxed[1] as string);
    if (v !== null) return v;
  }
  const phrase = [...text.matchAll(/answer\s*(?:is|:|=)\s*:?([^\n]*)/gi)].pop();
  if (phrase) {
    const first = findNumbers(phrase[1] as string)[0];
    if (first) return normalizeNumber(first.raw);
  }
  const last = findNumbers(text).pop();
  return last ? normalizeNumber(last.raw) : null;
}

/** Fallback for letters: the last "answer is (X)" phrase, else a last line that is only a letter. */
function fallbackChoice(text: string): string | null {
  const clean = text.replace(/[*_`]/g, '');
  const phrase = [
    ...clean.matchAll(/answer\s*(?:is|:)\s*:?\s*[([]?(?:([A-D])\b|([a-d])(?=[)\].]|\s*$))/gim),
  ].pop();
  if (phrase) return ((phrase[1] ?? phrase[2]) as string).toUpperCase();
  const lines = clean.trim().split('\n');
  const lastLine = (lines[lines.length - 1] ?? '').trim();
  const only = /^[([]?([A-Da-d])[)\].]?$/.exec(lastLine);
  return only ? (only[1] as string).toUpperCase() : null;
}

/**
 * Splits a completion into its CoT span and its answer span and parses the answer.
 *
 * - CoT: `[0, delimiter)` with trailing whitespace trimmed off the range.
 * - Answer: the rest of the delimiter's line (trimmed); when that is empty, the next non-empty
 *   line. Text after the answer line belongs to neither span.
 * - The first delimiter occurrence counts. Without one, `truncated` is true, `answerRange` is
 *   null, the whole text is CoT, and `parsedAnswer` comes from a fallback (`isStrict: false`).
 */
export function splitCompletion(text: string, options: ParseOptions): CompletionSplit {
  const delimiter = options.delimiter ?? DEFAULT_DELIMITER;
  const parseSpan = options.kind === 'number' ? parseNumberSpan : parseChoiceSpan;
  const at = delimiter === '' ? -1 : text.indexOf(delimiter);
  if (at < 0) {
    const fallback = options.kind === 'number' ? fallbackNumber(text) : fallbackChoice(text);
    return {
      cotRange: [0, trimEnd(text, 0, text.length)],
      answerRange: null,
      parsedAnswer: fallback,
      isStrict: false,
      truncated: true,
    };
  }
  const cotRange: CharRange = [0, trimEnd(text, 0, at)];
  let start = at + delimiter.length;
  let lineEnd = text.indexOf('\n', start);
  if (lineEnd < 0) lineEnd = text.length;
  if (text.slice(start, lineEnd).trim() === '' && lineEnd < text.length) {
    // "####\n18": the answer sits on the next non-empty line.
    const rest = /\S/.exec(text.slice(lineEnd));
    if (rest) {
      start = lineEnd + rest.index;
      lineEnd = text.indexOf('\n', start);
      if (lineEnd < 0) lineEnd = text.length;
    }
  }
  while (start < lineEnd && /\s/.test(text[start] as string)) start++;
  const end = trimEnd(text, start, lineEnd);
  const answerRange: CharRange = [start, end];
  return {
    cotRange,
    answerRange,
    parsedAnswer: parseSpan(text.slice(start, end)),
    isStrict: true,
    truncated: false,
  };
}

/** Parsed answer only: `{ answer, isStrict }` (see {@link splitCompletion} for the rules). */
export function parseAnswer(
  text: string,
  options: ParseOptions,
): { answer: string | null; isStrict: boolean } {
  const split = splitCompletion(text, options);
  return { answer: split.parsedAnswer, isStrict: split.isStrict };
}

function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && /\s/.test(text[e - 1] as string)) e--;
  return e;
}
