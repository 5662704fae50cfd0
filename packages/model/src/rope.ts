// Rotary position embeddings (RoPE) with Llama 3 frequency scaling, in Hugging Face's
// "rotate half" layout (the two halves of a head are the pair, not interleaved elements).
import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';

/**
 * Inverse frequencies `1 / theta^(2i/d)` for i < d/2, rescaled as in Llama 3 when
 * `rope_scaling.rope_type == 'llama3'` (Hugging Face `_compute_llama3_parameters`): wavelengths
 * longer than `original_max / low_freq_factor` are divided by `factor`, shorter than
 * `original_max / high_freq_factor` kept, and the band in between interpolated smoothly.
 * Computed in float64 on the host.
 * @returns `[d/2]` values
 */
export function ropeInverseFrequencies(
  config: Pick<LlamaConfig, 'head_dim' | 'rope_theta' | 'rope_scaling'>,
): Float64Array {
  const d = config.head_dim;
  const out = new Float64Array(d / 2);
  for (let i = 0; i < d / 2; i++) out[i] = 1 / config.rope_theta ** ((2 * i) / d);
  const rs = config.rope_scaling;
  if (!rs) return out;
  const lowWavelen = rs.original_max_position_embeddings / rs.low_freq_factor;
  const highWavelen = rs.original_max_position_embeddings / rs.high_freq_factor;
  for (let i = 0; i < out.length; i++) {
    const f = out[i]!;
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowWavelen) {
      out[i] = f / rs.factor;
    } else if (wavelen >= highWavelen) {
      const smooth =
        (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) /
        (rs.high_freq_factor - rs.low_freq_factor);
      out[i] = (1 - smooth) * (f / rs.factor) + smooth * f;
    }
  }
  return out;
}

/**
 * cos / sin tables for the given positions.
 * @param positionIds `[B,T]` int32 absolute positions
 * @param invFreq `[d/2]` float32 inverse frequencies
 * @returns cos, sin: `[B,1,T,d]` (the d/2 angles repeated twice, Hugging Face layout)
 */
export function ropeTables(
  positionIds: tf.Tensor2D,
  invFreq: tf.Tensor1D,
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  return tf.tidy(() => {
    const [b, t] = positionIds.shape;
    const pos = tf.reshape(tf.cast(positionIds, 'float32'), [b, 1, t, 1]); // [B,1,T,1]
    const half = tf.mul(pos, tf.reshape(invFreq, [1, 1, 1, -1])); // [B,1,T,d/2]
    const angles = tf.concat([half, half], 3); // [B,1,T,d]
    return { cos: tf.cos(angles) as tf.Tensor4D, sin: tf.sin(angles) as tf.Tensor4D };
  });
}

/**
 * Rotate queries or keys: `x·cos + rotate_half(x)·sin`, `rotate_half([x1, x2]) = [-x2, x1]`.
 * @param x `[B,H,T,d]`
 * @param cos `[B,1,T,d]`
 * @param sin `[B,1,T,d]`
 * @returns `[B,H,T,d]`
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const d = x.shape[3];
    const [x1, x2] = tf.split(x, [d / 2, d / 2], 3); // 2 x [B,H,T,d/2]
    const rotated = tf.concat([tf.neg(x2!), x1!], 3); // [B,H,T,d]
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  });
}
