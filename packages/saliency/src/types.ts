// Plain data records shared by the mask fit and the baselines: the input item and the saliency
// map every method returns. No tensors cross this boundary.

/** One teacher-forced sample: prompt P, CoT C, answer delimiter, gold answer A (method.md §2.1). */
export interface SaliencyItem {
  /** Prompt token ids (at least one). */
  promptIds: readonly number[];
  /** CoT token ids as the model wrote them (may be empty). */
  cotIds: readonly number[];
  /** Delimiter ids between CoT and answer (may be empty). */
  delimiterIds: readonly number[];
  /** Gold answer ids (at least one); they replace the model's own answer. */
  goldAnswerIds: readonly number[];
}

/** Which method produced a {@link SaliencyMap}. */
export type SaliencyMethod = 'atmanrl' | 'atman' | 'occlusion' | 'gradient-x-input';

/** Per-CoT-token relevance of one item; larger = the gold answer relies more on the token. */
export interface SaliencyMap {
  method: SaliencyMethod;
  /** The item's CoT ids (same order as `relevance`). */
  cotIds: number[];
  /** One value per CoT token (units depend on the method; see its TSDoc). */
  relevance: number[];
  /**
   * Mean gold-answer cross-entropy (nats/token) of the unperturbed model (NaN from a mask fit
   * with `diagnostics: false`).
   */
  ceNoBias: number;
}

/** Result of the AtManRL mask fit for one item (a {@link SaliencyMap} with `method: 'atmanrl'`). */
export interface MaskFitResult extends SaliencyMap {
  method: 'atmanrl';
  /** Fitted θ, one per CoT token. */
  theta: number[];
  /** `H = mean_j min(θ_j, 0)` (c for an empty CoT). */
  h: number;
  /** Per-step objective of this item (mean gold CE under the mask), before each update. */
  losses: number[];
  /** Gold CE with the initial mask (every CoT key at `scale · c`, "full suppression"). */
  ceInitial: number;
  /** Gold CE with the fitted mask (NaN with `diagnostics: false`). */
  ceFinal: number;
  /** Number of AdamW steps taken for this item (fewer than `steps` after an early stop). */
  steps: number;
}

/** One CoT token ready for display. */
export interface DisplayToken {
  /** Token id. */
  id: number;
  /** The text this token adds (may be '' for the leading bytes of a multi-byte character). */
  text: string;
  relevance: number;
}

/** What the reward function reads of a completion (a grpo `CompletionView` qualifies). */
export interface RewardCompletion {
  text: string;
  /** Generated ids, EOS included when produced. */
  tokenIds: readonly number[];
}

/** What it reads of the call's context (a grpo `RewardContext` qualifies). */
export interface RewardCallContext {
  /** Prompt ids of each completion. */
  promptIds: readonly (readonly number[])[];
  /** Raw rewards of the functions that ran before, by name (for `gate`). */
  rewards?: Readonly<Record<string, readonly number[]>>;
}
