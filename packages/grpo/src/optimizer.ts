// AdamW over a model's variables (the update itself is @atmanrl/model's `adamWStep`, the one AdamW
// of the project: torch.optim.AdamW), global-norm gradient clipping, gradient accumulation, and a
// state that serialises to plain Float32Arrays for exact resume. Leaves out the schedule (schedule.ts).
import { adamWStep } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { GrpoError } from './errors.js';

/**
 * Options of {@link AdamW}, torch.optim.AdamW names. Defaults are Transformers' TrainingArguments
 * defaults (`adam_beta1`, `adam_beta2`, `adam_epsilon`, `weight_decay`).
 */
export interface AdamWOptions {
  /** (β1, β2) (default (0.9, 0.999)). */
  betas?: readonly [number, number];
  /** ε added to sqrt(v̂) (default 1e-8). */
  eps?: number;
  /** @deprecated use `betas: [beta1, beta2]` (torch.optim.AdamW); `betas` wins when both are given. */
  beta1?: number;
  /** @deprecated use `betas: [beta1, beta2]` (torch.optim.AdamW); `betas` wins when both are given. */
  beta2?: number;
  /** @deprecated use `eps` (torch.optim.AdamW); `eps` wins when both are given. */
  epsilon?: number;
  /** Decoupled weight decay λ (default 0): `p -= lr·λ·p` before the Adam step. */
  weightDecay?: number;
  /**
   * Which variables decay (default: rank ≥ 2, i.e. weight matrices and embeddings, not norm gains
   * or biases — the rule Transformers' Trainer applies by name).
   */
  decay?: (variable: tf.Variable, index: number) => boolean;
}

/**
 * AdamW over a fixed list of variables (each updated by `adamWStep` of @atmanrl/model). Owns its
 * moment tensors; call `dispose()`. Update for step t (1-based), gradient g:
 * `p ← p − lr·λ·p;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 *  p ← p − lr · (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε)`.
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { AdamW } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const w = tf.variable(tf.tensor2d([[1, 2]]));
 * const optimizer = new AdamW([w], { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 });
 * optimizer.applyGradients([tf.tensor2d([[0.5, -0.5]])], 0.1);
 * console.log(await w.data()); // ≈ [0.89, 2.08]: decay 1 − 0.01, then a step of lr against the gradient's sign
 * const state = await optimizer.getState(); // { step, exp_avg.0, exp_avg_sq.0 }: save, then loadState to resume
 * optimizer.dispose();
 * ```
 */
export class AdamW {
  /** Updates applied so far (t after the last update). */
  step = 0;
  readonly variables: readonly tf.Variable[];
  private readonly betas: readonly [number, number];
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decays: boolean[];
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  private isDisposed = false;

  /** @param variables the parameters to update (order defines the state keys) */
  constructor(variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    if (variables.length === 0)
      throw new GrpoError('BAD_ARGUMENT', 'AdamW needs at least one variable');
    this.variables = variables.slice();
    this.betas = options.betas ?? [options.beta1 ?? 0.9, options.beta2 ?? 0.999];
    this.eps = options.eps ?? options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    const decay = options.decay ?? ((v: tf.Variable) => v.rank >= 2);
    this.decays = this.variables.map((v, i) => decay(v, i));
    this.m = this.variables.map((v) => tf.keep(tf.zerosLike(v)));
    this.v = this.variables.map((v) => tf.keep(tf.zerosLike(v)));
  }

  /**
   * Apply one update with `grads[i]` (same shape as `variables[i]`) at learning rate `lr`.
   * Does not dispose `grads`.
   * @throws GrpoError `SHAPE_MISMATCH` when a gradient does not match its variable
   */
  applyGradients(grads: readonly tf.Tensor[], lr: number): void {
    this.checkLive();
    if (grads.length !== this.variables.length) {
      throw new GrpoError(
        'SHAPE_MISMATCH',
        `AdamW got ${grads.length} gradients for ${this.variables.length} variables`,
      );
    }
    const t = this.step + 1;
    this.variables.forEach((p, i) => {
      const g = grads[i]!;
      if (!tf.util.arraysEqual(g.shape, p.shape)) {
        throw new GrpoError(
          'SHAPE_MISMATCH',
          `gradient ${i} has shape [${g.shape}], variable '${p.name}' has [${p.shape}]`,
        );
      }
      const config = {
        lr,
        betas: this.betas,
        eps: this.eps,
        weightDecay: this.decays[i] ? this.weightDecay : 0,
      };
      const [m, v] = tf.tidy(() => {
        const r = adamWStep(p, g, { m: this.m[i]!, v: this.v[i]!, step: this.step }, config);
        p.assign(r.param);
        return [r.state.m, r.state.v];
      });
      this.m[i]!.dispose();
      this.v[i]!.dispose();
      this.m[i] = tf.keep(m!);
      this.v[i] = tf.keep(v!);
    });
    this.step = t;
  }

