// The rollout seam: sample G completions per prompt and record, per token, the log-prob under the
// sampling policy ("old" log-probs) and whether the completion was cut at the length limit.
// Default engine: in-process `CausalLM.generate`. A remote (OpenAI-compatible) engine is left out.
import type { CausalLM, Rng } from '@atmanrl/model';
import { GrpoError } from './errors.js';

/** What to sample. Prompts are token ids; completions come back grouped by prompt. */
export interface RolloutRequest {
  /** P prompts of token ids (each ≥ 1 token). */
  promptIds: readonly (readonly number[])[];
  /** G completions per prompt. */
  numGenerations: number;
  /** Maximum new tokens per completion. */
  maxCompletionLength: number;
  /** Sampling temperature (> 0 for GRPO; 0 = greedy). */
  temperature: number;
  /** Nucleus threshold (1 = off). */
  topP?: number;
  /** Top-k (0 = off). */
  topK?: number;
  /** Random source; its state advances, so a run resumes exactly from a saved state. */
  rng: Rng;
  /** Stop strings (need a tokenizer). */
  stopStrings?: string[];
  /** End-of-sequence ids (default: the model's). */
  eosTokenIds?: number[];
}

/** One sampled completion. */
export interface Rollout {
  /** Index of its prompt in the request. */
  promptIndex: number;
  /** The prompt's ids. */
  promptIds: number[];
  /** Generated ids, EOS included when produced. */
  completionIds: number[];
  /** Decoded completion ('' without a tokenizer). */
  text: string;
  /**
   * `[Tc]` per-token log-prob under the sampling policy at `temperature` (before top-k/top-p), or
   * null when the engine cannot report them (then the learner recomputes them before updating).
   */
  oldLogProbs: number[] | null;
  /** True when the length limit was hit without EOS or a stop string. */
  truncated: boolean;
}

/** Produces rollouts; element `p*G + g` is completion g of prompt p. */
export interface RolloutEngine {
  generate(request: RolloutRequest): Promise<Rollout[]>;
}

/** Options of {@link InProcessRolloutEngine}. */
export interface InProcessRolloutOptions {
  /** Rows per `generate` call (default: all P·G at once). Smaller saves memory. */
  generationBatchSize?: number;
}

/**
 * The default engine: `policy.generate` in this process on the prompts repeated G times
 * (TRL's RepeatSampler layout), in chunks of `generationBatchSize` rows.
 */
export class InProcessRolloutEngine implements RolloutEngine {
  constructor(
    private readonly policy: CausalLM,
    private readonly options: InProcessRolloutOptions = {},
  ) {
    const bs = options.generationBatchSize;
    if (bs !== undefined && !(Number.isInteger(bs) && bs >= 1)) {
      throw new GrpoError(
        'BAD_ARGUMENT',
        `generationBatchSize = ${bs}; expected a positive integer`,
      );
    }
  }

  async generate(request: RolloutRequest): Promise<Rollout[]> {
    const g = request.numGenerations;
    if (!Number.isInteger(g) || g < 1)
      throw new GrpoError('BAD_ARGUMENT', `numGenerations = ${g}; expected a positive integer`);
    if (request.promptIds.length === 0) throw new GrpoError('BAD_ARGUMENT', 'no prompts given');
    const rows = request.promptIds.flatMap((p, i) =>
      Array.from({ length: g }, () => ({ i, ids: [...p] })),
    );
    const chunk = this.options.generationBatchSize ?? rows.length;
    const out: Rollout[] = [];
    for (let start = 0; start < rows.length; start += chunk) {
      const part = rows.slice(start, start + chunk);
      const results = await this.policy.generate(
        part.map((r) => r.ids),
        {
          maxNewTokens: request.maxCompletionLength,
          temperature: request.temperature,
          rng: request.rng,
          ...(request.topP !== undefined && request.topP < 1 ? { topP: request.topP } : {}),
          ...(request.topK ? { topK: request.topK } : {}),
          ...(request.stopStrings ? { stopStrings: request.stopStrings } : {}),
          ...(request.eosTokenIds ? { eosTokenIds: request.eosTokenIds } : {}),
        },
      );
      results.forEach((res, k) => {
        const row = part[k]!;
        out.push({
          promptIndex: row.i,
          promptIds: row.ids,
          completionIds: res.tokenIds.slice(),
          text: res.text,
          oldLogProbs: res.logProbs.length === res.tokenIds.length ? res.logProbs.slice() : null,
          truncated: res.truncated,
        });
      });
    }
    return out;
  }
}
