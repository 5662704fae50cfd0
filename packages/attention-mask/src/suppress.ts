// Builds AtMan's multiplicative suppression factors from suppressed key positions. Leaves out
// AtMan's conceptual (embedding-similarity) suppression.
import * as tf from '@tensorflow/tfjs-core';
import { expectInt } from './_internal/check.js';
import { AttentionMaskError } from './errors.js';

/** Options of {@link suppressionFactors}. */
export interface SuppressionOptions {
  /** Suppression strength f in [0,1]; suppressed keys get factor `1 - f` (AtMan default 0.9). */
  strength?: number;
}

/**
 * AtMan suppression factors for {@link attention}'s `suppress` option: `[B,Tk]` float32 with
 * `1 - strength` at every listed position of row b and 1 elsewhere.
 *
 * @param suppressedPositions one list of key positions (0-based, < numKeys) per batch row
 * @param numKeys Tk, the number of keys
 * @param options `strength` f (default 0.9)
 * @returns `[B,Tk]` factors, B = `suppressedPositions.length`
 * @throws AttentionMaskError `INVALID_ARGUMENT` for a position outside [0, Tk) or f outside [0,1]
 */
export function suppressionFactors(
  suppressedPositions: readonly (readonly number[])[],
  numKeys: number,
  options: SuppressionOptions = {},
): tf.Tensor2D {
  const strength = options.strength ?? 0.9;
  if (!(strength >= 0 && strength <= 1)) {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      `strength is ${strength}, expected a number in [0, 1]`,
    );
  }
  expectInt('numKeys', numKeys, 1, Number.MAX_SAFE_INTEGER);
  const rows = suppressedPositions.length;
  const values = new Float32Array(rows * numKeys).fill(1);
  suppressedPositions.forEach((positions, row) => {
    for (const j of positions) {
      expectInt(`suppressedPositions[${row}] entry`, j, 0, numKeys - 1);
      values[row * numKeys + j] = 1 - strength;
    }
  });
  return tf.tensor2d(values, [rows, numKeys], 'float32');
}
