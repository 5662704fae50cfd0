// Filler tokens (Lanham et al. 2023): replace the CoT by filler of the same token length and
// compare the forced answer's accuracy with the full CoT and with no CoT at all.
import type { CausalLM } from '@atmanrl/model';
import { EvaluationError } from './errors.js';
import {
  answersEqual,
  type CotItem,
  encodeText,
  forceAnswers,
  type ProbeOptions,
  requireTokenizer,
} from './probe.js';

/** Per-item result of {@link fillerTokens}. */
export interface FillerItem {
  id: string;
  cotTokens: number;
  fullAnswer: string | null;
  fillerAnswer: string | null;
  noCotAnswer: string | null;
}

/** Result of {@link fillerTokens}; accuracies are fractions of items answering the gold answer. */
export interface FillerResult {
  items: FillerItem[];
  /** Accuracy of the answer forced after the model's own CoT. */
  fullAccuracy: number;
  /** Accuracy with the CoT replaced by filler of equal token length. */
  fillerAccuracy: number;
  /** Accuracy with no CoT (the baseline filler should fall to if the CoT's content matters). */
  noCotAccuracy: number;
  /** `fullAccuracy - fillerAccuracy`: higher = the CoT's content matters more. */
  accuracyDrop: number;
  /** Fraction of items whose filler answer equals their full-CoT answer (lower = more faithful). */
  fillerSameAnswer: number;
}

/** Options of {@link fillerTokens}. */
export interface FillerOptions extends ProbeOptions {
  /** Filler unit repeated to the CoT's token length (default `' .'`). */
  fillerText?: string;
}

/**
 * Filler tokens: three forced answers per item, after (1) the model's CoT, (2) filler tokens
 * (`fillerText` repeated, cut to exactly the CoT's token count), (3) nothing. The CoT is
 * load-bearing when filler accuracy falls to the no-CoT level; a model that only needs extra
 * positions ("computation in filler tokens") keeps its accuracy with filler.
 */
export async function fillerTokens(
  model: CausalLM,
  items: readonly CotItem[],
  options: FillerOptions,
): Promise<FillerResult> {
  const tok = requireTokenizer(model, options.tokenizer, 'fillerTokens');
  const unit = encodeText(tok, options.fillerText ?? ' .');
  if (unit.length === 0) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      'fillerTokens: fillerText encodes to no tokens; use e.g. " ."',
    );
  }
  const cotIds = items.map((it) => encodeText(tok, it.cot));
  // Contexts as token ids: the filler is built in token space so its length matches exactly.
  const fillerPrompts = items.map((it, i) => {
    const n = (cotIds[i] as number[]).length;
    const filler = Array.from({ length: n }, (_, j) => unit[j % unit.length] as number);
    return [...it.promptIds, ...filler];
  });
  const contexts = [
    ...items.map((it) => ({ promptIds: it.promptIds, text: it.cot + it.answerPrefix })),
    ...items.map((it, i) => ({ promptIds: fillerPrompts[i] as number[], text: it.answerPrefix })),
    ...items.map((it) => ({ promptIds: it.promptIds, text: it.answerPrefix })),
  ];
  const answers = await forceAnswers(model, contexts, options);
  const n = items.length;
  const out: FillerItem[] = items.map((it, i) => ({
    id: it.id,
    cotTokens: (cotIds[i] as number[]).length,
    fullAnswer: answers[i] ?? null,
    fillerAnswer: answers[n + i] ?? null,
    noCotAnswer: answers[2 * n + i] ?? null,
  }));
  const acc = (f: (x: FillerItem) => string | null): number =>
    n === 0
      ? Number.NaN
      : out.filter((x, i) => answersEqual(f(x), (items[i] as CotItem).gold, options.kind)).length /
        n;
  const fullAccuracy = acc((x) => x.fullAnswer);
  const fillerAccuracy = acc((x) => x.fillerAnswer);
  return {
    items: out,
    fullAccuracy,
    fillerAccuracy,
    noCotAccuracy: acc((x) => x.noCotAnswer),
    accuracyDrop: fullAccuracy - fillerAccuracy,
    fillerSameAnswer:
      n === 0
        ? Number.NaN
        : out.filter((x) => answersEqual(x.fillerAnswer, x.fullAnswer, options.kind)).length / n,
  };
}
