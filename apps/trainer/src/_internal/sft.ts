// Supervised fine-tuning on reference CoT completions (used to make the default model): minimise
// the mean negative log-likelihood of completion tokens (prompt tokens are not trained on).
import { AdamW, clipByGlobalNorm, learningRateAt } from '@atmanrl/grpo';
import type { LlamaModel, Tokenizer } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';

/** One SFT example as token ids. */
export interface SftExample {
  promptIds: number[];
  completionIds: number[];
}

/** Builds an example: BOS + prompt text, completion text + EOS. */
export function sftExample(
  tokenizer: Tokenizer,
  promptText: string,
  completion: string,
): SftExample {
  const p = tokenizer.encode(promptText, { addSpecialTokens: false });
  const eos = tokenizer.eosTokenIds[0];
  return {
    promptIds: tokenizer.bosTokenId === undefined ? p : [tokenizer.bosTokenId, ...p],
    completionIds: [
      ...tokenizer.encode(completion, { addSpecialTokens: false }),
      ...(eos === undefined ? [] : [eos]),
    ],
  };
}

/** SFT options. */
export interface SftOptions {
  learningRate: number;
  totalSteps: number;
  warmupSteps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
}

/** An SFT trainer over a model's trainable variables (owns its optimizer; dispose it). */
export class SftTrainer {
  private readonly optimizer: AdamW;

  constructor(
    private readonly model: LlamaModel,
    private readonly options: SftOptions,
  ) {
    this.optimizer = new AdamW(model.trainableVariables, {
      weightDecay: options.weightDecay ?? 0.01,
      beta2: 0.99,
    });
  }

  /** Optimiser steps taken. */
  get step(): number {
    return this.optimizer.step;
  }

  /** One update on `batch`; returns the mean token NLL (read asynchronously) and the grad norm. */
  async trainStep(
    batch: readonly SftExample[],
  ): Promise<{ loss: number; gradNorm: number; lr: number }> {
    const vars = this.model.trainableVariables;
    const { value, grads } = tf.variableGrads(() => {
      const { logProbs, mask } = this.model.sequenceLogProbs(
        batch.map((b) => b.promptIds),
        batch.map((b) => b.completionIds),
      );
      return tf.div(
        tf.neg(tf.sum(tf.mul(logProbs, mask))),
        tf.maximum(tf.sum(mask), 1),
      ) as tf.Scalar;
    }, vars);
    const lr = learningRateAt(this.optimizer.step, {
      lrSchedulerType: 'linear',
      learningRate: this.options.learningRate,
      warmupSteps: this.options.warmupSteps ?? Math.ceil(this.options.totalSteps * 0.05),
      maxSteps: this.options.totalSteps,
    });
    const list = vars.map((v) => grads[v.name]!);
    const clipped = clipByGlobalNorm(list, this.options.maxGradNorm ?? 1);
    try {
      this.optimizer.applyGradients(clipped.grads, lr);
      const [loss, norm] = await Promise.all([value.data(), clipped.norm.data()]);
      return { loss: loss[0]!, gradNorm: norm[0]!, lr };
    } finally {
      tf.dispose([value, clipped.norm, ...clipped.grads, ...Object.values(grads)]);
    }
  }

  /** Frees the optimizer state. */
  dispose(): void {
    this.optimizer.dispose();
  }
}
