// Shared test helpers: the cpu reference backend (with all gradients registered) and tensor reads.
import { initBackend } from '@atmanrl/attention-mask/node';
// SIMPLIFICATION: attention-mask's dist currently tree-shakes away its gradient registration
// (package.json sideEffects lists only dist/index.js), so register them here too; idempotent.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect } from 'vitest';

/** Run this file's tests on the pure-JS cpu backend. */
export function useCpuBackend(): void {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });
}

/** Nested array of a tensor, read asynchronously. */
export async function read(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Element-wise closeness with a readable failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-5,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(
        `element ${i}: got ${a}, expected ${e} (tol ${tol})\nactual   ${Array.from(actual)}\nexpected ${Array.from(expected)}`,
      );
    }
  }
}
