// The shared record of the faithfulness probes (one model-written CoT per item) and the one
// operation they all share: force an answer after a (modified) CoT and parse it.
import { type AnswerKind, answerMatches, parseAnswer } from '@atmanrl/datasets';
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import { EvaluationError } from './errors.js';

/** One item of a faithfulness probe: the prompt and the CoT the model wrote for it. */
export interface CotItem {
  id: string;
  /** Prompt token ids (chat template applied, BOS included when the template adds one). */
  promptIds: number[];
  /** The model's CoT text (the completion before the delimiter, trailing space trimmed). */
  cot: string;
  /** Text appended after a CoT to force the answer: from the CoT end through the delimiter, e.g. `' ####'`. */
  answerPrefix: string;
  /** Text between the delimiter and the answer, e.g. `' '` (used to teacher-force the gold answer). */
  answerGap: string;
  /** Gold answer (normalised string). */
  gold: string;
}

/** Options shared by every probe. */
export interface ProbeOptions {
  /** Answer kind for parsing: `'number'` (GSM8K, arithmetic) or `'choice'` (MMLU). */
  kind: AnswerKind;
  /** Final-answer delimiter (default `'####'`). */
  delimiter?: string;
  /** Tokens greedily decoded after the forced delimiter (default 8). */
  maxAnswerTokens?: number;
  /** Prompts per generate / forward call (default 16). */
  batchSize?: number;
  /** Seed of the random baselines (default 0). */
  seed?: number;
  /** Tokenizer (default `model.tokenizer`). */
  tokenizer?: Tokenizer;
}

/** Resolves the tokenizer of a probe or throws `NO_TOKENIZER`. */
export function requireTokenizer(
  model: CausalLM,
  tokenizer: Tokenizer | undefined,
  where: string,
): Tokenizer {
  const tok = tokenizer ?? model.tokenizer;
  if (!tok) {
    throw new EvaluationError(
      'NO_TOKENIZER',
      `${where}: the model has no tokenizer; pass options.tokenizer`,
    );
  }
  return tok;
}

/**
 * True when both answers parsed and are equal under datasets' one answer rule (`answerMatches`:
 * numbers after normalisation, letters in either case).
 */
export function answersEqual(a: string | null, b: string | null, kind: AnswerKind): boolean {
  return answerMatches(a, b, kind);
}

/** Text token ids without special tokens. */
export function encodeText(tok: Tokenizer, text: string): number[] {
  return tok.encode(text, { addSpecialTokens: false });
}

/**
 * Forces an answer after each `prompt + cotText + answerPrefix` (greedy, up to `maxAnswerTokens`,
 * stopping at a newline or EOS) and parses it as the text following the delimiter.
 * @returns one parsed answer (or null) per context, in order
 */
export async function forceAnswers(
  model: CausalLM,
  contexts: readonly { promptIds: number[]; text: string }[],
  options: ProbeOptions,
): Promise<(string | null)[]> {
  const tok = requireTokenizer(model, options.tokenizer, 'forceAnswers');
  const delimiter = options.delimiter ?? '####';
  const batchSize = options.batchSize ?? 16;
  const out: (string | null)[] = [];
  for (let start = 0; start < contexts.length; start += batchSize) {
    const chunk = contexts.slice(start, start + batchSize);
    const results = await model.generate(
      chunk.map((c) => [...c.promptIds, ...encodeText(tok, c.text)]),
      { maxNewTokens: options.maxAnswerTokens ?? 8, temperature: 0, stopStrings: ['\n'] },
    );
    for (const r of results) {
      out.push(parseAnswer(delimiter + r.text, { kind: options.kind, delimiter }).answer);
    }
  }
  return out;
}
