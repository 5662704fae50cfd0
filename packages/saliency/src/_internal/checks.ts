// Input checks shared by the public entry points.
import * as tf from '@tensorflow/tfjs-core';
import { SaliencyError } from '../errors.js';

/** Throws NO_GRADIENTS when tfjs gradients are not registered (fit and gradient baseline need them). */
export function requireGradients(where: string): void {
  for (const kernel of ['Minimum', 'Softmax', 'BatchMatMul', 'GatherV2']) {
    if (tf.getGradient(kernel) === undefined) {
      throw new SaliencyError(
        'NO_GRADIENTS',
        `${where}: no gradient is registered for tfjs kernel ${kernel}; import '@atmanrl/attention-mask' (it registers them) or call initBackend() from @atmanrl/attention-mask/node before fitting`,
      );
    }
  }
}

/** Throws BAD_OPTION unless `value` is a finite number passing `ok`. */
export function checkNumber(
  where: string,
  name: string,
  value: number,
  ok: (x: number) => boolean,
  expected: string,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new SaliencyError(
      'BAD_OPTION',
      `${where}: ${name} is ${String(value)}, expected ${expected}`,
    );
  }
}
