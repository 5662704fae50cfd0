// Activation recomputation (gradient checkpointing) for one block of a forward pass: the block
// runs without keeping its intermediates, and the backward pass runs it again under a tape to get
// the gradients. Memory per block drops from all its activations to its inputs; compute grows by
// one forward of the block. Backend-independent. Leaves out recomputing across several blocks.
import * as tf from '@tensorflow/tfjs-core';

/**
 * `run(diff, consts)` whose backward pass recomputes `run` instead of keeping its intermediates.
 * Gradients flow to `diff` only (every tensor there gets one); `consts` (and any variable `run`
 * closes over that is not in `diff`) are treated as constants. `diff` and `consts` are kept until
 * the backward pass, so they may be disposed by the caller's tidy in between.
 *
 * @param run the block; must be deterministic (same inputs, same output) and return one tensor
 * @param diff tensors that need gradients (activations, biases, trainable weights)
 * @param consts tensors the block reads but does not differentiate (masks, tables, caches)
 * @returns `run(diff, consts)`
 */
export function recomputeInBackward(
  run: (diff: tf.Tensor[], consts: tf.Tensor[]) => tf.Tensor,
  diff: tf.Tensor[],
  consts: tf.Tensor[],
): tf.Tensor {
  const n = diff.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[n] as tf.GradSaveFunc;
    const inputs = args.slice(0, n) as tf.Tensor[];
    save([...inputs, ...consts]);
    return {
      value: run(inputs, consts),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = saved.slice(0, n);
        const c = saved.slice(n);
        // The block again, this time on a tape: d run(d, c) / d d, seeded with dy. tfjs 4.22's
        // engine.gradients() replaces the active tape and sets it to null when done, which would
        // break the outer backward pass still running; keep the outer tape and put it back.
        const engine = tf.engine() as unknown as { state: { activeTape: unknown } };
        const outer = engine.state.activeTape;
        try {
          return tf.grads((...xs: tf.Tensor[]) => run(xs, c))(d, dy as tf.Tensor);
        } finally {
          engine.state.activeTape = outer;
        }
      },
    };
  });
  return op(...diff);
}