  /**
   * The state as plain arrays (read asynchronously): `step` (length 1) and per variable i
   * `exp_avg.<i>` / `exp_avg_sq.<i>` (torch's names), flattened. Save it e.g. as
   * optimizer.safetensors; {@link loadState} restores it exactly.
   */
  async getState(): Promise<Record<string, Float32Array>> {
    this.checkLive();
    const out: Record<string, Float32Array> = { step: Float32Array.of(this.step) };
    for (let i = 0; i < this.variables.length; i++) {
      out[`exp_avg.${i}`] = new Float32Array(await this.m[i]!.data());
      out[`exp_avg_sq.${i}`] = new Float32Array(await this.v[i]!.data());
    }
    return out;
  }

  /**
   * Restore a state from {@link getState}.
   * @throws GrpoError `BAD_STATE` when a key is missing or a size does not match
   */
  loadState(state: Readonly<Record<string, Float32Array>>): void {
    this.checkLive();
    const step = state['step'];
    if (step?.length !== 1 || !Number.isInteger(step[0]) || step[0]! < 0) {
      throw new GrpoError(
        'BAD_STATE',
        "optimizer state has no valid 'step' entry (a length-1 array with a non-negative integer)",
      );
    }
    const ms: tf.Tensor[] = [];
    const vs: tf.Tensor[] = [];
    try {
      this.variables.forEach((p, i) => {
        for (const [key, list] of [
          [`exp_avg.${i}`, ms],
          [`exp_avg_sq.${i}`, vs],
        ] as const) {
          const arr = state[key];
          if (!arr || arr.length !== p.size) {
            throw new GrpoError(
              'BAD_STATE',
              `optimizer state '${key}' has ${arr ? arr.length : 'no'} values, variable ${i} '${p.name}' has ${p.size}; was the state saved for this model?`,
            );
          }
          list.push(tf.keep(tf.tensor(arr, p.shape, 'float32')));
        }
      });
    } catch (e) {
      for (const t of [...ms, ...vs]) t.dispose();
      throw e;
    }
    for (const t of [...this.m, ...this.v]) t.dispose();
    this.m = ms;
    this.v = vs;
    this.step = step[0]!;
  }

  /** Free the moment tensors (not the variables). */
  dispose(): void {
    if (this.isDisposed) return;
    for (const t of [...this.m, ...this.v]) t.dispose();
    this.isDisposed = true;
  }

  private checkLive(): void {
    if (this.isDisposed) throw new GrpoError('DISPOSED', 'AdamW was disposed');
  }
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: `norm = sqrt(Σ‖g‖²)`, and when
 * `maxNorm > 0` every gradient is scaled by `min(1, maxNorm/(norm + 1e-6))`.
 * @param grads gradients (not disposed)
 * @returns new clipped gradients and the norm before clipping (caller disposes all)
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { clipByGlobalNorm } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const { grads, norm } = clipByGlobalNorm([tf.tensor1d([3, 4]), tf.tensor1d([12])], 6.5);
 * console.log(await norm.data(), await grads[1]!.data()); // [13] [≈ 6]: scaled by 6.5 / 13
 * ```
 */
export function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm: number,
): { grads: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    if (!(maxNorm > 0)) return { grads: grads.map((g) => tf.clone(g)), norm };
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return { grads: grads.map((g) => tf.mul(g, coef)), norm };
  });
}

/**
 * Sums gradients over micro-batches. Owns its sums; call `dispose()` (or `take()`).
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { GradientAccumulator } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const acc = new GradientAccumulator();
 * acc.add([tf.tensor1d([1, 2])]); // micro-batch 1
 * acc.add([tf.tensor1d([3, 4])]); // micro-batch 2
 * const [sum] = acc.take(); // ownership passes to the caller
 * console.log(acc.count, await sum!.data()); // 0 [4, 6]
 * ```
 */
export class GradientAccumulator {
  private sums: tf.Tensor[] | null = null;
  /** Micro-batches added since the last take. */
  count = 0;

  /** Add one micro-batch's gradients (aligned with the variables; not disposed). */
  add(grads: readonly tf.Tensor[]): void {
    if (this.sums === null) {
      this.sums = grads.map((g) => tf.keep(tf.clone(g)));
    } else {
      const sums = this.sums;
      if (grads.length !== sums.length) {
        throw new GrpoError(
          'SHAPE_MISMATCH',
          `accumulator holds ${sums.length} gradients, got ${grads.length}`,
        );
      }
      this.sums = sums.map((s, i) => {
        const next = tf.keep(tf.add(s, grads[i]!));
        s.dispose();
        return next;
      });
    }
    this.count++;
  }

  /** The sums (ownership passes to the caller) and a reset. */
  take(): tf.Tensor[] {
    if (this.sums === null) throw new GrpoError('BAD_STATE', 'no gradients were accumulated');
    const s = this.sums;
    this.sums = null;
    this.count = 0;
    return s;
  }

  /** Free any held sums. */
  dispose(): void {
    for (const t of this.sums ?? []) t.dispose();
    this.sums = null;
    this.count = 0;
  }
}
