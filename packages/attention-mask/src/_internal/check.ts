// Boundary checks that turn bad shapes/options into AttentionMaskError with a message that names
// the argument and the expected shape.
import type * as tf from '@tensorflow/tfjs-core';
import { AttentionMaskError } from '../errors.js';

/** Throws SHAPE_MISMATCH unless `t.shape` equals `expected` (letters name the axes). */
export function expectShape(
  name: string,
  t: tf.Tensor,
  letters: readonly string[],
  expected: readonly number[],
): void {
  const ok = t.rank === expected.length && t.shape.every((s, i) => s === expected[i]);
  if (!ok) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `${name} has shape [${t.shape.join(',')}], expected [${letters.join(',')}] = [${expected.join(',')}]`,
    );
  }
}

/** Throws INVALID_ARGUMENT unless `t` is float32. */
export function expectFloat(name: string, t: tf.Tensor): void {
  if (t.dtype !== 'float32') {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      `${name} has dtype ${t.dtype}, expected float32 (cast it with tf.cast(x, 'float32'))`,
    );
  }
}

/** Throws INVALID_ARGUMENT unless `value` is an integer in [min, max]. */
export function expectInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      `${name} is ${value}, expected an integer in [${min}, ${max}]`,
    );
  }
}
