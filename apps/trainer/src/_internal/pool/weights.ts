// The weights transport of the pool: the policy's trainable variables packed, once per version,
// into one SharedArrayBuffer (one Float32Array view per variable, trainableVariables order) that
// every worker reads without a copy in transit. Never JSON. Leaves out scheduling (pool.ts).
import type { CausalLM } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { PoolError } from './errors.js';

/** A versioned snapshot of a model's trainable variables (structured-clone-able). */
export interface PackedWeights {
  version: number;
  /** All variables back to back, float32; shared, never written after packing. */
  buffer: SharedArrayBuffer;
  /** Shape of each variable, trainableVariables order. */
  shapes: number[][];
  /** Element offset of each variable in `buffer`. */
  offsets: number[];
}

/** Copies `model.trainableVariables` (one batched asynchronous read) into a new shared buffer. */
export async function packWeights(model: CausalLM, version: number): Promise<PackedWeights> {
  const vars = model.trainableVariables;
  const shapes = vars.map((v) => [...v.shape]);
  const offsets: number[] = [];
  let total = 0;
  for (const v of vars) {
    offsets.push(total);
    total += v.size;
  }
  const buffer = new SharedArrayBuffer(total * 4);
  const all = new Float32Array(buffer);
  const values = await Promise.all(vars.map((v) => v.data<'float32'>()));
  values.forEach((data, i) => {
    all.set(data, offsets[i]!);
  });
  return { version, buffer, shapes, offsets };
}

/**
 * Assigns a packed snapshot to `model.trainableVariables` (same architecture, same order).
 * @throws PoolError `WEIGHTS_MISMATCH` when the variable count or a shape differs
 */
export function assignWeights(model: CausalLM, packed: PackedWeights): void {
  const vars = model.trainableVariables;
  if (vars.length !== packed.shapes.length) {
    throw new PoolError(
      'WEIGHTS_MISMATCH',
      `weights version ${packed.version} has ${packed.shapes.length} variables, the worker's model has ${vars.length}; the pool's modelDir must hold the policy's architecture (same config.json)`,
    );
  }
  vars.forEach((v, i) => {
    const shape = packed.shapes[i]!;
    if (shape.length !== v.shape.length || shape.some((s, k) => s !== v.shape[k])) {
      throw new PoolError(
        'WEIGHTS_MISMATCH',
        `weights version ${packed.version}: variable ${i} (${v.name}) has shape [${shape}], the worker's model expects [${v.shape}]; the pool's modelDir must hold the policy's architecture`,
      );
    }
  });
  const all = new Float32Array(packed.buffer);
  vars.forEach((v, i) => {
    const start = packed.offsets[i]!;
    // slice(): a private copy, so no backend ever keeps a view onto the shared buffer.
    const values = all.slice(start, start + v.size);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
  });
}
