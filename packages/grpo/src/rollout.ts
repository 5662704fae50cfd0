// The rollout seam: sample G completions per prompt and record, per token, the log-prob under the
// sampling policy ("old" log-probs) and whether the completion was cut at the length limit.
// Default engine: in-process `CausalLM.generate`. A remote (OpenAI-compatible) engine is left out.
import type { CausalLM, GenerateOptions, Rng } from '@atmanrl/model';
import type { GrpoConfig } from './config.js';
import { GrpoError } from './errors.js';

/**
 * How completions are sampled: the sampling fields of {@link GrpoConfig} (TRL's names), as one
 * plain, serialisable record. It travels whole: from the config ({@link rolloutSampling}) into a
 * {@link RolloutRequest}, across a worker seam as job data, and into `generate` options
 * ({@link generateOptionsOf}); nobody copies its fields one by one.
 */
export interface RolloutSampling {
  /** Maximum new tokens per completion. */
  maxCompletionLength: number;
  /** Sampling temperature (> 0 for GRPO; 0 = greedy). */
  temperature: number;
  /** Nucleus threshold (1 = off). */
  topP?: number;
  /** Top-k (0 = off). */
  topK?: number;
  /** Stop strings (need a tokenizer). */
  stopStrings?: string[];
  /** End-of-sequence ids (default: the model's). */
  eosTokenIds?: number[];
}

/**
 * What to sample: the prompts, G, the random source and the {@link RolloutSampling} fields.
 * Prompts are token ids; completions come back grouped by prompt. An engine that forwards the
 * sampling takes it whole: `const { promptIds, numGenerations, rng, ...sampling } = request`.
 */
export interface RolloutRequest extends RolloutSampling {
  /** P prompts of token ids (each ≥ 1 token). */
  promptIds: readonly (readonly number[])[];
  /** G completions per prompt. */
  numGenerations: number;
  /** Random source; its state advances, so a run resumes exactly from a saved state. */
  rng: Rng;
}

/**
 * The sampling record of a resolved GRPO config, or of a {@link RolloutRequest} (an engine that
 * forwards the sampling, e.g. to worker jobs): a fresh record of the sampling fields only, optional
 * ones only when set.
 * @example
 * ```ts
 * import { resolveGrpoConfig, rolloutSampling } from '@atmanrl/grpo';
 * const sampling = rolloutSampling(resolveGrpoConfig({ temperature: 0.7, maxCompletionLength: 64 }));
 * // { maxCompletionLength: 64, temperature: 0.7, topP: 1, topK: 0 }
 * ```
 */
export function rolloutSampling(source: RolloutSampling): RolloutSampling {
  return {
    maxCompletionLength: source.maxCompletionLength,
    temperature: source.temperature,
    ...(source.topP !== undefined ? { topP: source.topP } : {}),
    ...(source.topK !== undefined ? { topK: source.topK } : {}),
    ...(source.stopStrings ? { stopStrings: [...source.stopStrings] } : {}),
    ...(source.eosTokenIds ? { eosTokenIds: [...source.eosTokenIds] } : {}),
  };
}

/**
 * `CausalLM.generate` options for a sampling record and a random source: `maxCompletionLength`
 * becomes `maxNewTokens`; `topP` 1 and `topK` 0 (off) are left out.
 * @example
 * ```ts
 * import { generateOptionsOf } from '@atmanrl/grpo';
 * import { createRng } from '@atmanrl/model';
 * const options = generateOptionsOf({ maxCompletionLength: 32, temperature: 1, topP: 1 }, createRng(0));
 * // { maxNewTokens: 32, temperature: 1, rng }
 * ```
 */
export function generateOptionsOf(sampling: RolloutSampling, rng: Rng): GenerateOptions {
  return {
    maxNewTokens: sampling.maxCompletionLength,
    temperature: sampling.temperature,
    rng,
    ...(sampling.topP !== undefined && sampling.topP < 1 ? { topP: sampling.topP } : {}),
    ...(sampling.topK ? { topK: sampling.topK } : {}),
    ...(sampling.stopStrings ? { stopStrings: sampling.stopStrings } : {}),
    ...(sampling.eosTokenIds ? { eosTokenIds: sampling.eosTokenIds } : {}),
  };
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
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { InProcessRolloutEngine } from '@atmanrl/grpo';
 * import { createRandomModel, createRng } from '@atmanrl/model';
 * await initBackend({ prefer: 'cpu' });
 * const policy = createRandomModel(
 *   { vocab_size: 16, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1, eos_token_id: 15 },
 *   0,
 * );
 * const engine = new InProcessRolloutEngine(policy, { generationBatchSize: 4 });
 * const rollouts = await engine.generate({
 *   promptIds: [[1, 2], [3]],
 *   numGenerations: 2,
 *   rng: createRng(0),
 *   maxCompletionLength: 5,
 *   temperature: 1,
 * });
 * console.log(rollouts.map((r) => r.promptIndex)); // [0, 0, 1, 1]; each with its old log-probs
 * policy.dispose();
 * ```
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
        generateOptionsOf(request, request.rng),
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
